import ArgumentParser
import Foundation
import HavenCore
import HavenHost

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open pulled records with the research team's identity and write CSV and JSON lines.",
        discussion: """
            Reads every *.age file in the pull folder (plain age v1 files, as `haven pull` \
            writes them; `age -d -i IDENTITY FILE` opens them too), decrypts them with the \
            research team's identity and writes, per form: FORM.csv (one row per interview), \
            FORM-REPEAT.csv per repeat (linked by PARENT_KEY → KEY, as ODK Central exports), \
            and FORM.jsonl (one JSON object per interview). Column names are group paths \
            joined with '-'; select_multiple answers are space-separated values.

            Nothing is written if any file cannot be opened: the error lists every bad file.
            The output is plaintext: write it only to an encrypted disk at headquarters.

            Examples:
              haven export --identity team.agekey --instrument dv_module.instrument pulled/ -o export/
              haven export --identity team.agekey --config fleet.havencfg pulled/ -o export/
            """
    )

    @Option(name: .shortAndLong, help: "The research team's age identity file (AGE-SECRET-KEY-1…); repeatable.")
    var identity: [String]

    @Option(help: "A compiled instrument (.instrument) of the forms to export; repeatable.")
    var instrument: [String] = []

    @Option(help: "A config bundle whose instruments to use (instead of, or besides, --instrument).")
    var config: [String] = []

    @Argument(help: "Folder of pulled .age files (or single .age files).")
    var input: [String]

    @Option(name: .shortAndLong, help: "Output folder.")
    var output: String = "export"

    @Flag(help: "Prefix a ' to text a spreadsheet would run as a formula (changes the data: off by default).")
    var excelSafe = false

    func run() throws {
        guard !identity.isEmpty else { throw ValidationError("give the research team's identity with --identity FILE") }
        let identities = try identity.flatMap(Self.readIdentities)
        var instruments = try instrument.map(Self.readInstrument)
        for path in config { instruments += try ConfigInstruments.load(path) }
        guard !instruments.isEmpty else {
            throw ValidationError("give the forms' instruments with --instrument FILE or --config BUNDLE")
        }
        var files: [(name: String, bytes: [UInt8])] = []
        for path in input {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw CommandFailure("'\(path)': no such file or folder")
            }
            let paths: [String]
            if isDirectory.boolValue {
                paths = try FileManager.default.contentsOfDirectory(atPath: path)
                    .filter { $0.hasSuffix(".age") }.sorted().map { path + "/" + $0 }
            } else {
                paths = [path]
            }
            for p in paths {
                guard let data = FileManager.default.contents(atPath: p) else { throw CommandFailure("cannot read '\(p)'") }
                files.append((URL(fileURLWithPath: p).lastPathComponent, [UInt8](data)))
            }
        }
        guard !files.isEmpty else { throw CommandFailure("no .age files in \(input.joined(separator: ", "))") }
        var exporter = Exporter(identities: identities, instruments: instruments)
        exporter.excelSafe = excelSafe
        let summary: Exporter.Summary
        do {
            summary = try exporter.export(files: files, to: URL(fileURLWithPath: output))
        } catch {
            throw CommandFailure("\(error)")
        }
        for (form, n) in summary.records.sorted(by: { $0.key < $1.key }) {
            print("\(form): \(n) interview\(n == 1 ? "" : "s")")
        }
        for d in summary.duplicates { print("skipped duplicate: \(d)") }
        print("wrote \(summary.filesWritten.map { output + "/" + $0 }.joined(separator: ", "))")
    }

    /// Every identity in the file, as `age -i` reads it (KeyFiles).
    static func readIdentities(_ path: String) throws -> [AgeIdentity] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CommandFailure("cannot read identity file '\(path)'")
        }
        do { return try KeyFiles.parseAgeIdentityFile(text) } catch { throw CommandFailure("\(path): \(error)") }
    }

    static func readInstrument(_ path: String) throws -> Instrument {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandFailure("cannot read instrument '\(path)'")
        }
        do { return try Instrument(bytes: [UInt8](data)) } catch {
            throw CommandFailure("\(path): \(error)")
        }
    }
}

/// The real instrument of a config bundle (`haven config build` output) or
/// of a bare signed config blob. The decoy is left out: its answers never
/// leave the device.
enum ConfigInstruments {
    static func load(_ path: String) throws -> [Instrument] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandFailure("cannot read config '\(path)'")
        }
        let bytes = [UInt8](data)
        do {
            let config = try bytes.withUnsafeBytes { raw throws(ConfigFormatError) -> DeviceConfig in
                let blob = (try? ConfigBundle.split(raw))?.config ?? raw
                return try DeviceConfig.decode(blob)
            }
            return [try Instrument(bytes: config.instrument)]
        } catch {
            throw CommandFailure("\(path): \(error)")
        }
    }
}
