import HavenCore
import HavenSodium
import Testing

private func sha256(_ message: [UInt8]) -> String {
    hexString(output(count: CryptoSizes.hash) { out in
        message.withUnsafeBytes { Sodium.sha256(message: $0, output: out) }
    })
}

@Suite struct SHA256Tests {
    /// FIPS 180-2 Appendix B.1, "abc" (one block).
    @Test func abc() {
        #expect(sha256(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    /// FIPS 180-2 Appendix B.2, the 448-bit two-block message.
    @Test func twoBlockMessage() {
        let message = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(sha256(message) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    /// The empty message: NIST CAVS SHA256ShortMsg.rsp, Len = 0 (FIPS 180-2
    /// itself has no zero-length example).
    @Test func emptyMessage() {
        #expect(sha256([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func arrayWrapperMatchesABC() {
        #expect(hexString(Sodium.sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
