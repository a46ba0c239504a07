// Embedded self-test: built by Tools/embedded-check together with every
// HavenCore source as one Embedded Swift module for the host, linked against
// libsodium and run. It proves the core compiles and runs in Embedded mode
// with the `@_extern(c)` crypto suite (ExternSodium). No Foundation; print
// only simple strings and interpolated integers.
//
// It checks the crypto layer, the store (StoreSelfTest.swift) and the
// expression VM (ExpressionSelfTest.swift), the interview engine
// (InterviewSelfTest.swift), age sealing (SealSelfTest.swift) and the safety
// layer (SafetySelfTest.swift).

// `Never` cannot be spelled in a C signature, so the extern returns Void and
// a wrapper states that it does not return.
@_extern(c, "exit")
fileprivate func c_exit_void(_ status: Int32)

func c_exit(_ status: Int32) -> Never {
    c_exit_void(status)
    fatalError("exit returned")
}

/// Bytes from a hex literal (no separators). Traps on a malformed literal:
/// literals are part of this file, not input.
fileprivate func hex(_ text: StaticString) -> [UInt8] {
    let count = text.utf8CodeUnitCount
    precondition(count % 2 == 0, "odd hex literal")
    let start = text.utf8Start
    func nibble(_ c: UInt8) -> UInt8 {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: fatalError("bad hex digit")
        }
    }
    var out: [UInt8] = []
    out.reserveCapacity(count / 2)
    var i = 0
    while i < count {
        out.append(nibble(start[i]) << 4 | nibble(start[i + 1]))
        i += 2
    }
    return out
}

fileprivate func ascii(_ text: StaticString) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(text.utf8CodeUnitCount)
    var i = 0
    while i < text.utf8CodeUnitCount {
        out.append(text.utf8Start[i])
        i += 1
    }
    return out
}

struct Checker {
    var passed = 0
    var failed = 0

    mutating func check(_ condition: Bool, _ name: StaticString) {
        if condition {
            passed += 1
        } else {
            failed += 1
            print("FAIL: \(name)")
        }
    }
}

@main
struct EmbeddedSelfTest {
    static func main() {
        var t = Checker()
        t.check(ExternSodium.initialize(), "sodium_init")
        xchachaPoly(&t)
        chachaPoly(&t)
        hashes(&t)
        curves(&t)
        argon2(&t)
        storeChecks(&t)
        expressionChecks(&t)
        interviewChecks(&t)
        safetyChecks(&t)
        sealChecks(&t)
        if t.failed > 0 {
            print("embedded self-test: \(t.failed) of \(t.passed + t.failed) checks FAILED")
            c_exit(1)
        }
        print("embedded self-test: \(t.passed) checks passed")
        c_exit(0)
    }

    /// XChaCha20-Poly1305: draft-irtf-cfrg-xchacha-03 §A.3.1, round trip,
    /// in-place sealing, tamper detection (ciphertext, tag, associated data).
    fileprivate static func xchachaPoly(_ t: inout Checker) {
        let plaintext = ascii("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")
        let ad = hex("50515253c0c1c2c3c4c5c6c7")
        let key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
        let nonce = hex("404142434445464748494a4b4c4d4e4f5051525354555657")
        let expected = hex("bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52ec0875924c1c7987947deafd8780acf49")

        var sealed = [UInt8](repeating: 0, count: plaintext.count + 16)
        key.withUnsafeBytes { k in nonce.withUnsafeBytes { n in ad.withUnsafeBytes { a in
            plaintext.withUnsafeBytes { p in sealed.withUnsafeMutableBytes { o in
                ExternSodium.aeadSeal(key: k, nonce: n, associatedData: a, plaintext: p, output: o)
            } }
        } } }
        t.check(sealed == expected, "xchacha20poly1305 seal matches draft-irtf-cfrg-xchacha A.3.1")

        // In place: output aliases the plaintext exactly.
        var inPlace = plaintext + [UInt8](repeating: 0, count: 16)
        key.withUnsafeBytes { k in nonce.withUnsafeBytes { n in ad.withUnsafeBytes { a in
            inPlace.withUnsafeMutableBytes { buffer in
                let input = UnsafeRawBufferPointer(rebasing: buffer[0..<plaintext.count])
                ExternSodium.aeadSeal(key: k, nonce: n, associatedData: a, plaintext: input, output: buffer)
            }
        } } }
        t.check(inPlace == expected, "xchacha20poly1305 in-place seal")

        t.check(open(key, nonce, ad, sealed) == plaintext, "xchacha20poly1305 round trip")

        var flipped = sealed
        flipped[7] ^= 0x01
        t.check(open(key, nonce, ad, flipped) == nil, "xchacha20poly1305 tampered ciphertext rejected")
        var badTag = sealed
        badTag[badTag.count - 1] ^= 0x80
        t.check(open(key, nonce, ad, badTag) == nil, "xchacha20poly1305 tampered tag rejected")
        var otherAD = ad
        otherAD[0] ^= 0x01
        t.check(open(key, nonce, otherAD, sealed) == nil, "xchacha20poly1305 wrong associated data rejected")

        // A failed open leaves the output zeroed.
        var output = [UInt8](repeating: 0xAA, count: plaintext.count)
        var threw = false
        key.withUnsafeBytes { k in nonce.withUnsafeBytes { n in ad.withUnsafeBytes { a in
            flipped.withUnsafeBytes { c in output.withUnsafeMutableBytes { o in
                do throws(CryptoError) {
                    try ExternSodium.aeadOpenChecked(key: k, nonce: n, associatedData: a, ciphertext: c, output: o)
                } catch {
                    threw = error == .authenticationFailed
                }
            } }
        } } }
        t.check(threw && output.allSatisfy { $0 == 0 }, "xchacha20poly1305 failed open zeroes output")

        // Empty plaintext and empty associated data.
        var empty = [UInt8](repeating: 0, count: 16)
        let none: [UInt8] = []
        key.withUnsafeBytes { k in nonce.withUnsafeBytes { n in none.withUnsafeBytes { e in
            empty.withUnsafeMutableBytes { o in
                ExternSodium.aeadSeal(key: k, nonce: n, associatedData: e, plaintext: e, output: o)
            }
        } } }
        t.check(open(key, nonce, none, empty) == none, "xchacha20poly1305 empty message")
    }

    static func open(_ key: [UInt8], _ nonce: [UInt8], _ ad: [UInt8], _ sealed: [UInt8]) -> [UInt8]? {
        var output = [UInt8](repeating: 0, count: sealed.count - 16)
        var ok = true
        key.withUnsafeBytes { k in nonce.withUnsafeBytes { n in ad.withUnsafeBytes { a in
            sealed.withUnsafeBytes { c in output.withUnsafeMutableBytes { o in
                do throws(CryptoError) {
                    try ExternSodium.aeadOpenChecked(key: k, nonce: n, associatedData: a, ciphertext: c, output: o)
                } catch {
                    ok = false
                }
            } }
        } } }
        return ok ? output : nil
    }

    /// ChaCha20-Poly1305 IETF: RFC 8439 §2.8.2.
    fileprivate static func chachaPoly(_ t: inout Checker) {
        let plaintext = ascii("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")
        let ad = hex("50515253c0c1c2c3c4c5c6c7")
        let key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
        let nonce = hex("070000004041424344454647")
        let expected = hex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b61161ae10b594f09e26a7e902ecbd0600691")
        var sealed = [UInt8](repeating: 0, count: plaintext.count + 16)
        key.withUnsafeBytes { k in nonce.withUnsafeBytes { n in ad.withUnsafeBytes { a in
            plaintext.withUnsafeBytes { p in sealed.withUnsafeMutableBytes { o in
                ExternSodium.chachaPolySeal(key: k, nonce: n, associatedData: a, plaintext: p, output: o)
            } }
        } } }
        t.check(sealed == expected, "chacha20poly1305 seal matches RFC 8439 2.8.2")

        var opened = [UInt8](repeating: 0, count: plaintext.count)
        var ok = true
        sealed[0] ^= 0x01
        for round in 0..<2 {
            if round == 1 { sealed[0] ^= 0x01 }
            ok = true
            key.withUnsafeBytes { k in nonce.withUnsafeBytes { n in ad.withUnsafeBytes { a in
                sealed.withUnsafeBytes { c in opened.withUnsafeMutableBytes { o in
                    do throws(CryptoError) {
                        try ExternSodium.chachaPolyOpenChecked(key: k, nonce: n, associatedData: a, ciphertext: c, output: o)
                    } catch {
                        ok = false
                    }
                } }
            } } }
            if round == 0 { t.check(!ok, "chacha20poly1305 tampered ciphertext rejected") }
        }
        t.check(ok && opened == plaintext, "chacha20poly1305 round trip")
    }

    /// SHA-256 ("abc"), HMAC through HKDF: RFC 5869 test case 1.
    fileprivate static func hashes(_ t: inout Checker) {
        var digest = [UInt8](repeating: 0, count: 32)
        let abc = ascii("abc")
        abc.withUnsafeBytes { m in digest.withUnsafeMutableBytes { o in ExternSodium.sha256(message: m, output: o) } }
        t.check(digest == hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "sha256(abc)")

        let ikm = [UInt8](repeating: 0x0b, count: 22)
        let salt = hex("000102030405060708090a0b0c")
        let info = hex("f0f1f2f3f4f5f6f7f8f9")
        var prk = [UInt8](repeating: 0, count: 32)
        salt.withUnsafeBytes { s in ikm.withUnsafeBytes { i in prk.withUnsafeMutableBytes { p in
            HKDF<ExternSodium>.extract(salt: s, inputKeyMaterial: i, prk: p)
        } } }
        t.check(prk == hex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"),
                "HKDF RFC 5869 test case 1 PRK")
        var okm = [UInt8](repeating: 0, count: 42)
        salt.withUnsafeBytes { s in ikm.withUnsafeBytes { i in info.withUnsafeBytes { n in
            okm.withUnsafeMutableBytes { o in
                HKDF<ExternSodium>.derive(salt: s, inputKeyMaterial: i, info: n, output: o)
            }
        } } }
        t.check(okm == hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"),
                "HKDF RFC 5869 test case 1 OKM")

        let a = hex("00112233"), b = hex("00112233"), c = hex("00112234")
        var equal = false, different = true
        a.withUnsafeBytes { x in b.withUnsafeBytes { y in equal = ExternSodium.constantTimeEqual(x, y) } }
        a.withUnsafeBytes { x in c.withUnsafeBytes { y in different = ExternSodium.constantTimeEqual(x, y) } }
        t.check(equal && !different, "constantTimeEqual")

        var secret = [UInt8](repeating: 0x5A, count: 40)
        secret.withUnsafeMutableBytes { ExternSodium.zeroize($0) }
        t.check(secret.allSatisfy { $0 == 0 }, "zeroize")

        var r1 = [UInt8](repeating: 0, count: 32), r2 = [UInt8](repeating: 0, count: 32)
        r1.withUnsafeMutableBytes { ExternSodium.randomBytes($0) }
        r2.withUnsafeMutableBytes { ExternSodium.randomBytes($0) }
        t.check(r1 != r2 && !r1.allSatisfy { $0 == 0 }, "randomBytes")
    }

    /// X25519: RFC 7748 §6.1; Ed25519: RFC 8032 §7.1 test 1.
    fileprivate static func curves(_ t: inout Checker) {
        let alice = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
        let bobPublic = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
        var alicePublic = [UInt8](repeating: 0, count: 32)
        alice.withUnsafeBytes { s in alicePublic.withUnsafeMutableBytes { o in ExternSodium.x25519Base(scalar: s, output: o) } }
        t.check(alicePublic == hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"), "x25519 base (RFC 7748)")

        var shared = [UInt8](repeating: 0, count: 32)
        var ok = true
        alice.withUnsafeBytes { s in bobPublic.withUnsafeBytes { p in shared.withUnsafeMutableBytes { o in
            do throws(CryptoError) { try ExternSodium.x25519(scalar: s, point: p, output: o) } catch { ok = false }
        } } }
        t.check(ok && shared == hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"), "x25519 shared (RFC 7748)")

        let lowOrder = [UInt8](repeating: 0, count: 32)
        var rejected = false
        alice.withUnsafeBytes { s in lowOrder.withUnsafeBytes { p in shared.withUnsafeMutableBytes { o in
            do throws(CryptoError) { try ExternSodium.x25519(scalar: s, point: p, output: o) } catch { rejected = error == .invalidPoint }
        } } }
        t.check(rejected, "x25519 low-order point rejected")

        let publicKey = hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        var signature = hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
        let message: [UInt8] = []
        var valid = false
        signature.withUnsafeBytes { sig in message.withUnsafeBytes { m in publicKey.withUnsafeBytes { pk in
            valid = ExternSodium.ed25519Verify(signature: sig, message: m, publicKey: pk)
        } } }
        t.check(valid, "ed25519 verify (RFC 8032 test 1)")
        signature[10] ^= 0x01
        signature.withUnsafeBytes { sig in message.withUnsafeBytes { m in publicKey.withUnsafeBytes { pk in
            valid = ExternSodium.ed25519Verify(signature: sig, message: m, publicKey: pk)
        } } }
        t.check(!valid, "ed25519 bad signature rejected")
    }

    /// Argon2id through crypto_pwhash: a value computed with libsodium's C
    /// API (checks the extern ABI, not Argon2 itself), and a too-small
    /// memory cost reported as .kdfFailed.
    fileprivate static func argon2(_ t: inout Checker) {
        let password = ascii("pw")
        let salt = [UInt8](repeating: 0, count: 16)
        var out = [UInt8](repeating: 0, count: 32)
        var result = 0
        password.withUnsafeBytes { p in salt.withUnsafeBytes { s in out.withUnsafeMutableBytes { o in
            do throws(CryptoError) {
                try ExternSodium.argon2id(password: p, salt: s, iterations: 1, memoryBytes: 8192, output: o)
            } catch {
                result = 1
            }
        } } }
        t.check(result == 0 && out == hex("bc8c36cbd0a0e1c2fdb3021fd6ae92c901f955daef7bb3fb5758ea4e801fbf2f"),
                "argon2id t=1 m=8 KiB")
        password.withUnsafeBytes { p in salt.withUnsafeBytes { s in out.withUnsafeMutableBytes { o in
            do throws(CryptoError) {
                try ExternSodium.argon2id(password: p, salt: s, iterations: 1, memoryBytes: 1024, output: o)
            } catch {
                result = error == .kdfFailed ? 2 : 3
            }
        } } }
        t.check(result == 2, "argon2id too little memory is .kdfFailed")
    }
}
