import Foundation
import HavenCore
import HavenDevice
import HavenHost
import HavenSodium
import Testing

/// A simulated tablet set up the way the field does it: keys, a signed
/// config built from a config file, `haven-sim --socket` started with no
/// development options (unprovisioned), provisioned over the link.
final class LinkedDevice: @unchecked Sendable {
    static let pin = "2468"
    static let duressPIN = "1357"
    let dir: URL
    let identity = AgeIdentity.generate()
    let signer = ProvisioningKey.generate()
    var image: String { dir.appendingPathComponent("tablet.img").path }
    var socket: String { dir.appendingPathComponent("tablet.sock").path }
    var hardware: String { repositoryRoot.appendingPathComponent("Hardware").path }

    init() throws {
        dir = URL(fileURLWithPath: "/tmp").appendingPathComponent("haven-e2e-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in ["dv_module", "decoy_savings"] {
            let xml = try Data(contentsOf: repositoryRoot.appendingPathComponent("Tests/Fixtures/forms/\(name).xml"))
            try Data(try FormCompiler.compile(xml: xml, sourceName: name, limits: CompileLimits(repeatCapacity: 50)))
                .write(to: dir.appendingPathComponent(name + ".instrument"))
        }
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// A signed bundle (cheap Argon2id: tests are not about KDF cost).
    func bundle(version: Int, pin: String = LinkedDevice.pin, key: ProvisioningKey? = nil) throws -> [UInt8] {
        let json = """
            {"version": \(version), "board": "sim", "devices": [{"name": "e2e tablet"}],
             "instrument": "dv_module.instrument", "decoy": "decoy_savings.instrument",
             "recipients": ["\(identity.recipient.encoded)"],
             "pins": {"enumerator": ["\(pin)"], "duress": "\(Self.duressPIN)"},
             "lock": {"maxFailures": 10, "backoffSeconds": [0], "showAttemptsLeft": false, "autoLockSeconds": 600},
             "quickExit": {"action": "hide", "onScreenControl": true,
                           "button": {"code": 114, "presses": 3, "withinMilliseconds": 1500}, "chord": [], "decoyScreensIn": 2},
             "checkpointEveryAnswers": 1}
            """
        let file = try ConfigFile.decode(Data(json.utf8))
        let board = try BoardProfile.load(named: "sim", hardwareDirectory: hardware)
        return try ConfigBuilder.build(file, baseDirectory: dir, key: key ?? signer,
                                       kdf: KDFCost(iterations: 1, memoryKiB: 8), board: board).bundle
    }

    func start() throws -> SimProcess {
        let sim = try SimProcess(arguments: ["--image", image, "--board", "sim", "--hardware", hardware,
                                             "--headless", "--socket", socket])
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: socket) && Date() < deadline { usleep(10_000) }
        return sim
    }

    func client(timeout: Int = 10_000) throws -> LinkClient {
        LinkClient(transport: try SocketTransport(path: socket), timeoutMilliseconds: timeout)
    }

    func provision(version: Int = 1) throws {
        _ = try Provisioner(bundle: try bundle(version: version), keyPair: signer.keyPair, ledger: nil, operatorName: "test")
            .provision(client: try client())
    }

    /// From the lock screen (or the home / finished screen) through a whole
    /// dv_module interview to finalize. Returns what was typed.
    @discardableResult
    func interview(_ sim: SimProcess, code: String, age: Int) throws -> [String] {
        var m = try sim.event("screen")
        if kind(m) == "lock" { m = try sim.event("pin", ["value": Self.pin]) }
        if kind(m) == "finished" { m = try sim.event("home") }
        guard kind(m) == "home" else { throw SimTestError("expected home, got \(kind(m)) \(m["error"] ?? "")") }
        m = try sim.event("start")
        let answers: [Any] = ["yes", age, "married", 2, code, "2024-06-10"]
        var i = 0
        while i < answers.count {
            m = try sim.event("next")
            if kind(m) == "note" || (m["readonly"] as? Bool ?? false) { continue }
            guard kind(m) == "question" else { throw SimTestError("expected a question, got \(kind(m))") }
            m = try sim.event("answer", ["value": answers[i]])
            i += 1
        }
        m = try sim.event("next")
        guard kind(m) == "privacy-check" else { throw SimTestError("expected the privacy check, got \(kind(m))") }
        m = try sim.event("yes")
        m = try sim.event("answer", ["value": "no"])
        while kind(m) != "review" {
            m = try sim.event("next")
            guard kind(m) != "lock" else { throw SimTestError("locked mid-interview") }
        }
        m = try sim.event("finalize")
        guard kind(m) == "finished" else { throw SimTestError("finalize gave \(kind(m)) \(m["error"] ?? "")") }
        return ["yes", String(age), "married", "2", code]
    }
}

/// A transport that stops after `limit` bytes have been read: the host is
/// killed (`onCut` nil: it throws, as a dead process would stop) or the
/// device loses power (`onCut` kills the simulator) in the middle of a pull.
final class CuttingTransport: LinkTransport {
    let inner: any LinkTransport
    var remaining: Int
    let onCut: (() -> Void)?
    var name: String { inner.name }

    init(_ inner: any LinkTransport, afterBytes: Int, onCut: (() -> Void)? = nil) {
        self.inner = inner
        remaining = afterBytes
        self.onCut = onCut
    }

    func write(_ bytes: UnsafeRawBufferPointer, timeoutMilliseconds: Int) throws(TransportError) {
        try inner.write(bytes, timeoutMilliseconds: timeoutMilliseconds)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, timeoutMilliseconds: Int) throws(TransportError) -> Int {
        if remaining <= 0 {
            if let onCut { onCut() } else { throw .disconnected("host killed (test)") }
        }
        let n = try inner.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<max(1, min(buffer.count, remaining))]),
                               timeoutMilliseconds: timeoutMilliseconds)
        remaining -= n
        return n
    }

    func close() { inner.close() }
}

/// Runs a program to its end; its status and standard output.
func runTool(_ path: String, _ arguments: [String]) throws -> (status: Int32, stdout: [UInt8]) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, [UInt8](data))
}
