import ArgumentParser
import Foundation
import HavenHost

/// How a command picks its devices: `--device` addresses, or every
/// attached one (running simulators in the simulator folder, then USB).
struct DeviceSelection: ParsableArguments {
    @Option(name: .customLong("device"),
            help: "A device: sim:/path/to.sock, usb:SERIAL or usb:BUS/ADDRESS (repeatable; default: every attached device).")
    var devices: [String] = []

    @Option(help: "Folder where simulators' sockets are looked for (default: $HAVEN_SIM_DIR, $XDG_RUNTIME_DIR/haven-sim or /tmp/haven-sim-UID).")
    var simDir: String?

    @Option(help: "Milliseconds to wait for each answer from a device.")
    var timeout: Int = 10_000

    func addresses() throws -> [DeviceAddress] {
        if !devices.isEmpty {
            return try devices.map { text in
                do { return try DeviceAddress(parsing: text) } catch { throw ValidationError("\(error)") }
            }
        }
        let found = DeviceAddress.attached(simulatorDirectory: simDir ?? DeviceAddress.simulatorDirectory)
        for (name, problem) in found.usbProblems {
            FileHandle.standardError.write(Data("haven: \(name): \(problem)\n".utf8))
        }
        guard !found.addresses.isEmpty else {
            throw CommandFailure("no Haven device attached (no USB device \(USBDeviceFinder().idText), no simulator socket in \(simDir ?? DeviceAddress.simulatorDirectory)); give one with --device")
        }
        return found.addresses
    }
}

/// Options shared by the commands that write the ledger.
struct LedgerOptions: ParsableArguments {
    @Option(help: "Ledger file (default ./haven-ledger.sqlite or $HAVEN_LEDGER).")
    var ledger: String?

    @Option(name: .customLong("operator"), help: "Who is operating the pull station (default: $USER).")
    var operatorName: String?

    var resolvedOperator: String { operatorName ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown" }

    func open() throws -> Ledger {
        let path = LedgerLocation.path(ledger)
        do { return try Ledger(path: path) } catch { throw CommandFailure("cannot open the ledger '\(path)': \(error)") }
    }
}

enum ProvisioningKeyFile {
    static func load(_ path: String) throws -> ProvisioningKey {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CommandFailure("cannot read the provisioning key '\(path)': no such file or not readable")
        }
        do { return try ProvisioningKey(parsingSecretFile: text) } catch { throw CommandFailure("\(path): \(error)") }
    }
}

/// Runs `body` for every device at once (each on its own thread and
/// connection) and returns the results in the order given.
func forEachDevice<T: Sendable>(_ addresses: [DeviceAddress],
                                _ body: @escaping @Sendable (DeviceAddress) -> T) -> [T] {
    let results = ResultBox<T>(count: addresses.count)
    DispatchQueue.concurrentPerform(iterations: addresses.count) { i in
        results.set(i, body(addresses[i]))
    }
    return results.values()
}

final class ResultBox<T>: @unchecked Sendable {
    private var items: [T?]
    private let lock = NSLock()
    init(count: Int) { items = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: T) { lock.lock(); items[i] = v; lock.unlock() }
    func values() -> [T] { lock.lock(); defer { lock.unlock() }; return items.map { $0! } }
}

/// One progress line per device on a terminal, rewritten in place; plain
/// lines otherwise.
final class ProgressLines: @unchecked Sendable {
    private let lock = NSLock()
    private let names: [String]
    private var texts: [String]
    private let tty = isatty(1) != 0
    private var drawn = false

    init(names: [String]) {
        self.names = names
        texts = Array(repeating: "waiting", count: names.count)
    }

    func update(_ i: Int, _ text: String, final: Bool = false) {
        lock.lock(); defer { lock.unlock() }
        texts[i] = text
        if tty {
            if drawn { print("\u{1B}[\(names.count)A", terminator: "") }
            let width = names.map(\.count).max() ?? 0
            for (n, t) in zip(names, texts) {
                print("\u{1B}[2K" + n.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + t)
            }
            drawn = true
        } else if final {
            print("\(names[i]): \(text)")
        }
        fflush(nil)
    }
}

func bar(_ done: Int, _ total: Int, width: Int = 24) -> String {
    let filled = total == 0 ? width : min(width, done * width / max(total, 1))
    return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
}
