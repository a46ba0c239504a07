import HavenCore
import HavenSodium
import Testing

/// draft-irtf-cfrg-xchacha-03, Appendix A.3.1 (AEAD_XChaCha20_Poly1305 test vector).
private enum A31 {
    static let key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
    static let nonce = hex("404142434445464748494a4b4c4d4e4f5051525354555657")
    static let aad = hex("50515253c0c1c2c3c4c5c6c7")
    static let plaintext = Array(
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
            .utf8)
    static let ciphertext = """
        bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb
        731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452
        2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9
        21f9664c97637da9768812f615c68b13b52e
        """
    static let tag = "c0875924c1c7987947deafd8780acf49"
    static let sealed = normalizedHex(ciphertext + tag)
}

private func seal(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8], aad: [UInt8]) -> [UInt8] {
    output(count: plaintext.count + CryptoSizes.tag) { out in
        key.withUnsafeBytes { k in
            nonce.withUnsafeBytes { n in
                aad.withUnsafeBytes { ad in
                    plaintext.withUnsafeBytes { Sodium.aeadSeal(key: k, nonce: n, associatedData: ad, plaintext: $0, output: out) }
                }
            }
        }
    }
}

/// Opens into `out`, returning the error (if any) so the test can also look
/// at what was left in the output buffer.
private func open(_ sealed: [UInt8], key: [UInt8], nonce: [UInt8], aad: [UInt8], into out: inout [UInt8]) -> CryptoError? {
    out.withUnsafeMutableBytes { o in
        key.withUnsafeBytes { k in
            nonce.withUnsafeBytes { n in
                aad.withUnsafeBytes { ad in
                    sealed.withUnsafeBytes { c in
                        do throws(CryptoError) {
                            try Sodium.aeadOpenChecked(key: k, nonce: n, associatedData: ad, ciphertext: c, output: o)
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

@Suite struct XChaCha20Poly1305Tests {
    @Test func plaintextIsTheDraftsText() {
        // The draft gives the plaintext in hex as well; make sure the string
        // literal above is byte-for-byte that text.
        #expect(hexString(A31.plaintext) == normalizedHex("""
            4c616469657320616e642047656e746c656d656e206f662074686520636c6173
            73206f66202739393a204966204920636f756c64206f6666657220796f75206f
            6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73
            637265656e20776f756c642062652069742e
            """))
    }

    @Test func sealMatchesDraftA31() {
        let sealed = seal(A31.plaintext, key: A31.key, nonce: A31.nonce, aad: A31.aad)
        #expect(hexString(sealed) == A31.sealed)
    }

    @Test func openMatchesDraftA31() {
        var out = [UInt8](repeating: 0xEE, count: A31.plaintext.count)
        let error = open(hex(A31.sealed), key: A31.key, nonce: A31.nonce, aad: A31.aad, into: &out)
        #expect(error == nil)
        #expect(out == A31.plaintext)
    }

    @Test func inPlaceSealGivesTheSameBytes() {
        // The plaintext sits at the start of a buffer with room for the tag,
        // and `output` is that whole buffer: the exact alias the protocol allows.
        var buffer = A31.plaintext + [UInt8](repeating: 0, count: CryptoSizes.tag)
        let count = A31.plaintext.count
        buffer.withUnsafeMutableBytes { whole in
            A31.key.withUnsafeBytes { k in
                A31.nonce.withUnsafeBytes { n in
                    A31.aad.withUnsafeBytes { ad in
                        Sodium.aeadSeal(
                            key: k, nonce: n, associatedData: ad,
                            plaintext: UnsafeRawBufferPointer(rebasing: whole[0..<count]), output: whole)
                    }
                }
            }
        }
        #expect(hexString(buffer) == A31.sealed)
    }

    @Test func inPlaceOpenRecoversThePlaintext() {
        var buffer = hex(A31.sealed)
        let count = buffer.count - CryptoSizes.tag
        let error: CryptoError? = buffer.withUnsafeMutableBytes { whole in
            A31.key.withUnsafeBytes { k in
                A31.nonce.withUnsafeBytes { n in
                    A31.aad.withUnsafeBytes { ad in
                        do throws(CryptoError) {
                            try Sodium.aeadOpenChecked(
                                key: k, nonce: n, associatedData: ad,
                                ciphertext: UnsafeRawBufferPointer(whole),
                                output: UnsafeMutableRawBufferPointer(rebasing: whole[0..<count]))
                            return nil
                        } catch { return error }
                    }
                }
            }
        }
        #expect(error == nil)
        #expect(Array(buffer[0..<count]) == A31.plaintext)
    }

    // Positions: first, middle and last ciphertext byte; first and last tag byte.
    @Test(arguments: [0, 57, 113, 114, 129])
    func flippedBitFailsAndZeroesOutput(position: Int) {
        var sealed = hex(A31.sealed)
        sealed[position] ^= 0x01
        var out = [UInt8](repeating: 0xEE, count: A31.plaintext.count)
        let error = open(sealed, key: A31.key, nonce: A31.nonce, aad: A31.aad, into: &out)
        #expect(error == .authenticationFailed)
        #expect(out == [UInt8](repeating: 0, count: A31.plaintext.count))
    }

    @Test func wrongAssociatedDataFails() {
        var aad = A31.aad
        aad[aad.count - 1] ^= 0x80
        var out = [UInt8](repeating: 0xEE, count: A31.plaintext.count)
        let error = open(hex(A31.sealed), key: A31.key, nonce: A31.nonce, aad: aad, into: &out)
        #expect(error == .authenticationFailed)
        #expect(out == [UInt8](repeating: 0, count: A31.plaintext.count))
    }

    @Test func emptyPlaintextAndAssociatedDataRoundTrip() throws {
        let sealed = seal([], key: A31.key, nonce: A31.nonce, aad: [])
        #expect(sealed.count == CryptoSizes.tag)
        var out: [UInt8] = []
        #expect(open(sealed, key: A31.key, nonce: A31.nonce, aad: [], into: &out) == nil)
        var tampered = sealed
        tampered[0] ^= 0x01
        #expect(open(tampered, key: A31.key, nonce: A31.nonce, aad: [], into: &out) == .authenticationFailed)
    }

    @Test func arrayWrappersMatchDraftA31() throws {
        let sealed = Sodium.aeadSeal(key: A31.key, nonce: A31.nonce, associatedData: A31.aad, plaintext: A31.plaintext)
        #expect(hexString(sealed) == A31.sealed)
        let opened = try Sodium.aeadOpen(key: A31.key, nonce: A31.nonce, associatedData: A31.aad, ciphertext: sealed)
        #expect(opened == A31.plaintext)
        var tampered = sealed
        tampered[tampered.count - 1] ^= 0x01
        #expect(throws: CryptoError.authenticationFailed) {
            try Sodium.aeadOpen(key: A31.key, nonce: A31.nonce, associatedData: A31.aad, ciphertext: tampered)
        }
    }
}
