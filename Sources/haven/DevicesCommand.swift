import ArgumentParser
import Foundation
import HavenHost

struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List attached Haven devices and running simulators with what they report.",
        discussion: """
            Asks each device to identify itself (this needs no key): device id, board, \
            firmware, config version, free space and finished records waiting (a locked \
            device does not say how many).

            Examples:
              haven devices
              haven devices --device sim:/tmp/haven-sim-1000/tablet.sock --json
            """
    )

    @OptionGroup var selection: DeviceSelection

    @Flag(help: "One JSON object per line.")
    var json = false

    struct Row: Codable, Sendable {
        var address: String
        var deviceId: String?
        var board: String?
        var firmware: String?
        var provisioned: Bool?
        var configVersion: UInt64?
        var locked: Bool?
        var freeBytes: UInt64?
        var recordsWaiting: UInt32?
        var error: String?
    }

    func run() throws {
        let addresses = try selection.addresses()
        let timeout = selection.timeout
        let rows = forEachDevice(addresses) { address -> Row in
            var row = Row(address: address.description)
            do {
                let client = LinkClient(transport: try address.open(), timeoutMilliseconds: timeout)
                defer { client.close() }
                let id = try client.identify()
                row.deviceId = id.deviceIDHex
                row.board = id.boardName
                row.firmware = id.firmwareVersion
                row.provisioned = id.isProvisioned
                row.configVersion = id.configVersion
                row.locked = id.storeState != .available
                if id.storeState == .available {
                    row.freeBytes = id.freeBytes
                    row.recordsWaiting = id.recordsWaiting
                }
            } catch {
                row.error = "\(error)"
            }
            return row
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            for row in rows { print(String(decoding: try encoder.encode(row), as: UTF8.self)) }
        } else {
            var table = [["device", "id", "board", "firmware", "config", "state", "free", "waiting"]]
            for r in rows {
                if let e = r.error {
                    table.append([r.address, "-", "-", "-", "-", "error: " + e, "", ""])
                    continue
                }
                table.append([r.address, String(r.deviceId?.prefix(12) ?? ""), r.board ?? "", r.firmware ?? "",
                              r.provisioned == true ? "v\(r.configVersion ?? 0)" : "unprovisioned",
                              r.locked == true ? "locked" : "unlocked",
                              r.freeBytes.map { "\($0 / 1024) KiB" } ?? "-",
                              r.recordsWaiting.map(String.init) ?? "-"])
            }
            print(TextTable.render(table))
        }
        if rows.contains(where: { $0.error != nil }) { throw ExitCode(1) }
    }
}
