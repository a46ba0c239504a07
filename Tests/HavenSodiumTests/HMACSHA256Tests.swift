import HavenCore
import HavenSodium
import Testing

private func hmac(key: [UInt8], data: [UInt8]) -> String {
    hexString(output(count: CryptoSizes.hash) { out in
        key.withUnsafeBytes { k in
            data.withUnsafeBytes { Sodium.hmacSHA256(key: k, message: $0, output: out) }
        }
    })
}

/// RFC 4231 §4, HMAC-SHA-256 results only.
@Suite struct HMACSHA256Tests {
    /// RFC 4231 §4.2, Test Case 1.
    @Test func rfc4231TestCase1() {
        let key = hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b")  // 20 bytes
        let data = hex("4869205468657265")  // "Hi There"
        #expect(hmac(key: key, data: data) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    }

    /// RFC 4231 §4.3, Test Case 2 (a key shorter than the output).
    @Test func rfc4231TestCase2() {
        let key = hex("4a656665")  // "Jefe"
        let data = hex("7768617420646f2079612077616e7420666f72206e6f7468696e673f")  // "what do ya want for nothing?"
        #expect(hmac(key: key, data: data) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    /// RFC 4231 §4.7, Test Case 6 (131-byte key, hashed first).
    @Test func rfc4231TestCase6() {
        let key = [UInt8](repeating: 0xaa, count: 131)
        let data = hex("""
            54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a
            65204b6579202d2048617368204b6579204669727374
            """)  // "Test Using Larger Than Block-Size Key - Hash Key First"
        #expect(hmac(key: key, data: data) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    /// RFC 4231 §4.8, Test Case 7 (131-byte key and data longer than a block).
    @Test func rfc4231TestCase7() {
        let key = [UInt8](repeating: 0xaa, count: 131)
        let data = hex("""
            5468697320697320612074657374207573696e672061206c6172676572207468
            616e20626c6f636b2d73697a65206b657920616e642061206c61726765722074
            68616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565
            647320746f20626520686173686564206265666f7265206265696e6720757365
            642062792074686520484d414320616c676f726974686d2e
            """)
        #expect(hmac(key: key, data: data) == "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2")
    }

    @Test func testCase7DataIsTheRFCsSentence() {
        // Guards the hex above against a copying slip.
        let sentence = "This is a test using a larger than block-size key and a larger than block-size data."
            + " The key needs to be hashed before being used by the HMAC algorithm."
        #expect(hexString(Array(sentence.utf8)) == normalizedHex("""
            5468697320697320612074657374207573696e672061206c6172676572207468
            616e20626c6f636b2d73697a65206b657920616e642061206c61726765722074
            68616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565
            647320746f20626520686173686564206265666f7265206265696e6720757365
            642062792074686520484d414320616c676f726974686d2e
            """))
    }

    @Test func arrayWrapperMatchesTestCase2() {
        let mac = Sodium.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(hexString(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }
}
