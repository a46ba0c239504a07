@testable import HavenCore
import HavenSodium

/// A link backend held in memory: records, a pinned key, what was installed.
final class MemoryBackend: LinkBackend {
    typealias Crypto = Sodium
    var id: [UInt8] = (0..<16).map { UInt8(truncatingIfNeeded: $0 &* 17 &+ 3) }
    var pinnedKey: [UInt8]?
    var records: [(number: UInt64, bytes: [UInt8])] = []
    var acknowledged: [UInt64] = []
    var installed: [[UInt8]] = []
    var installSessionKeys: [[UInt8]] = []
    var time: LinkCivilTime?
    var erased = 0
    var locked = false

    func deviceID(into output: UnsafeMutableRawBufferPointer) { output.copyBytes(from: id) }
    func boardName(into output: UnsafeMutableRawBufferPointer) -> Int {
        let b = Array("sim-board".utf8)
        output.copyBytes(from: b)
        return b.count
    }
    func firmwareVersion(into output: UnsafeMutableRawBufferPointer) -> Int {
        let b = Array("0.5.0-test".utf8)
        output.copyBytes(from: b)
        return b.count
    }
    func deviceStatus() -> LinkDeviceStatus {
        LinkDeviceStatus(configVersion: UInt64(installed.count), storeState: locked ? .locked : .available,
                         freeBytes: 1 << 20, recordsWaiting: UInt32(records.count))
    }
    func provisioningKey(into output: UnsafeMutableRawBufferPointer) -> Bool {
        guard let pinnedKey else { return false }
        output.copyBytes(from: pinnedKey)
        return true
    }
    func installConfig(_ bundle: UnsafeRawBufferPointer, sessionKey: UnsafeRawBufferPointer) throws(LinkFailure) -> UInt64 {
        if bundle.first == 0xEE { throw LinkFailure(.configRefused, detail: 7) }
        installed.append(Array(bundle))
        installSessionKeys.append(Array(sessionKey))
        return UInt64(installed.count)
    }
    func listRecords(after: UInt64, into list: inout RecordListWriter) throws(LinkFailure) {
        if locked { throw LinkFailure(.locked) }
        for r in records where r.number > after {
            guard let hash = list.append(number: r.number, size: UInt32(r.bytes.count), corrupt: false) else { return }
            r.bytes.withUnsafeBytes { Sodium.sha256(message: $0, output: hash) }
        }
    }
    func readRecord(_ number: UInt64, offset: UInt32, into output: UnsafeMutableRawBufferPointer)
        throws(LinkFailure) -> (total: UInt32, count: Int) {
        if locked { throw LinkFailure(.locked) }
        guard let r = records.first(where: { $0.number == number }) else { throw LinkFailure(.unknownRecord) }
        guard Int(offset) <= r.bytes.count else { throw LinkFailure(.badRequest) }
        let n = min(output.count, r.bytes.count - Int(offset))
        r.bytes.withUnsafeBytes { output.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[Int(offset)..<(Int(offset) + n)])) }
        return (UInt32(r.bytes.count), n)
    }
    func acknowledge(_ numbers: LinkRecordNumbers) throws(LinkFailure) -> Int {
        var n = 0
        for i in 0..<numbers.count {
            let k = numbers[i]
            if let at = records.firstIndex(where: { $0.number == k }) {
                records.remove(at: at)
                acknowledged.append(k)
                n += 1
            }
        }
        return n
    }
    func setTime(_ time: LinkCivilTime) throws(LinkFailure) { self.time = time }
    func cryptoErase() throws(LinkFailure) {
        erased += 1
        records = []
    }
}

/// Drives a `LinkServer` in memory: frames requests, parses the responses.
final class LinkHarness<B: LinkBackend> {
    let server: LinkServer<B>
    let crc = CRC32Table()
    let decoder: FrameDecoder
    var seq: UInt16 = 1

    init(_ server: LinkServer<B>) {
        self.server = server
        decoder = FrameDecoder(crc: crc)
    }

    /// A request frame as bytes.
    func frame(_ type: UInt8, _ payload: [UInt8], seq: UInt16? = nil, version: UInt8 = 1, flags: UInt8 = 0) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 16 + payload.count)
        let s = seq ?? self.seq
        out.withUnsafeMutableBytes { o in
            payload.withUnsafeBytes { p in
                _ = FrameCodec.encode(FrameHeader(version: version, type: type, seq: s, flags: flags, length: 0),
                                      payload: p, into: o, crc: crc)
            }
        }
        return out
    }

    /// Feeds bytes, drains the output and returns every response frame.
    func feed(_ bytes: [UInt8]) -> [(header: FrameHeader, payload: [UInt8])] {
        var taken = 0
        var frames: [(FrameHeader, [UInt8])] = []
        repeat {
            taken += bytes.withUnsafeBytes { server.receive(UnsafeRawBufferPointer(rebasing: $0[taken...])) }
            frames += drain()
        } while taken < bytes.count
        return frames
    }

    func drain() -> [(header: FrameHeader, payload: [UInt8])] {
        var frames: [(FrameHeader, [UInt8])] = []
        while server.pendingOutput.count > 0 {
            let pending = server.pendingOutput
            let n = decoder.receive(pending)
            server.didSend(n)
            loop: while true {
                switch decoder.next() {
                case .frame(let h, let p): frames.append((h, Array(p)))
                case .error(let e): fatalError("server wrote a bad frame: \(e)")
                case .needMore: break loop
                }
            }
        }
        return frames
    }

    /// One request, one response (status, detail, body).
    func request(_ type: LinkMessageType, _ payload: [UInt8] = []) -> (status: UInt8, detail: UInt8, body: [UInt8], header: FrameHeader) {
        let s = seq
        seq &+= 1
        let responses = feed(frame(type.rawValue, payload, seq: s))
        precondition(responses.count == 1, "expected one response, got \(responses.count)")
        let (h, p) = responses[0]
        precondition(h.seq == s && h.isResponse)
        return (p[0], p[1], Array(p.dropFirst(4)), h)
    }

    func encode(_ body: (UnsafeMutableRawBufferPointer) -> Int?) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: LinkFrame.maxPayload)
        let n = out.withUnsafeMutableBytes { body($0) }!
        return Array(out[0..<n])
    }

    /// identify → the response decoded (arrays copied).
    func identify() -> (challenge: [UInt8], id: [UInt8], flags: UInt8, waiting: UInt32, state: UInt8) {
        let r = request(.identify)
        precondition(r.status == 0)
        let d = r.body.withUnsafeBytes { try! IdentifyResponse.decode($0) }
        return (Array(d.challenge), Array(d.deviceID), d.sessionFlags, d.recordsWaiting, d.storeState)
    }

    func authPayload(signature: [UInt8], key: [UInt8]?) -> [UInt8] {
        encode { p in
            signature.withUnsafeBytes { s in
                if let key { return key.withUnsafeBytes { AuthenticateRequest(signature: s, publicKey: $0).encode(into: p) } }
                return AuthenticateRequest(signature: s, publicKey: nil).encode(into: p)
            }
        }
    }

    static func signedMessage(id: [UInt8], challenge: [UInt8]) -> [UInt8] {
        Array("haven link auth v1".utf8) + id + challenge
    }

    /// identify + a good signature.
    @discardableResult
    func authenticate(_ key: Sodium.Ed25519KeyPair, sendKey: Bool = false) -> UInt8 {
        let id = identify()
        let sig = Sodium.ed25519Sign(message: Self.signedMessage(id: id.id, challenge: id.challenge), keyPair: key)
        return request(.authenticate, authPayload(signature: sig, key: sendKey ? key.publicKey : nil)).status
    }
}
