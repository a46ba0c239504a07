import HavenCore
import HavenSodium
import Testing

/// HChaCha20 and the original ChaCha20 stream, which the store composes into
/// XChaCha20 (draft-irtf-cfrg-xchacha-03 §2.2.1 for the HChaCha20 vector).
@Suite struct HChaCha20Tests {
    @Test func draftVector() {
        let key = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
        let input = hex("000000090000004a0000000031415927")
        var out = [UInt8](repeating: 0, count: 32)
        key.withUnsafeBytes { k in input.withUnsafeBytes { i in out.withUnsafeMutableBytes { Sodium.hchacha20(key: k, input: i, output: $0) } } }
        #expect(out == hex("82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc"))
    }

    /// XChaCha20-Poly1305 = ChaCha20-Poly1305-IETF under the HChaCha20 subkey
    /// with nonce 0⁴ ‖ n[16..<24]; the header keystream is ChaCha20 from block 0.
    @Test func compositionMatchesXChaCha() {
        let key = Sodium.random(count: 32), nonce = Sodium.random(count: 24), message = Sodium.random(count: 1000)
        let ad = Sodium.random(count: 44)
        var sub = [UInt8](repeating: 0, count: 32)
        key.withUnsafeBytes { k in nonce.withUnsafeBytes { n in
            sub.withUnsafeMutableBytes { Sodium.hchacha20(key: k, input: UnsafeRawBufferPointer(rebasing: n[0..<16]), output: $0) } } }
        let direct = Sodium.aeadSeal(key: key, nonce: nonce, associatedData: ad, plaintext: message)
        var composed = [UInt8](repeating: 0, count: 1016)
        let ietf: [UInt8] = [0, 0, 0, 0] + nonce[16..<24]
        sub.withUnsafeBytes { s in ietf.withUnsafeBytes { n in ad.withUnsafeBytes { a in message.withUnsafeBytes { m in
            composed.withUnsafeMutableBytes { Sodium.chachaPolySeal(key: s, nonce: n, associatedData: a, plaintext: m, output: $0) } } } } }
        #expect(composed == direct)
        // Keystream block 1 of ChaCha20 under the subkey is what the AEAD
        // encrypted the message with.
        var stream = [UInt8](repeating: 0, count: 64)
        let zeros = [UInt8](repeating: 0, count: 64)
        sub.withUnsafeBytes { s in nonce.withUnsafeBytes { n in zeros.withUnsafeBytes { z in
            stream.withUnsafeMutableBytes { Sodium.chacha20Xor(key: s, nonce: UnsafeRawBufferPointer(rebasing: n[16..<24]), counter: 1, input: z, output: $0) } } } }
        #expect(zip(stream, zip(message, direct)).allSatisfy { $0 == $1.0 ^ $1.1 })
    }
}
