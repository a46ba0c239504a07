import ArgumentParser
import Foundation
import HavenHost

/// Where the pull station keeps its ledger unless told otherwise.
enum LedgerLocation {
    static func path(_ option: String?) -> String {
        option ?? ProcessInfo.processInfo.environment["HAVEN_LEDGER"] ?? "haven-ledger.sqlite"
    }
}

struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Show the pull station's chain of custody: every provision and every pulled record.",
        discussion: """
            The ledger is a SQLite file (default ./haven-ledger.sqlite, or $HAVEN_LEDGER) that \
            `haven provision` and `haven pull` append to: device, config version, record ids \
            and SHA-256 of each sealed file, time and operator. It holds no keys and no answers.

            Examples:
              haven ledger
              haven ledger --device field-07 --json
            """
    )

    @Option(help: "Ledger file (default ./haven-ledger.sqlite or $HAVEN_LEDGER).")
    var ledger: String?

    @Option(help: "Only this device (id or name).")
    var device: String?

    @Flag(help: "One JSON object per line instead of a table.")
    var json = false

    func run() throws {
        let path = LedgerLocation.path(ledger)
        guard FileManager.default.fileExists(atPath: path) else {
            throw CommandFailure("no ledger at '\(path)' (nothing provisioned or pulled here yet; --ledger FILE to pick another)")
        }
        let events = try Ledger(path: path).events(device: device)
        if json {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.sortedKeys]
            for e in events { print(String(decoding: try encoder.encode(e), as: UTF8.self)) }
            return
        }
        let formatter = ISO8601DateFormatter()
        var rows: [[String]] = [["time", "event", "device", "operator", "what", "sha256"]]
        for e in events {
            let what: String
            switch e.kind {
            case .provision: what = "config v\(e.configVersion ?? 0): \(e.result)"
            case .pull: what = "\(e.record ?? "") (\(e.bytes ?? 0) bytes) → \(e.file ?? "")"
            }
            rows.append([formatter.string(from: e.time), e.kind.rawValue, e.deviceName ?? e.device,
                         e.operatorName, what, String(e.sha256.prefix(16))])
        }
        print(TextTable.render(rows))
        print("\(events.count) event\(events.count == 1 ? "" : "s") in \(path)")
    }
}
