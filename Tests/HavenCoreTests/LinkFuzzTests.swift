@testable import HavenCore
import HavenSodium
import Testing

/// Fuzz smoke: random and mutated frames into the device-side decoder and
/// server for about two seconds. No crash, no hang, and everything the
/// server writes is a well-formed response frame.
@Suite struct LinkFuzzTests {
    @Test func randomAndMutatedFramesNeverBreakTheServer() {
        let key = Sodium.ed25519KeyPair()
        let backend = MemoryBackend()
        backend.pinnedKey = key.publicKey
        backend.records = [(1, Array(repeating: 7, count: 9000)), (2, [1, 2])]
        let h = LinkHarness(LinkServer(backend: backend, configCapacity: 10_000))
        // Valid requests to mutate (some sessions are authenticated first).
        let seeds: [[UInt8]] = [
            h.frame(0x01, []),
            h.frame(0x10, [0x10, 0, 0, 0, 0, 0, 0, 0]),
            h.frame(0x11, [0, 0, 0, 0, 1, 2, 3]),
            h.frame(0x20, [0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0]),
            h.frame(0x21, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0]),
            h.frame(0x22, [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]),
            h.frame(0x30, [0xE8, 0x07, 6, 10, 12, 0, 0, 0, 0, 0, 0, 0]),
            h.frame(0x02, [UInt8](repeating: 0, count: 68)),
        ]
        var rng = SplitMix64(seed: 0xF022)
        let start = ContinuousClock.now
        var rounds = 0
        var responses = 0
        while ContinuousClock.now - start < .seconds(2) {
            rounds += 1
            if rounds % 50 == 0 {
                h.server.reset()
                if rng.next() % 2 == 0 { h.authenticate(key) }
            }
            var bytes: [UInt8]
            switch rng.next() % 4 {
            case 0:  // random bytes, sometimes with a magic in front
                bytes = (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                if rng.next() % 2 == 0 { bytes = [0x48, 0x4C] + bytes }
            case 1:  // a valid frame with flipped bits
                bytes = seeds[Int(rng.next() % UInt64(seeds.count))]
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    let i = Int(rng.next() % UInt64(bytes.count))
                    bytes[i] ^= UInt8(1 << (rng.next() % 8))
                }
            case 2:  // a valid header over a random payload (CRC re-sealed: only the payload decoder guards)
                let type = [0x01, 0x02, 0x10, 0x11, 0x12, 0x20, 0x21, 0x22, 0x30, 0x31, 0x7F, 0x99][Int(rng.next() % 12)]
                let payload = (0..<Int(rng.next() % 120)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                bytes = h.frame(UInt8(type), payload, seq: UInt16(truncatingIfNeeded: rng.next()),
                                flags: rng.next() % 8 == 0 ? 1 : 0)
            default:  // a valid frame cut short, then garbage
                let f = seeds[Int(rng.next() % UInt64(seeds.count))]
                bytes = Array(f[0..<Int(rng.next() % UInt64(f.count))]) + [0x00, 0x48]
            }
            // `feed` fails the test (fatalError) if the server writes anything
            // that is not a valid frame.
            let frames = h.feed(bytes)
            for f in frames {
                #expect(f.header.isResponse)
                #expect(f.payload.count >= 4)
            }
            responses += frames.count
        }
        #expect(rounds > 1000)
        #expect(responses > 100)
        // Still serving: a fresh session works.
        h.server.reset()
        #expect(h.authenticate(key) == 0)
    }

    @Test func randomBytesNeverBreakTheDecoder() {
        let crc = CRC32Table()
        let decoder = FrameDecoder(crc: crc)
        var rng = SplitMix64(seed: 0xDEC0)
        let start = ContinuousClock.now
        var steps = 0
        while ContinuousClock.now - start < .seconds(1) {
            let bytes = (0..<Int(rng.next() % 9000)).map { _ -> UInt8 in
                let r = rng.next()
                return r % 5 == 0 ? 0x48 : r % 7 == 0 ? 0x4C : UInt8(truncatingIfNeeded: r)
            }
            var at = 0
            while at < bytes.count {
                at += bytes.withUnsafeBytes { decoder.receive(UnsafeRawBufferPointer(rebasing: $0[at...])) }
                var guardSteps = 0
                loop: while true {
                    guardSteps += 1
                    precondition(guardSteps < 100_000, "decoder loops")
                    switch decoder.next() {
                    case .needMore: break loop
                    case .frame, .error: steps += 1
                    }
                }
            }
        }
        #expect(steps > 0)
    }
}
