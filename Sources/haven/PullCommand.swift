import ArgumentParser
import Foundation
import HavenHost

struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pull new sealed records from one or all devices into a folder.",
        discussion: """
            Each finished interview is written as <record id>.age, a plain age v1 file \
            sealed to the research team (this station cannot read it), checked against \
            the SHA-256 the device lists, fsync'd and entered in the ledger; only then \
            is it acknowledged so the device may reclaim its space. An interrupted pull \
            loses nothing: pull again and every record arrives exactly once. The \
            enumerator must unlock the device first (records are encrypted at rest).

            Examples:
              haven pull --key keys/provisioning.key -o pulled/
              haven pull --key keys/provisioning.key --device sim:/tmp/haven-sim-1000/tablet.sock -o pulled/
            """
    )

    @Option(help: "The provisioning key file (from `haven keygen`).")
    var key: String

    @Option(name: .shortAndLong, help: "Folder for the .age files.")
    var output: String = "pulled"

    @OptionGroup var selection: DeviceSelection
    @OptionGroup var ledgerOptions: LedgerOptions

    @Flag(help: "One JSON object per device instead of a table.")
    var json = false

    struct Row: Codable, Sendable {
        var address: String
        var deviceId: String?
        var pulled: [String] = []
        var alreadyHad: [String] = []
        var acknowledged = 0
        var bytes = 0
        var corrupt: [String] = []
        var error: String?
    }

    func run() throws {
        let signer = try ProvisioningKeyFile.load(key)
        let ledger = try ledgerOptions.open()
        let puller = Puller(folder: URL(fileURLWithPath: output), ledger: ledger,
                            operatorName: ledgerOptions.resolvedOperator, keyPair: signer.keyPair)
        let addresses = try selection.addresses()
        let timeout = selection.timeout
        let lines = ProgressLines(names: addresses.map(\.description))
        let rows = forEachDevice(addresses) { address -> Row in
            let i = addresses.firstIndex(of: address)!
            var row = Row(address: address.description)
            do {
                let client = LinkClient(transport: try address.open(), timeoutMilliseconds: timeout)
                defer { client.close() }
                let s = try puller.pull(client: client) { p in
                    lines.update(i, "\(bar(p.bytesDone, p.bytesTotal)) \(p.recordsDone)/\(p.recordsTotal) records, \(p.bytesDone / 1024) KiB")
                }
                row.deviceId = s.device
                row.pulled = s.pulled
                row.alreadyHad = s.alreadyHad
                row.acknowledged = s.acknowledged
                row.bytes = s.bytes
                row.corrupt = s.corrupt
                lines.update(i, "done: \(s.pulled.count) new, \(s.alreadyHad.count) already here", final: true)
            } catch {
                row.error = "\(error)"
                lines.update(i, "FAILED: \(error)", final: true)
            }
            return row
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            for row in rows { print(String(decoding: try encoder.encode(row), as: UTF8.self)) }
        } else {
            print("")
            var table = [["device", "id", "new", "already here", "acknowledged", "bytes", "problems"]]
            for r in rows {
                table.append([r.address, String(r.deviceId?.prefix(12) ?? "-"), String(r.pulled.count),
                              String(r.alreadyHad.count), String(r.acknowledged), String(r.bytes),
                              r.error ?? (r.corrupt.isEmpty ? "" : "\(r.corrupt.count) corrupt on device: \(r.corrupt.joined(separator: ", "))")])
            }
            print(TextTable.render(table))
            print("records in \(output)/; ledger \(LedgerLocation.path(ledgerOptions.ledger))")
        }
        if rows.contains(where: { $0.error != nil }) { throw ExitCode(1) }
    }
}
