import HavenCore
import HavenHost
import HavenSodium
import Testing

/// A transport that answers every read from a script of bytes, then times out.
final class ScriptedTransport: LinkTransport {
    var name: String { "script" }
    var script: [UInt8]
    var at = 0
    var written = 0
    init(_ script: [UInt8]) { self.script = script }
    func write(_ bytes: UnsafeRawBufferPointer, timeoutMilliseconds: Int) throws(TransportError) { written += bytes.count }
    func read(into buffer: UnsafeMutableRawBufferPointer, timeoutMilliseconds: Int) throws(TransportError) -> Int {
        guard at < script.count else { throw .timedOut("script ended") }
        let n = min(buffer.count, script.count - at, 1 + at % 700)
        script.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[at..<(at + n)])) }
        at += n
        return n
    }
    func close() {}
}

/// The host survives a device that sends garbage: every request ends with a
/// value or a typed error, quickly.
@Suite struct LinkClientFuzzTests {
    static func response(type: UInt8, seq: UInt16, payload: [UInt8]) -> [UInt8] {
        let crc = CRC32Table()
        var out = [UInt8](repeating: 0, count: 16 + payload.count)
        out.withUnsafeMutableBytes { o in
            payload.withUnsafeBytes { p in
                _ = FrameCodec.encode(FrameHeader(type: type, seq: seq, flags: 1, length: 0), payload: p, into: o, crc: crc)
            }
        }
        return out
    }

    @Test func garbageAndMutatedResponsesGiveTypedErrorsNeverAHang() {
        // A valid identify answer to mutate.
        var body = [UInt8](repeating: 0, count: 4 + 72 + 2)
        body[4 + 16] = 1; body[4 + 17] = 1
        let valid = Self.response(type: 1, seq: 1, payload: body)
        var rng = SplitMix64(seed: 0x40571)
        let start = ContinuousClock.now
        var outcomes = [String: Int]()
        while ContinuousClock.now - start < .seconds(2) {
            var script: [UInt8]
            switch rng.next() % 3 {
            case 0: script = (0..<Int(rng.next() % 100_000)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            case 1:
                script = valid
                for _ in 0..<(1 + Int(rng.next() % 3)) {
                    let i = Int(rng.next() % UInt64(script.count))
                    script[i] ^= UInt8(1 << (rng.next() % 8))
                }
            default:
                // A well-framed response with a random payload (and sometimes another seq/type).
                let payload = (0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                script = Self.response(type: rng.next() % 4 == 0 ? 0x7F : 1, seq: rng.next() % 4 == 0 ? 9 : 1, payload: payload)
            }
            let client = LinkClient(transport: ScriptedTransport(script), timeoutMilliseconds: 1_000)
            let began = ContinuousClock.now
            do {
                _ = try client.identify()
                outcomes["ok", default: 0] += 1
            } catch {
                outcomes[String(describing: error).prefix(20).description, default: 0] += 1
            }
            #expect(ContinuousClock.now - began < .seconds(1))
        }
        #expect(outcomes.values.reduce(0, +) > 100)
        #expect(outcomes.count > 3)
    }
}
