import ArgumentParser
import Foundation
import HavenCore
import HavenDevice
import HavenHost
import HavenSodium

/// `haven-bench fuzz-seeds`: writes the seed corpora of the libFuzzer
/// targets (Tools/fuzzing/corpus/<target>/) from the project's own
/// fixtures and codecs — compiled Tests/Fixtures/forms, a bundle built from
/// Tests/Fixtures/config/field-config.json, link sessions recorded between
/// the real LinkClient and LinkServer, age files sealed by the core, store
/// and config-area images written by the core. Hidden: a maintenance tool
/// (`Tools/fuzzing/README.md`), not a benchmark.
///
/// The fixed keys and geometries here must match
/// Tools/fuzzing/support/FuzzKeys.swift (the targets read the images with them).
struct FuzzSeedsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz-seeds",
        abstract: "Write the fuzz targets' seed corpora (Tools/fuzzing/corpus).",
        shouldDisplay: false
    )

    @Option(help: "Corpus folder (one subfolder per target).")
    var output = "Tools/fuzzing/corpus"

    @Option(help: "Repository root (for Tests/Fixtures and Hardware/).")
    var root = "."

    // Must match Tools/fuzzing/support/FuzzKeys.swift.
    static let dataKey: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
    static let deviceSecret: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 11 &+ 5) }
    static let ageSecret: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ 9) }
    static let storeGeometry = try! FlashGeometry(programUnit: 16, eraseBlockSize: 4096, blockCount: 16)
    static let configGeometry = try! FlashGeometry(programUnit: 16, eraseBlockSize: 4096, blockCount: 32)

    func run() throws {
        let forms = URL(fileURLWithPath: root).appendingPathComponent("Tests/Fixtures/forms")
        let limits = CompileLimits(repeatCapacity: 8)
        // Forms: every fixture but the 500-question one (kept small).
        let names = try FileManager.default.contentsOfDirectory(atPath: forms.path)
            .filter { $0.hasSuffix(".xml") && !$0.hasPrefix("large") }.sorted()
        var compiled: [(String, [UInt8])] = []
        for name in names {
            let xml = try Data(contentsOf: forms.appendingPathComponent(name))
            try write("xform", name, [UInt8](xml))
            if let bytes = try? FormCompiler.compile(xml: xml, sourceName: name, limits: limits) {
                compiled.append((name, bytes))
                try write("instrument", name.replacingOccurrences(of: ".xml", with: ".hvi"), bytes)
            }
        }
        try bytecodeSeeds(compiled)

        // Config: a bundle the host builds, and its two parts.
        let key = ProvisioningKey(keyPair: Sodium.ed25519KeyPair(seed: [UInt8](repeating: 3, count: 32)))
        let board = try BoardProfile.load(named: "sim", hardwareDirectory: root + "/Hardware")
        let configPath = root + "/Tests/Fixtures/config/field-config.json"
        let file = try ConfigFile.decode(try Data(contentsOf: URL(fileURLWithPath: configPath)))
        let built = try ConfigBuilder.build(file, baseDirectory: URL(fileURLWithPath: configPath).deletingLastPathComponent(),
                                            key: key, kdf: KDFCost(iterations: 1, memoryKiB: 8), board: board)
        let bundle = built.bundle
        try write("config", "field-config.bundle", bundle)
        let (configBlob, pinBlob) = try bundle.withUnsafeBytes { b in
            let parts = try ConfigBundle.split(b)
            return ([UInt8](parts.config), [UInt8](parts.pinMaterial))
        }
        try write("config", "field-config.config", configBlob)
        try write("config", "field-config.pins", pinBlob)
        try configAreaSeeds(configBlob, pinBlob)

        try storeSeeds()
        try ageSeeds()
        try answerRecordSeeds()
        try linkSeeds()
        print("fuzz-seeds: wrote \(output)")
    }

    func write(_ target: String, _ name: String, _ bytes: [UInt8]) throws {
        let dir = URL(fileURLWithPath: output).appendingPathComponent(target)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(bytes).write(to: dir.appendingPathComponent(name))
    }

    /// A flash image without its erased tail (the targets pad with 0xFF).
    static func trimmed(_ flash: RAMFlash) -> [UInt8] {
        var bytes = flash.withImage { [UInt8]($0) }
        while bytes.last == 0xFF { bytes.removeLast() }
        return bytes
    }

    /// Each expression of the compiled fixtures, in the bytecode target's
    /// format: max stack, string count, node count, column flags, program.
    func bytecodeSeeds(_ compiled: [(String, [UInt8])]) throws {
        var n = 0
        for (_, bytes) in compiled {
            let instrument = try Instrument(bytes: bytes)
            for ref in 0..<instrument.expressionCount {
                guard let e = instrument.expression(ref), n < 60 else { continue }
                var seed: [UInt8] = [UInt8(min(e.maxStack, 63))]
                seed += [UInt8(truncatingIfNeeded: instrument.stringCount), UInt8(truncatingIfNeeded: instrument.stringCount >> 8)]
                seed += [UInt8(truncatingIfNeeded: instrument.nodeCount), UInt8(truncatingIfNeeded: instrument.nodeCount >> 8)]
                seed.append(0x80)  // not a choice filter
                seed += [UInt8](e.code)
                try write("bytecode", "expr-\(n)", seed)
                n += 1
            }
        }
    }

    /// The config partition after one install, and after two (both slots).
    func configAreaSeeds(_ config: [UInt8], _ pins: [UInt8]) throws {
        let duress = try pins.withUnsafeBytes { try PinMaterial.decode($0).duress }
        for installs in 1...2 {
            let flash = RAMFlash(geometry: Self.configGeometry)
            let area = try Self.deviceSecret.withUnsafeBytes { try ConfigArea<RAMFlash, Sodium>(flash: flash, deviceSecret: $0) }
            for _ in 0..<installs { _ = try config.withUnsafeBytes { try area.write(config: $0, duress: duress) } }
            try write("config-area", "installed-\(installs)", Self.trimmed(flash))
        }
    }

    /// Formatted stores: empty, a few records, and enough to wrap blocks.
    func storeSeeds() throws {
        for (name, count, size) in [("empty", 0, 0), ("few", 5, 300), ("many", 40, 900), ("large", 2, 9000)] {
            let flash = RAMFlash(geometry: Self.storeGeometry)
            let kek = [UInt8](repeating: 0x33, count: 32)
            let slot = Self.dataKey.withUnsafeBytes { dk in
                kek.withUnsafeBytes { k in
                    KeySlots<Sodium>.wrap(dataKey: dk, kek: k, index: 0, kind: .rawKey, kdfIterations: 0,
                                          kdfMemoryKiB: 0, salt: [UInt8](repeating: 0, count: 16))
                }
            }
            try Self.dataKey.withUnsafeBytes { try Superblock<RAMFlash, Sodium>.format(flash, dataKey: $0, slots: [slot]) }
            let store = try Self.dataKey.withUnsafeBytes { try LogStore<RAMFlash, Sodium>(flash: flash, dataKey: $0) }
            for i in 0..<count {
                do { _ = try store.append((0..<size).map { UInt8(truncatingIfNeeded: $0 &+ i) }) } catch { break }
            }
            store.close()
            try write("store", name, Self.trimmed(flash))
        }
    }

    /// Files sealed by the core to the fixed identity (and one to two
    /// recipients): empty, small, and across the 64 KiB chunk boundary.
    func ageSeeds() throws {
        let identity = AgeIdentity(secretKey: Self.ageSecret)
        let other = AgeIdentity(secretKey: [UInt8](repeating: 0x77, count: 32))
        try write("age", "empty.age", try AgeFile.encrypt([], to: [identity.recipient]))
        try write("age", "small.age", try AgeFile.encrypt(Array("an interview".utf8), to: [identity.recipient]))
        try write("age", "two-recipients.age", try AgeFile.encrypt(Array(repeating: 9, count: 100),
                                                                   to: [other.recipient, identity.recipient]))
        try write("age", "two-chunks.age", try AgeFile.encrypt(Array(repeating: 1, count: 65_536 + 10), to: [identity.recipient]))
    }

    /// Answer records (Docs/export-format.md) with every answer type.
    func answerRecordSeeds() throws {
        var w: [UInt8] = Array("HVNA".utf8)
        func u16(_ v: Int) { w += [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8)] }
        func u32(_ v: Int) { for i in 0..<4 { w.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
        func u64(_ v: UInt64) { for i in 0..<8 { w.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
        func s16(_ s: String) { u16(s.utf8.count); w += Array(s.utf8) }
        func s32(_ s: String) { u32(s.utf8.count); w += Array(s.utf8) }
        u16(1)
        s16("dv_module"); s16("2024061001"); s16("uuid:0d1f6c52-5d2e-4a57-9a1e-3f2b7c9e8d41")
        u32(8)
        u16(1); w.append(0); w.append(1); s32("Alice")
        u16(2); w.append(0); w.append(2); u64(UInt64(bitPattern: -42))
        u16(3); w.append(0); w.append(3); u64((3.25).bitPattern)
        u16(4); w.append(0); w.append(4); u32(19_884)
        u16(5); w.append(0); w.append(5); s32("yes")
        u16(6); w.append(1); u16(2); w.append(6); u16(2); s32("a"); s32("b")
        u16(7); w.append(2); u16(0); u16(1); w.append(7); s32("12.5")
        u16(8); w.append(0); w.append(1); s32("")
        try write("answer-record", "all-types", w)
        var empty: [UInt8] = Array("HVNA".utf8) + [1, 0]
        for _ in 0..<3 { empty += [0, 0] }
        empty += [0, 0, 0, 0]
        try write("answer-record", "no-answers", empty)
    }

    /// A pull session recorded between the real LinkClient and LinkServer:
    /// the host's requests (link-server seeds) and the device's answers
    /// (link-client seeds).
    func linkSeeds() throws {
        let key = Sodium.ed25519KeyPair(seed: [UInt8](repeating: 5, count: 32))
        let backend = SeedBackend(pinnedKey: key.publicKey)
        let server = LinkServer(backend: backend, configCapacity: 16 * 1024)
        // Authenticate first, unrecorded: the fuzz targets do their own.
        let setup = LinkClient(transport: LoopTransport(server), timeoutMilliseconds: 2_000)
        _ = try setup.authenticate(keyPair: key)

        // The session the link-client target runs, from sequence 1.
        let pipe = LoopTransport(server)
        let client = LinkClient(transport: pipe, timeoutMilliseconds: 2_000)
        _ = try client.identify()
        let (records, _) = try client.listRecords()
        for record in records.prefix(3) where !record.corrupt { _ = try client.fetchRecord(record, window: 2) }
        _ = try client.acknowledge(records.prefix(4).map(\.number))
        try client.setTime(LinkCivilTime(year: 2026, month: 11, day: 25, hour: 12, minute: 0, second: 0, utcOffsetMinutes: 60))
        try write("link-client", "pull-session", [0] + pipe.received)
        try write("link-client", "pull-session-resealed", [1] + pipe.received)
        // Flags: 1 re-seal, 2 authenticate first (link-server target).
        try write("link-server", "pull-session", [3] + pipe.sent)

        let configPipe = LoopTransport(server)
        let configClient = LinkClient(transport: configPipe, timeoutMilliseconds: 2_000)
        let small = ConfigBundle.encode(config: Array(repeating: 0x11, count: 600), pinMaterial: Array(repeating: 0x22, count: 100))
        _ = try? configClient.putConfig(small)
        try? configClient.cryptoErase()
        try write("link-server", "config-and-erase", [3] + configPipe.sent)
        try write("link-server", "unauthenticated", [1] + configPipe.sent)
    }
}

/// A transport wired straight into a LinkServer: what the client writes is
/// handed to the server, what the server answers is read back. Both
/// directions are recorded.
final class LoopTransport: LinkTransport {
    let server: LinkServer<SeedBackend>
    var pending: [UInt8] = []
    var sent: [UInt8] = []
    var received: [UInt8] = []
    init(_ server: LinkServer<SeedBackend>) { self.server = server }
    var name: String { "loop" }
    func write(_ bytes: UnsafeRawBufferPointer, timeoutMilliseconds: Int) throws(TransportError) {
        sent += bytes
        var taken = 0
        while taken < bytes.count {
            taken += server.receive(UnsafeRawBufferPointer(rebasing: bytes[taken...]))
            drain()
        }
    }
    func drain() {
        while server.pendingOutput.count > 0 {
            let out = server.pendingOutput
            pending += out
            server.didSend(out.count)
        }
    }
    func read(into buffer: UnsafeMutableRawBufferPointer, timeoutMilliseconds: Int) throws(TransportError) -> Int {
        guard !pending.isEmpty else { throw .timedOut("loop: nothing pending") }
        let n = min(buffer.count, pending.count)
        buffer.copyBytes(from: pending[0..<n])
        received += pending[0..<n]
        pending.removeFirst(n)
        return n
    }
    func close() {}
}

/// The records the link seeds carry (like the link-server target's backend).
final class SeedBackend: LinkBackend {
    typealias Crypto = Sodium
    let id: [UInt8] = (0..<16).map { UInt8(truncatingIfNeeded: $0 &* 17 &+ 3) }
    let pinnedKey: [UInt8]
    let records: [(number: UInt64, bytes: [UInt8])] = [
        (1, Array(repeating: 7, count: 9000)), (2, [1, 2, 3]), (5, Array(repeating: 0xC3, count: 300)),
    ]
    init(pinnedKey: [UInt8]) { self.pinnedKey = pinnedKey }

    func deviceID(into output: UnsafeMutableRawBufferPointer) { output.copyBytes(from: id) }
    func boardName(into output: UnsafeMutableRawBufferPointer) -> Int {
        let b = Array("fuzz-board".utf8)
        output.copyBytes(from: b)
        return b.count
    }
    func firmwareVersion(into output: UnsafeMutableRawBufferPointer) -> Int {
        let b = Array("0.0.0-fuzz".utf8)
        output.copyBytes(from: b)
        return b.count
    }
    func deviceStatus() -> LinkDeviceStatus {
        LinkDeviceStatus(configVersion: 1, storeState: .available, freeBytes: 1 << 20, recordsWaiting: UInt32(records.count))
    }
    func provisioningKey(into output: UnsafeMutableRawBufferPointer) -> Bool {
        output.copyBytes(from: pinnedKey)
        return true
    }
    func installConfig(_ bundle: UnsafeRawBufferPointer, sessionKey: UnsafeRawBufferPointer) throws(LinkFailure) -> UInt64 { 2 }
    func listRecords(after: UInt64, into list: inout RecordListWriter) throws(LinkFailure) {
        for r in records where r.number > after {
            guard let hash = list.append(number: r.number, size: UInt32(r.bytes.count), corrupt: false) else { return }
            r.bytes.withUnsafeBytes { Sodium.sha256(message: $0, output: hash) }
        }
    }
    func readRecord(_ number: UInt64, offset: UInt32, into output: UnsafeMutableRawBufferPointer)
        throws(LinkFailure) -> (total: UInt32, count: Int) {
        guard let r = records.first(where: { $0.number == number }) else { throw LinkFailure(.unknownRecord) }
        guard Int(offset) <= r.bytes.count else { throw LinkFailure(.badRequest) }
        let n = min(output.count, r.bytes.count - Int(offset))
        r.bytes.withUnsafeBytes {
            output.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[Int(offset)..<(Int(offset) + n)]))
        }
        return (UInt32(r.bytes.count), n)
    }
    func acknowledge(_ numbers: LinkRecordNumbers) throws(LinkFailure) -> Int { numbers.count }
    func setTime(_ time: LinkCivilTime) throws(LinkFailure) {}
    func cryptoErase() throws(LinkFailure) {}
}
