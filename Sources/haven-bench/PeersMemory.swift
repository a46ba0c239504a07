import Foundation
import HavenCore
import HavenDevice
import HavenHost
import HavenSodium

#if canImport(Glibc)
import Glibc
#endif

/// Peak RSS of `haven-sim` through a 500-question interview.
struct SimRSS {
    var questionsAnswered: Int
    var screens: Int
    /// VmHWM (kB) right after start (lock screen), after unlock, after finalize.
    var atStart: Int
    var afterUnlock: Int
    var afterInterview: Int
    var kdfMemoryKiB: Int
}

/// The core's heap for one board, measured as live heap growth (glibc
/// `mallinfo2().uordblks`) around each part the device allocates once.
struct StaticRAM {
    var board: String
    var parts: [(String, Int)]
    var kdfKiB: Int
    var total: Int { parts.reduce(0) { $0 + $1.1 } }
}

enum PeerMemory {
    /// glibc's `mallinfo2()`: in-use bytes from the arenas (`uordblks`)
    /// plus mmapped chunks (`hblkhd`; big buffers such as the store's
    /// block scratch). malloc.h is not in Swift's Glibc module, so it is
    /// looked up with dlsym and called with the x86-64 SysV convention for
    /// a struct returned in memory (hidden pointer in the first register).
    static func liveHeap() -> Int {
        #if arch(x86_64)
        typealias MallInfo2 = @convention(c) (UnsafeMutableRawPointer) -> UnsafeMutableRawPointer
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallinfo2") else { return 0 }
        var fields = [Int](repeating: 0, count: 10)
        _ = fields.withUnsafeMutableBytes { unsafeBitCast(symbol, to: MallInfo2.self)($0.baseAddress!) }
        return fields[7] + fields[4]
        #else
        return 0
        #endif
    }

    /// Starts `haven-sim --headless` (development set-up, cheap Argon2id so
    /// that the KDF's 64 MiB does not hide the interview) on large_500 and
    /// answers every question; reads VmHWM from /proc/<pid>/status.
    static func simPeakRSS(fixtures: String, hardware: String, temporary: TemporaryFiles) throws -> SimRSS {
        let dir = temporary.path("peers-sim")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, file) in [("large_500", "real.instrument"), ("decoy_savings", "decoy.instrument")] {
            let xml = try Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/\(name).xml"))
            let bytes = try FormCompiler.compile(xml: xml, sourceName: name, limits: CompileLimits(repeatCapacity: 50))
            try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/\(file)"))
        }
        let sim = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            .deletingLastPathComponent().appendingPathComponent("haven-sim").path
        let child = try LineProcess(executable: sim, arguments: [
            "--image", dir + "/device.img", "--board", "sim", "--hardware", hardware, "--headless",
            "--dev-pin", "2468", "--instrument", dir + "/real.instrument", "--decoy", dir + "/decoy.instrument",
            "--recipient", AgeIdentity.generate().recipient.encoded, "--dev-kdf-iterations", "1",
            "--dev-kdf-memory-kib", "8", "--dev-auto-lock-ms", "0", "--dev-checkpoint-every", "5",
        ])
        defer { child.close() }
        func event(_ json: String) throws -> [String: Any] {
            try child.send(json)
            guard let line = try child.readLine(),
                  let m = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw BenchError.failed("haven-sim stopped answering")
            }
            return m
        }
        guard try child.readLine() != nil else { throw BenchError.failed("haven-sim did not start") }
        let pid = String(child.pid)
        let atStart = vmHWM(pid)
        var m = try event(#"{"type":"pin","value":"2468"}"#)
        let afterUnlock = vmHWM(pid)
        m = try event(#"{"type":"start"}"#)
        var answered = 0, screens = 0
        while (m["kind"] as? String) != "review" {
            screens += 1
            guard screens < 5000 else { throw BenchError.failed("large_500 did not reach review") }
            let kind = m["kind"] as? String ?? ""
            switch kind {
            case "question" where !(m["readonly"] as? Bool ?? false):
                let answer: String
                switch m["input"] as? String ?? "" {
                case "integer": answer = #"{"type":"answer","value":7}"#
                case "decimal": answer = #"{"type":"answer","value":1.5}"#
                case "date": answer = #"{"type":"answer","value":"2020-01-01"}"#
                case "select_one", "select_multiple": answer = #"{"type":"select","index":0}"#
                default: answer = #"{"type":"answer","value":"a short answer"}"#
                }
                _ = try event(answer)
                answered += 1
                m = try event(#"{"type":"next"}"#)
            case "privacy-check": m = try event(#"{"type":"yes"}"#)
            case "repeat-prompt": m = try event(#"{"type":"no"}"#)
            case "lock": throw BenchError.failed("haven-sim locked during large_500")
            default: m = try event(#"{"type":"next"}"#)
            }
        }
        m = try event(#"{"type":"finalize"}"#)
        guard (m["kind"] as? String) == "finished" else { throw BenchError.failed("large_500: finalize refused") }
        return SimRSS(questionsAnswered: answered, screens: screens, atStart: atStart, afterUnlock: afterUnlock,
                      afterInterview: vmHWM(pid), kdfMemoryKiB: 8)
    }

    static func vmHWM(_ pid: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
        return 0
    }

    /// What the device allocates once, for `board`: the two instruments
    /// (dv_module and decoy_savings compiled with the board's repeat
    /// capacity), the controller (both engines at `EngineLimits.standard`, as
    /// DeviceRuntime makes them, plus SafetyMemory: keys, device secret,
    /// record and plaintext buffers), and the log store mounted on unlock
    /// (keys and one erase block of scratch) on a flash of the board's geometry.
    static func staticRAM(board: BoardProfile, fixtures: String) throws -> StaticRAM {
        var instruments: [Instrument] = []
        var bytes: [[UInt8]] = []
        for name in ["dv_module", "decoy_savings"] {
            let xml = try Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/\(name).xml"))
            bytes.append(try FormCompiler.compile(xml: xml, sourceName: name,
                                                  limits: CompileLimits(repeatCapacity: board.repeatCapacity)))
        }
        let geometry = try board.geometry()
        let flash = RAMFlash(geometry: geometry)
        try StoreFixture.format(flash)
        var parts: [(String, Int)] = []
        var before = liveHeap()
        for b in bytes { instruments.append(try Instrument(bytes: b)) }
        parts.append(("instruments (dv_module \(bytes[0].count) B + decoy \(bytes[1].count) B, copied)", liveHeap() - before))
        let secret = [UInt8](repeating: 7, count: 32)
        let policy = SafetyPolicy(recipients: [UInt8](repeating: 9, count: 32))
        before = liveHeap()
        let controller = try secret.withUnsafeBytes {
            try SafetyController<RAMFlash, Sodium, BenchClock>(flash: flash, policy: policy, deviceSecret: $0,
                                                                instrument: instruments[0], decoy: instruments[1],
                                                                clock: BenchClock())
        }
        parts.append(("SafetyController: 2 engines (EngineLimits.standard) + SafetyMemory", liveHeap() - before))
        before = liveHeap()
        let store = try StoreFixture.mount(flash)
        parts.append(("LogStore mounted (\(geometry.eraseBlockSize / 1024) KiB block scratch, keys, index)", liveHeap() - before))
        withExtendedLifetime(controller) { store.close() }
        return StaticRAM(board: board.name, parts: parts, kdfKiB: board.kdf.argon2MemoryKiB)
    }
}

/// Text and data of HavenCore built as Embedded Swift for armv7em, -Osize,
/// the same command as Tools/embedded-check, measured with llvm-size.
struct PeerCodeSize {
    var text: Int
    var data: Int
    var bss: Int
    var sizeTool: String
    var specialisedText: Int
    var specialisedData: Int

    static func measure(temporary: TemporaryFiles) throws -> PeerCodeSize {
        let swiftc = ["/opt/swift/usr/bin/swiftc", "/usr/bin/swiftc"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let swiftc else { throw BenchError.failed("swiftc not found") }
        let tool = ["/opt/swift/usr/bin/llvm-size", "/usr/bin/llvm-size"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let tool else { throw BenchError.failed("llvm-size not found (apt-get install llvm)") }
        func sources(_ dir: String, recursive: Bool) -> [String] {
            let e = FileManager.default.enumerator(atPath: dir)
            var out: [String] = []
            while let f = e?.nextObject() as? String {
                if !recursive && f.contains("/") { continue }
                if f.hasSuffix(".swift") { out.append(dir + "/" + f) }
            }
            return out.sorted()
        }
        let core = sources("Sources/HavenCore", recursive: true)
        let selftest = sources("Tools/embedded", recursive: false)
        guard !core.isEmpty else { throw BenchError.failed("run from the repository root (Sources/HavenCore not found)") }
        let flags = ["-target", "armv7em-none-none-eabi", "-enable-experimental-feature", "Embedded", "-wmo", "-Osize",
                     "-parse-as-library", "-module-name", "HavenCore"]
        func build(_ files: [String], extra: [String], name: String) throws -> (Int, Int, Int) {
            let object = temporary.path(name)
            defer { unlink(object) }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: swiftc)
            p.arguments = flags + extra + ["-c"] + files + ["-o", object]
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw BenchError.failed("Embedded build of HavenCore failed") }
            let out = try runCapture(tool, [object]).split(separator: "\n")
            guard out.count >= 2 else { throw BenchError.failed("llvm-size output") }
            let n = out[1].split(whereSeparator: { $0 == " " || $0 == "\t" }).prefix(3).map { Int($0) ?? 0 }
            return (n[0], n[1], n[2])
        }
        let plain = try build(core, extra: [], name: "core-armv7em.o")
        let specialised = try build(core + selftest, extra: ["-enable-experimental-feature", "Extern"], name: "core-specialised-armv7em.o")
        return PeerCodeSize(text: plain.0, data: plain.1, bss: plain.2, sizeTool: tool,
                            specialisedText: specialised.0, specialisedData: specialised.1)
    }
}
