// Fuzz target: the device side of the link — FrameDecoder and LinkServer
// with every request handler — over an in-memory backend (records, a
// pinned key, config staging). The first input byte holds flags:
//  - bit 0: every frame found in the rest is re-sealed (length clamped,
//    header check and CRC recomputed), so mutations of real requests reach
//    the request decoders instead of stopping at the CRC;
//  - bit 1: the session first authenticates (identify + a signature
//    FuzzSuite accepts), so the record, config, time and erase handlers
//    are reachable;
//  - bit 2: the backend has no pinned key (trust on first use).
// The rest is the host's byte stream, fed in chunks of varying sizes.
// Everything the server writes must be well-formed response frames, and
// the server must always make progress.
import HavenCore
import HavenSodium

final class FuzzBackend: LinkBackend {
    typealias Crypto = FuzzSuite
    let id: [UInt8] = (0..<16).map { UInt8(truncatingIfNeeded: $0 &* 17 &+ 3) }
    var pinned = true
    var records: [(number: UInt64, bytes: [UInt8])] = [
        (1, Array(repeating: 7, count: 9000)), (2, [1, 2, 3]), (5, Array(repeating: 0xC3, count: 300)),
    ]
    var configVersion: UInt64 = 0

    func deviceID(into output: UnsafeMutableRawBufferPointer) { output.copyBytes(from: id) }
    func boardName(into output: UnsafeMutableRawBufferPointer) -> Int {
        let b = Array("fuzz-board".utf8)
        output.copyBytes(from: b.prefix(output.count))
        return min(b.count, output.count)
    }
    func firmwareVersion(into output: UnsafeMutableRawBufferPointer) -> Int {
        let b = Array("0.0.0-fuzz".utf8)
        output.copyBytes(from: b.prefix(output.count))
        return min(b.count, output.count)
    }
    func deviceStatus() -> LinkDeviceStatus {
        LinkDeviceStatus(configVersion: configVersion, storeState: .available, freeBytes: 1 << 20,
                         recordsWaiting: UInt32(records.count))
    }
    func provisioningKey(into output: UnsafeMutableRawBufferPointer) -> Bool {
        guard pinned else { return false }
        for i in 0..<output.count { output[i] = 0x42 }
        return true
    }
    func installConfig(_ bundle: UnsafeRawBufferPointer, sessionKey: UnsafeRawBufferPointer) throws(LinkFailure) -> UInt64 {
        // What a device does first with a bundle: split it (hostile bytes).
        do throws(ConfigFormatError) { _ = try ConfigBundle.split(bundle) } catch { throw LinkFailure(.configRefused) }
        configVersion += 1
        return configVersion
    }
    func listRecords(after: UInt64, into list: inout RecordListWriter) throws(LinkFailure) {
        for r in records where r.number > after {
            guard let hash = list.append(number: r.number, size: UInt32(r.bytes.count), corrupt: r.number == 5) else { return }
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
    func acknowledge(_ numbers: LinkRecordNumbers) throws(LinkFailure) -> Int {
        var n = 0
        for i in 0..<numbers.count where records.contains(where: { $0.number == numbers[i] }) { n += 1 }
        return n
    }
    func setTime(_ time: LinkCivilTime) throws(LinkFailure) {}
    func cryptoErase() throws(LinkFailure) {}
}

nonisolated(unsafe) let crc = CRC32Table()
nonisolated(unsafe) let responses = FrameDecoder(crc: crc, bufferCapacity: 64 * 1024)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLinkServer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var r = FuzzReader(fuzzBytes(data, size))
    let mode = r.u8()
    let backend = FuzzBackend()
    backend.pinned = mode & 4 == 0
    let server = LinkServer(backend: backend, configCapacity: 16 * 1024)
    responses.reset()
    if mode & 2 != 0 {
        feed(server, fuzzFrame(type: LinkMessageType.identify.rawValue, seq: 1, flags: 0, payload: [], crc: crc))
        var auth = [UInt8](repeating: FuzzSuite.forgedSignatureByte, count: 64)
        if !backend.pinned { auth += [UInt8](repeating: 0x42, count: 32) }
        feed(server, fuzzFrame(type: LinkMessageType.authenticate.rawValue, seq: 2, flags: 0,
                               payload: [backend.pinned ? 0 : 1, 0, 0, 0] + auth, crc: crc))
        if !server.isAuthenticated { fatalError("the forged authentication was refused") }
    }
    var stream = r.rest()
    if mode & 1 != 0 { fuzzResealFrames(&stream, crc: crc) }
    // Chunk sizes cycle through what transports deliver: single bytes, USB
    // packets, whole frames and more.
    let sizes = [1, 512, 7, 64, 9000, 3, 100_000]
    var at = 0
    var k = Int(mode >> 3)
    while at < stream.count {
        let n = min(sizes[k % sizes.count], stream.count - at)
        feed(server, Array(stream[at..<(at + n)]))
        at += n
        k += 1
    }
    return 0
}

/// Feeds all of `bytes`, draining the server's output as it goes.
func feed(_ server: LinkServer<FuzzBackend>, _ bytes: [UInt8]) {
    var taken = 0
    repeat {
        let n = bytes.withUnsafeBytes { server.receive(UnsafeRawBufferPointer(rebasing: $0[taken...])) }
        taken += n
        let drained = drain(server)
        if n == 0 && !drained && taken < bytes.count { fatalError("link server stalled: took nothing, wrote nothing") }
    } while taken < bytes.count
}

/// Takes everything the server wrote; every byte must belong to a response frame.
func drain(_ server: LinkServer<FuzzBackend>) -> Bool {
    var any = false
    while server.pendingOutput.count > 0 {
        any = true
        let n = responses.receive(server.pendingOutput)
        server.didSend(n)
        loop: while true {
            switch responses.next() {
            case .frame(let header, _):
                if !header.isResponse { fatalError("server wrote a frame without the response flag") }
            case .error(let e): fatalError("server wrote a bad frame: \(e)")
            case .needMore: break loop
            }
        }
    }
    return any
}
