import Foundation
import HavenCore
import HavenDevice
import HavenHost
import HavenSodium
import Testing

/// Where the built `haven-sim` is: $HAVEN_SIM, or beside the test bundle
/// (`swift build --build-tests` puts both in the same bin folder).
func simBinary() throws -> String {
    if let path = ProcessInfo.processInfo.environment["HAVEN_SIM"] { return path }
    let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    // The xctest bundle may be a directory on some layouts.
    for _ in 0..<3 {
        let candidate = dir.appendingPathComponent("haven-sim").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    throw SimTestError("haven-sim not found next to the test bundle; build with `swift build --build-tests` or set HAVEN_SIM")
}

struct SimTestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// The repository root (for Hardware/boards and fixtures).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A folder with compiled fixture instruments, an age identity, and an image path.
final class SimDevice: @unchecked Sendable {
    static let pin = "2468"
    static let duressPIN = "1357"
    let dir: URL
    let identity = AgeIdentity.generate()
    var image: String { dir.appendingPathComponent("device.img").path }
    var secretPath: String { image + ".secret" }
    let action: String
    let extra: [String]

    init(action: String = "hide", extra: [String] = [], real: String = "dv_module") throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("haven-sim-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        self.action = action
        self.extra = extra
        for (name, file) in [(real, "real.instrument"), ("decoy_savings", "decoy.instrument")] {
            let xml = try Data(contentsOf: repositoryRoot.appendingPathComponent("Tests/Fixtures/forms/\(name).xml"))
            let bytes = try FormCompiler.compile(xml: xml, sourceName: name, limits: CompileLimits(repeatCapacity: 50))
            try Data(bytes).write(to: dir.appendingPathComponent(file))
        }
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    func arguments(headless: Bool = true, powerCutAfter: Int? = nil, scan: Bool = false) -> [String] {
        var a = ["--image", image, "--board", "sim", "--hardware", repositoryRoot.appendingPathComponent("Hardware").path,
                 "--dev-pin", Self.pin, "--dev-duress-pin", Self.duressPIN,
                 "--instrument", dir.appendingPathComponent("real.instrument").path,
                 "--decoy", dir.appendingPathComponent("decoy.instrument").path,
                 "--recipient", identity.recipient.encoded, "--dev-quick-exit", action,
                 "--dev-kdf-iterations", "1", "--dev-kdf-memory-kib", "8", "--dev-auto-lock-ms", "600000",
                 "--dev-checkpoint-every", "2"]
        if headless { a.append("--headless") }
        if let n = powerCutAfter { a += ["--power-cut-after", String(n)] }
        if scan { a.append("--debug-memory-scan") }
        return a + extra
    }

    func start(powerCutAfter: Int? = nil, scan: Bool = false) throws -> SimProcess {
        try SimProcess(arguments: arguments(powerCutAfter: powerCutAfter, scan: scan))
    }

    /// Opens the store on the image as the device would with the PIN
    /// (KEK from Argon2id(PIN) and the device secret file) and returns the
    /// finished interviews' sealed age files.
    func finishedRecords() throws -> [[UInt8]] {
        let board = try BoardProfile.load(named: "sim", hardwareDirectory: repositoryRoot.appendingPathComponent("Hardware").path)
        let file = try FileFlash(path: image, geometry: try board.geometry(), create: false)
        let flash = try ConfigLayout.split(file).store  // the store's partition (the config area is at the end)
        let secret = [UInt8](try Data(contentsOf: URL(fileURLWithPath: secretPath)))
        let header = try Superblock<FlashPartition<FileFlash>, Sodium>.inspect(flash)
        let slot = header.slots[0]
        var kek = [UInt8](repeating: 0, count: 32)
        var dataKey = [UInt8](repeating: 0, count: 32)
        try Array(Self.pin.utf8).withUnsafeBytes { p in
            try slot.salt.withUnsafeBytes { s in
                try secret.withUnsafeBytes { d in
                    try kek.withUnsafeMutableBytes { k in
                        try KeySlots<Sodium>.pinKEK(pin: p, salt: s, iterations: slot.kdfIterations,
                                                    memoryKiB: slot.kdfMemoryKiB, deviceSecret: d, kek: k)
                    }
                }
            }
        }
        try kek.withUnsafeBytes { k in
            try dataKey.withUnsafeMutableBytes { dk in try KeySlots<Sodium>.unwrap(slot, index: 0, kek: k, dataKey: dk) }
        }
        let store = try dataKey.withUnsafeBytes { try LogStore<FlashPartition<FileFlash>, Sodium>(flash: flash, dataKey: $0) }
        var cursor = try store.makeCursor()
        var records: [[UInt8]] = []
        while let entry = try store.next(&cursor) {
            guard case .record(let id, _) = entry else { continue }
            let bytes = try store.read(id)
            if bytes.first == SafetyRecordType.sealedInterview.rawValue { records.append(Array(bytes.dropFirst())) }
        }
        return records
    }
}

/// A running `haven-sim --headless` with pipes; one JSON line per event.
final class SimProcess {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    var pending = Data()
    /// The screen model printed at start.
    var first: [String: Any] = [:]

    init(arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: try simBinary())
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        if let line = try readLine(timeout: 30) { first = try Self.parse(line) }
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    static func parse(_ line: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw SimTestError("not a JSON object: \(line)")
        }
        return object
    }

    /// One line of output, or nil at end of output; throws after `timeout` seconds.
    func readLine(timeout: Double) throws -> String? {
        let fd = output.fileHandleForReading.fileDescriptor
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let nl = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[pending.startIndex..<nl], as: UTF8.self)
                pending = Data(pending[(nl + 1)...])
                return line
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw SimTestError("haven-sim did not answer within \(timeout) s") }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let n = poll(&p, 1, Int32(left * 1000))
            if n <= 0 { continue }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let got = read(fd, &buffer, buffer.count)
            if got <= 0 { return nil }
            pending.append(contentsOf: buffer[0..<got])
        }
    }

    /// Sends one event (a JSON object as a dictionary) and returns the model after it.
    @discardableResult
    func send(_ event: [String: Any]) throws -> [String: Any] {
        try sendRaw(String(decoding: try JSONSerialization.data(withJSONObject: event), as: UTF8.self))
    }

    @discardableResult
    func sendRaw(_ line: String) throws -> [String: Any] {
        try input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
        guard let reply = try readLine(timeout: 30) else {
            throw SimTestError("haven-sim ended (status \(waitStatus()))")
        }
        return try Self.parse(reply)
    }

    func event(_ type: String, _ fields: [String: Any] = [:]) throws -> [String: Any] {
        var e = fields
        e["type"] = type
        return try send(e)
    }

    /// Sends without waiting for a reply (for power cuts that end the process).
    func post(_ event: [String: Any]) {
        let data = (try? JSONSerialization.data(withJSONObject: event)) ?? Data()
        try? input.fileHandleForWriting.write(contentsOf: data + Data([0x0A]))
    }

    /// Closes stdin and waits for the exit status.
    func finish() -> Int32 {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        return process.terminationStatus
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func waitStatus() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Every string anywhere in a model (labels, answers, choices, titles).
    static func strings(_ value: Any) -> [String] {
        switch value {
        case let s as String: return [s]
        case let d as [String: Any]: return d.values.flatMap { strings($0) }
        case let a as [Any]: return a.flatMap { strings($0) }
        default: return []
        }
    }
}

func kind(_ m: [String: Any]) -> String { m["kind"] as? String ?? "?" }
func label(_ m: [String: Any]) -> String { m["label"] as? String ?? "" }

func hex(_ s: String) -> String { s.utf8.map { String(format: "%02x", $0) }.joined() }

/// Drives dv_module from the lock screen to the respondent-code screen,
/// typing `code` there (not yet moving on). Returns the model.
@discardableResult
func unlockAndAnswerUpToCode(_ sim: SimProcess, code: String) throws -> [String: Any] {
    #expect(kind(try sim.event("pin", ["value": SimDevice.pin])) == "home")
    #expect(kind(try sim.event("start")) == "note")
    #expect(label(try sim.event("next")) == "Do you agree to take part in this interview?")
    try sim.event("answer", ["value": "yes"])
    #expect(label(try sim.event("next")) == "Survey round")
    #expect(label(try sim.event("next")) == "How old are you?")
    try sim.event("answer", ["value": 34])
    #expect(kind(try sim.event("next")) == "note")
    try sim.event("next")
    try sim.event("select", ["index": 1])
    try sim.event("next")
    try sim.event("answer", ["value": "3"])
    let m = try sim.event("next")
    #expect(label(m) == "Respondent code")
    let typed = try sim.event("answer", ["value": code])
    #expect(typed["answer"] as? String == code)
    return typed
}
