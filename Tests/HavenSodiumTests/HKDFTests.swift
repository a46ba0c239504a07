import HavenCore
import HavenSodium
import Testing

/// RFC 5869 Appendix A (HKDF-SHA256 test cases 1–3), run through the core's
/// `HKDF<Sodium>`: the extract and expand steps separately, then `derive`.
private struct Case: Sendable, CustomTestStringConvertible {
    let name: String
    let ikm: [UInt8]
    let salt: [UInt8]
    let info: [UInt8]
    let length: Int
    let prk: String
    let okm: String
    var testDescription: String { name }
}

private let cases: [Case] = [
    // A.1. Test Case 1: basic test case with SHA-256.
    Case(
        name: "A.1",
        ikm: hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
        salt: hex("000102030405060708090a0b0c"),
        info: hex("f0f1f2f3f4f5f6f7f8f9"),
        length: 42,
        prk: "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
        okm: """
            3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf
            34007208d5b887185865
            """),
    // A.2. Test Case 2: longer inputs and outputs.
    Case(
        name: "A.2",
        ikm: hex("""
            000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
            202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f
            404142434445464748494a4b4c4d4e4f
            """),
        salt: hex("""
            606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f
            808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f
            a0a1a2a3a4a5a6a7a8a9aaabacadaeaf
            """),
        info: hex("""
            b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf
            d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef
            f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff
            """),
        length: 82,
        prk: "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
        okm: """
            b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c
            59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71
            cc30c58179ec3e87c14c01d5c1f3434f1d87
            """),
    // A.3. Test Case 3: zero-length salt and info.
    Case(
        name: "A.3",
        ikm: hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
        salt: [],
        info: [],
        length: 42,
        prk: "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
        okm: """
            8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d
            9d201395faa4b61a96c8
            """),
]

@Suite struct HKDFTests {
    @Test(arguments: cases)
    fileprivate func extractGivesRFCPRK(_ c: Case) {
        let prk = output(count: 32) { out in
            c.salt.withUnsafeBytes { s in
                c.ikm.withUnsafeBytes { HKDF<Sodium>.extract(salt: s, inputKeyMaterial: $0, prk: out) }
            }
        }
        #expect(hexString(prk) == c.prk)
    }

    @Test(arguments: cases)
    fileprivate func expandGivesRFCOKM(_ c: Case) {
        let prk = hex(c.prk)
        let okm = output(count: c.length) { out in
            prk.withUnsafeBytes { p in
                c.info.withUnsafeBytes { HKDF<Sodium>.expand(prk: p, info: $0, output: out) }
            }
        }
        #expect(hexString(okm) == normalizedHex(c.okm))
    }

    @Test(arguments: cases)
    fileprivate func deriveGivesRFCOKM(_ c: Case) {
        let okm = output(count: c.length) { out in
            c.salt.withUnsafeBytes { s in
                c.ikm.withUnsafeBytes { ikm in
                    c.info.withUnsafeBytes { HKDF<Sodium>.derive(salt: s, inputKeyMaterial: ikm, info: $0, output: out) }
                }
            }
        }
        #expect(hexString(okm) == normalizedHex(c.okm))
    }

    @Test(arguments: cases)
    fileprivate func arrayWrapperGivesRFCOKM(_ c: Case) {
        let okm = Sodium.hkdf(salt: c.salt, inputKeyMaterial: c.ikm, info: c.info, count: c.length)
        #expect(hexString(okm) == normalizedHex(c.okm))
    }
}
