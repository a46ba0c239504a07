import HavenCore
import HavenSodium
import Testing

/// RFC 8439 §2.8.2, "Example and Test Vector for AEAD_CHACHA20_POLY1305".
private enum RFC8439 {
    static let key = hex("""
        80 81 82 83 84 85 86 87 88 89 8a 8b 8c 8d 8e 8f
        90 91 92 93 94 95 96 97 98 99 9a 9b 9c 9d 9e 9f
        """)
    /// 32-bit fixed-common part `07 00 00 00` followed by IV `40 41 42 43 44 45 46 47`.
    static let nonce = hex("07 00 00 00 40 41 42 43 44 45 46 47")
    static let aad = hex("50 51 52 53 c0 c1 c2 c3 c4 c5 c6 c7")
    static let plaintext = Array(
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
            .utf8)
    static let ciphertext = """
        d3 1a 8d 34 64 8e 60 db 7b 86 af bc 53 ef 7e c2
        a4 ad ed 51 29 6e 08 fe a9 e2 b5 a7 36 ee 62 d6
        3d be a4 5e 8c a9 67 12 82 fa fb 69 da 92 72 8b
        1a 71 de 0a 9e 06 0b 29 05 d6 a5 b6 7e cd 3b 36
        92 dd bd 7f 2d 77 8b 8c 98 03 ae e3 28 09 1b 58
        fa b3 24 e4 fa d6 75 94 55 85 80 8b 48 31 d7 bc
        3f f4 de f0 8e 4b 7a 9d e5 76 d2 65 86 ce c6 4b
        61 16
        """
    static let tag = "1a:e1:0b:59:4f:09:e2:6a:7e:90:2e:cb:d0:60:06:91".replacingColons()
    static let sealed = normalizedHex(ciphertext + tag)
}

extension String {
    /// RFC 8439 prints the tag with colons between bytes.
    fileprivate func replacingColons() -> String { String(filter { $0 != ":" }) }
}

private func seal(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8], aad: [UInt8]) -> [UInt8] {
    output(count: plaintext.count + CryptoSizes.tag) { out in
        key.withUnsafeBytes { k in
            nonce.withUnsafeBytes { n in
                aad.withUnsafeBytes { ad in
                    plaintext.withUnsafeBytes {
                        Sodium.chachaPolySeal(key: k, nonce: n, associatedData: ad, plaintext: $0, output: out)
                    }
                }
            }
        }
    }
}

private func open(_ sealed: [UInt8], key: [UInt8], nonce: [UInt8], aad: [UInt8], into out: inout [UInt8]) -> CryptoError? {
    out.withUnsafeMutableBytes { o in
        key.withUnsafeBytes { k in
            nonce.withUnsafeBytes { n in
                aad.withUnsafeBytes { ad in
                    sealed.withUnsafeBytes { c in
                        do throws(CryptoError) {
                            try Sodium.chachaPolyOpenChecked(key: k, nonce: n, associatedData: ad, ciphertext: c, output: o)
                            return nil
                        } catch {
                            return error
                        }
                    }
                }
            }
        }
    }
}

@Suite struct ChaCha20Poly1305Tests {
    @Test func sealMatchesRFC8439Section282() {
        let sealed = seal(RFC8439.plaintext, key: RFC8439.key, nonce: RFC8439.nonce, aad: RFC8439.aad)
        #expect(hexString(sealed) == RFC8439.sealed)
    }

    @Test func openMatchesRFC8439Section282() {
        var out = [UInt8](repeating: 0xEE, count: RFC8439.plaintext.count)
        #expect(open(hex(RFC8439.sealed), key: RFC8439.key, nonce: RFC8439.nonce, aad: RFC8439.aad, into: &out) == nil)
        #expect(out == RFC8439.plaintext)
    }

    @Test func inPlaceSealGivesTheSameBytes() {
        var buffer = RFC8439.plaintext + [UInt8](repeating: 0, count: CryptoSizes.tag)
        let count = RFC8439.plaintext.count
        buffer.withUnsafeMutableBytes { whole in
            RFC8439.key.withUnsafeBytes { k in
                RFC8439.nonce.withUnsafeBytes { n in
                    RFC8439.aad.withUnsafeBytes { ad in
                        Sodium.chachaPolySeal(
                            key: k, nonce: n, associatedData: ad,
                            plaintext: UnsafeRawBufferPointer(rebasing: whole[0..<count]), output: whole)
                    }
                }
            }
        }
        #expect(hexString(buffer) == RFC8439.sealed)
    }

    @Test func tamperedTagFailsAndZeroesOutput() {
        var sealed = hex(RFC8439.sealed)
        sealed[sealed.count - 1] ^= 0x01
        var out = [UInt8](repeating: 0xEE, count: RFC8439.plaintext.count)
        #expect(open(sealed, key: RFC8439.key, nonce: RFC8439.nonce, aad: RFC8439.aad, into: &out) == .authenticationFailed)
        #expect(out == [UInt8](repeating: 0, count: RFC8439.plaintext.count))
    }

    @Test func wrongNonceFails() {
        var nonce = RFC8439.nonce
        nonce[0] = 0x08
        var out = [UInt8](repeating: 0xEE, count: RFC8439.plaintext.count)
        #expect(open(hex(RFC8439.sealed), key: RFC8439.key, nonce: nonce, aad: RFC8439.aad, into: &out) == .authenticationFailed)
        #expect(out == [UInt8](repeating: 0, count: RFC8439.plaintext.count))
    }
}
