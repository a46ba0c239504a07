import HavenCore
import HavenSodium
import Testing

@Suite struct RandomAndMemoryTests {
    @Test func twoRandomDrawsDifferAndAreNotZero() {
        let a = output(count: 32) { Sodium.randomBytes($0) }
        let b = output(count: 32) { Sodium.randomBytes($0) }
        // A false failure needs a 2^-256 coincidence.
        #expect(a != b)
        #expect(a != [UInt8](repeating: 0, count: 32))
        #expect(b != [UInt8](repeating: 0, count: 32))
        // `output` pre-fills 0xEE: make sure the buffer was actually written.
        #expect(a != [UInt8](repeating: 0xEE, count: 32))
    }

    @Test func randomArrayWrapper() {
        let a = Sodium.random(count: 48)
        let b = Sodium.random(count: 48)
        #expect(a.count == 48)
        #expect(a != b)
        #expect(Sodium.random(count: 0).isEmpty)
    }

    @Test func emptyRandomDrawIsANoOp() {
        var empty: [UInt8] = []
        empty.withUnsafeMutableBytes { Sodium.randomBytes($0) }
        #expect(empty.isEmpty)
    }

    @Test func zeroizeClearsEveryByte() {
        var secret = Array(1...200).map { UInt8(truncatingIfNeeded: $0) }
        secret.withUnsafeMutableBytes { Sodium.zeroize($0) }
        #expect(secret == [UInt8](repeating: 0, count: 200))
    }

    @Test func zeroizeLeavesNeighboursAlone() {
        var bytes = [UInt8](repeating: 0xAB, count: 16)
        bytes.withUnsafeMutableBytes { Sodium.zeroize(UnsafeMutableRawBufferPointer(rebasing: $0[4..<12])) }
        #expect(bytes == [UInt8](repeating: 0xAB, count: 4) + [UInt8](repeating: 0, count: 8) + [UInt8](repeating: 0xAB, count: 4))
    }

    @Test func constantTimeEqualTrueAndFalse() {
        let a = hex("00112233445566778899aabbccddeeff")
        var b = a
        #expect(equal(a, b))
        for index in [0, 7, 15] {
            b = a
            b[index] ^= 0x80
            #expect(!equal(a, b))
        }
        #expect(equal([], []))
    }

    private func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { x in b.withUnsafeBytes { Sodium.constantTimeEqual(x, $0) } }
    }
}
