import Foundation
import HavenCore
import HavenDevice
import HavenHost
import HavenSodium
import Testing

/// Runs a `SocketLinkListener` on its own thread until stopped.
final class ListenerThread<B: LinkBackend>: @unchecked Sendable {
    let listener: SocketLinkListener<B>
    private let lock = NSLock()
    private var stopping = false
    private let done = DispatchSemaphore(value: 0)
    var failure: ListenerError?

    init(_ listener: SocketLinkListener<B>) { self.listener = listener }

    func start() {
        let thread = Thread { [self] in
            do throws(ListenerError) {
                try listener.run(pollMilliseconds: 10) { lock.withLock { stopping } }
            } catch {
                failure = error
            }
            done.signal()
        }
        thread.start()
    }

    func stop() {
        lock.withLock { stopping = true }
        done.wait()
        listener.close()
    }
}

/// The whole pull over a real Unix socket: `LinkClient` → `SocketTransport`
/// → `SocketLinkListener` (another thread) → `LinkServer` →
/// `StoreLinkBackend` → a `SafetyController` holding interviews finished
/// through the real dv_module form.
@Suite struct LinkSocketTests {
    typealias Backend = StoreLinkBackend<RAMFlash, Sodium, ScenarioClock>

    static func finishInterview(_ s: SafetyScenario) throws -> UInt64 {
        try SafetyScenarioTests.interviewUpToInjured(s)
        try s.choose("yes")
        try s.next()
        try s.next()
        try s.next()
        return try #require(try s.c.finalizeInterview())
    }

    @Test func pullOverASocketListsReadsResumesAcknowledgesAndNeverListsCheckpoints() throws {
        let s = try SafetyScenario()
        try s.unlock(SafetyScenario.pin)
        var ids: [UInt64] = []
        for _ in 0..<3 { ids.append(try Self.finishInterview(s)) }
        try SafetyScenarioTests.interviewUpToInjured(s)  // in progress, with checkpoints on flash
        let store = try #require(s.c.mountedStore)
        var cursor = try store.makeCursor()
        var checkpoints = 0
        while let e = try store.next(&cursor) { if case .record(let id, _) = e, try store.read(id)[0] == 2 { checkpoints += 1 } }
        #expect(checkpoints >= 1)
        let expected = try ids.map { Array(try store.read($0).dropFirst()) }

        let provisioning = Sodium.ed25519KeyPair()
        let pinned = provisioning.publicKey
        let deviceID = (0..<16).map { UInt8($0 * 9) }
        let backend = deviceID.withUnsafeBytes { id in
            Array("sim".utf8).withUnsafeBytes { board in
                Array("0.5.0".utf8).withUnsafeBytes { fw in
                    Backend(controller: s.c, deviceID: id, boardName: board, firmwareVersion: fw,
                            hooks: StoreLinkHooks(configVersion: { 3 }, provisioningKey: { out in
                                out.copyBytes(from: pinned)
                                return true
                            }))
                }
            }
        }
        let dir = try TempDir()
        let path = dir.path("link.sock")
        let listener = try SocketLinkListener(path: path, server: LinkServer(backend: backend, configCapacity: 64 * 1024))
        let thread = ListenerThread(listener)
        thread.start()
        defer { thread.stop() }

        let client = LinkClient(transport: try SocketTransport(path: path), timeoutMilliseconds: 5_000)
        let identity = try client.identify()
        #expect(identity.deviceID == deviceID)
        #expect(identity.boardName == "sim" && identity.firmwareVersion == "0.5.0")
        #expect(identity.configVersion == 3 && identity.isProvisioned && !identity.isAuthenticated)
        #expect(identity.storeState == .available && identity.recordsWaiting == 3)
        #expect(throws: LinkClientError.refused(request: .listRecords, status: .notAuthenticated, detail: 0)) {
            try client.listRecords()
        }
        // The wrong key is refused; the right one opens the session.
        #expect(throws: LinkClientError.refused(request: .authenticate, status: .authenticationFailed, detail: 0)) {
            try client.authenticate(keyPair: Sodium.ed25519KeyPair())
        }
        try client.authenticate(keyPair: provisioning)

        let records = try client.listAllRecords()
        #expect(records.map(\.number) == ids)
        #expect(records.map { Int($0.size) } == expected.map(\.count))

        // Record 1 whole (pipelined), record 2 interrupted after 200 bytes and
        // resumed from there, record 3 with a window of 1.
        let first = try client.fetchRecord(records[0])
        #expect(first == expected[0])
        let head = try client.readRecord(records[1].number, offset: 0, maxLength: 200)
        #expect(head.bytes.count == 200 && Int(head.total) == expected[1].count)
        var second = head.bytes
        try client.readRecord(records[1], from: 200, into: &second, chunk: 61, window: 3)
        #expect(second == expected[1])
        #expect(Sodium.sha256(second) == records[1].sha256)
        var third: [UInt8] = []
        try client.readRecord(records[2], into: &third, window: 1)
        #expect(third == expected[2])
        // What was pulled opens with the research team's identity.
        for bytes in [first, second, third] {
            #expect(!(try AgeFile.decrypt(bytes, identities: [s.identity])).isEmpty)
        }

        // All three pipelined across record boundaries, small chunks, hashes checked.
        var all: [[UInt8]] = []
        try client.fetchRecords(records, window: 5, chunk: 100) { _, bytes in all.append(bytes) }
        #expect(all == expected)

        #expect(try client.acknowledge(ids) == 3)
        #expect(try client.acknowledge(ids) == 0)
        #expect(try client.listAllRecords().isEmpty)
        #expect(try client.identify().recordsWaiting == 0)
        #expect(throws: LinkClientError.refused(request: .readRecord, status: .unknownRecord, detail: 0)) {
            try client.readRecord(9_999, offset: 0)
        }
        client.close()

        // A new connection is a new session.
        let again = LinkClient(transport: try SocketTransport(path: path))
        #expect(throws: LinkClientError.refused(request: .acknowledge, status: .notAuthenticated, detail: 0)) {
            try again.acknowledge([1])
        }
        again.close()
        #expect(listener.connectionsAccepted >= 2)
    }

    @Test func socketErrorsSayWhatIsWrong() throws {
        let dir = try TempDir()
        let missing = dir.path("none.sock")
        #expect(throws: TransportError.noDevice("no simulator socket at \(missing) (is haven-sim running?)")) {
            try SocketTransport(path: missing)
        }
        // A stale socket file (the simulator died without cleaning up).
        let stale = dir.path("stale.sock")
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let b = Array(stale.utf8)
            raw.copyBytes(from: b)
            raw[b.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        close(fd)
        #expect(throws: TransportError.noDevice("nothing is listening on \(stale) (haven-sim stopped; stale socket file)")) {
            try SocketTransport(path: stale)
        }
        // A regular file is never replaced by the listener.
        let file = try dir.write("plain", [1, 2, 3])
        let backend = MemoryLinkBackend()
        #expect(throws: ListenerError.notASocket(file)) {
            try SocketLinkListener(path: file, server: LinkServer(backend: backend, configCapacity: 16))
        }
        // The stale socket is replaced; a second listener on a live one is refused.
        let listener = try SocketLinkListener(path: stale, server: LinkServer(backend: backend, configCapacity: 16))
        #expect(throws: ListenerError.inUse("another simulator is listening on \(stale)")) {
            try SocketLinkListener(path: stale, server: LinkServer(backend: backend, configCapacity: 16))
        }
        // The peer closing mid-request is `disconnected`.
        let transport = try SocketTransport(path: stale)
        #expect(try listener.service(timeoutMilliseconds: 100))  // accept
        listener.close()
        let client = LinkClient(transport: transport, timeoutMilliseconds: 2_000)
        do {
            _ = try client.identify()
            Issue.record("identify succeeded on a closed listener")
        } catch {
            guard case .transport(.disconnected) = error else {
                Issue.record("expected disconnected, got \(error)")
                return
            }
        }
    }
}

/// A minimal backend for transport tests (no store).
final class MemoryLinkBackend: LinkBackend {
    typealias Crypto = Sodium
    func deviceID(into output: UnsafeMutableRawBufferPointer) { output.initializeMemory(as: UInt8.self, repeating: 1) }
    func boardName(into output: UnsafeMutableRawBufferPointer) -> Int { 0 }
    func firmwareVersion(into output: UnsafeMutableRawBufferPointer) -> Int { 0 }
    func deviceStatus() -> LinkDeviceStatus { LinkDeviceStatus(configVersion: 0, storeState: .locked, freeBytes: 0, recordsWaiting: 0) }
    func provisioningKey(into output: UnsafeMutableRawBufferPointer) -> Bool { false }
    func installConfig(_ bundle: UnsafeRawBufferPointer, sessionKey: UnsafeRawBufferPointer) throws(LinkFailure) -> UInt64 { 1 }
    func listRecords(after: UInt64, into list: inout RecordListWriter) throws(LinkFailure) {}
    func readRecord(_ number: UInt64, offset: UInt32, into output: UnsafeMutableRawBufferPointer) throws(LinkFailure) -> (total: UInt32, count: Int) {
        throw LinkFailure(.unknownRecord)
    }
    func acknowledge(_ records: LinkRecordNumbers) throws(LinkFailure) -> Int { 0 }
    func setTime(_ time: LinkCivilTime) throws(LinkFailure) {}
    func cryptoErase() throws(LinkFailure) {}
}
