// Exporter: sealed records in a folder → CSV tables and JSON lines, with the
// research team's identity.

import Foundation
import HavenCore

/// Opens every `*.age` file of a pull folder with the research team's
/// identities, reads the answer records, and writes per form:
/// `<form id>.csv`, one `<form id>-<repeat>.csv` per repeat, and
/// `<form id>.jsonl` (Docs/export-format.md).
///
/// All or nothing: if any file cannot be opened or does not match its
/// instrument, nothing is written and the error names every bad file, so a
/// partial export is never mistaken for a complete one.
public struct Exporter {
    public struct Summary: Sendable {
        /// Records exported per form id.
        public var records: [String: Int] = [:]
        /// Same instance seen in more than one file: exported once.
        public var duplicates: [String] = []
        public var filesWritten: [String] = []
    }

    public let identities: [AgeIdentity]
    public let instruments: [Instrument]
    public var excelSafe = false

    public init(identities: [AgeIdentity], instruments: [Instrument]) {
        self.identities = identities
        self.instruments = instruments
    }

    /// Exports the sealed files (already read from disk) into `outputDirectory`.
    public func export(files: [(name: String, bytes: [UInt8])], to outputDirectory: URL) throws -> Summary {
        let schemas = instruments.map(ExportSchema.init(instrument:))
        var tables: [String: ExportTables] = [:]
        var order: [String] = []
        var problems: [String] = []
        var summary = Summary()

        for file in files.sorted(by: { $0.name < $1.name }) {
            var plaintext: [UInt8]
            do {
                plaintext = try AgeFile.decrypt(file.bytes, identities: identities)
            } catch {
                problems.append("\(file.name): \(error)")
                continue
            }
            defer { plaintext.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
            do {
                let record = try AnswerRecord(bytes: plaintext)
                let key = "\(record.formID)\u{0}\(record.formVersion)"
                if tables[key] == nil {
                    guard let schema = schemas.first(where: {
                        $0.formID == record.formID && $0.formVersion == record.formVersion
                    }) else {
                        throw ExportError.noInstrument(form: "\(record.formID) version \(record.formVersion)")
                    }
                    tables[key] = ExportTables(schema: schema)
                    order.append(key)
                }
                if try tables[key]!.add(record) {
                    summary.records[record.formID, default: 0] += 1
                } else {
                    summary.duplicates.append("\(file.name) (\(record.instanceID))")
                }
            } catch {
                problems.append("\(file.name): \(error)")
            }
        }
        guard problems.isEmpty else { throw ExportFailure(problems: problems) }

        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        for key in order {
            let t = tables[key]!
            for (i, table) in t.schema.tables.enumerated() {
                let name = Self.safeFileName(table.name) + ".csv"
                try Data(t.csv(table: i, excelSafe: excelSafe).utf8)
                    .write(to: outputDirectory.appendingPathComponent(name), options: .atomic)
                summary.filesWritten.append(name)
            }
            let jsonName = Self.safeFileName(t.schema.formID) + ".jsonl"
            try Data(t.jsonLines.map { $0 + "\n" }.joined().utf8)
                .write(to: outputDirectory.appendingPathComponent(jsonName), options: .atomic)
            summary.filesWritten.append(jsonName)
        }
        return summary
    }

    /// Form ids come from the instrument: keep file names to a safe set.
    static func safeFileName(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
            .replacingOccurrences(of: "..", with: "_")
    }
}

/// Every file an export could not use, one per line.
public struct ExportFailure: Error, CustomStringConvertible {
    public var problems: [String]
    public var description: String {
        "nothing was exported; \(problems.count) file(s) could not be used:\n  " + problems.joined(separator: "\n  ")
    }
}
