// ExternSodium: the core's CryptoSuite on libsodium, declared with
// `@_extern(c)` instead of a Clang module, so it builds in Embedded Swift
// (Tools/embedded-check compiles it together with HavenCore and links -lsodium).
// Signatures follow /usr/include/sodium/*.h (libsodium 1.0.18):
// `unsigned long long` → UInt64, `size_t` → UInt, `int` → Int32,
// `unsigned char *` → UnsafeMutablePointer<UInt8>, `const unsigned char *` →
// UnsafePointer<UInt8>? (optional where libsodium accepts NULL with length 0).

@_extern(c, "sodium_init")
fileprivate func sodium_init() -> Int32

@_extern(c, "crypto_stream_chacha20_xor_ic")
fileprivate func crypto_stream_chacha20_xor_ic(
    _ c: UnsafeMutablePointer<UInt8>, _ m: UnsafePointer<UInt8>, _ mlen: UInt64,
    _ n: UnsafePointer<UInt8>, _ ic: UInt64, _ k: UnsafePointer<UInt8>
) -> Int32

@_extern(c, "crypto_core_hchacha20")
fileprivate func crypto_core_hchacha20(
    _ out: UnsafeMutablePointer<UInt8>, _ input: UnsafePointer<UInt8>,
    _ k: UnsafePointer<UInt8>, _ c: UnsafePointer<UInt8>?
) -> Int32

@_extern(c, "crypto_aead_xchacha20poly1305_ietf_encrypt")
fileprivate func crypto_aead_xchacha20poly1305_ietf_encrypt(
    _ c: UnsafeMutablePointer<UInt8>, _ clen_p: UnsafeMutablePointer<UInt64>?,
    _ m: UnsafePointer<UInt8>?, _ mlen: UInt64,
    _ ad: UnsafePointer<UInt8>?, _ adlen: UInt64,
    _ nsec: UnsafePointer<UInt8>?, _ npub: UnsafePointer<UInt8>, _ k: UnsafePointer<UInt8>
) -> Int32

@_extern(c, "crypto_aead_xchacha20poly1305_ietf_decrypt")
fileprivate func crypto_aead_xchacha20poly1305_ietf_decrypt(
    _ m: UnsafeMutablePointer<UInt8>?, _ mlen_p: UnsafeMutablePointer<UInt64>?,
    _ nsec: UnsafeMutablePointer<UInt8>?,
    _ c: UnsafePointer<UInt8>, _ clen: UInt64,
    _ ad: UnsafePointer<UInt8>?, _ adlen: UInt64,
    _ npub: UnsafePointer<UInt8>, _ k: UnsafePointer<UInt8>
) -> Int32

@_extern(c, "crypto_aead_chacha20poly1305_ietf_encrypt")
fileprivate func crypto_aead_chacha20poly1305_ietf_encrypt(
    _ c: UnsafeMutablePointer<UInt8>, _ clen_p: UnsafeMutablePointer<UInt64>?,
    _ m: UnsafePointer<UInt8>?, _ mlen: UInt64,
    _ ad: UnsafePointer<UInt8>?, _ adlen: UInt64,
    _ nsec: UnsafePointer<UInt8>?, _ npub: UnsafePointer<UInt8>, _ k: UnsafePointer<UInt8>
) -> Int32

@_extern(c, "crypto_aead_chacha20poly1305_ietf_decrypt")
fileprivate func crypto_aead_chacha20poly1305_ietf_decrypt(
    _ m: UnsafeMutablePointer<UInt8>?, _ mlen_p: UnsafeMutablePointer<UInt64>?,
    _ nsec: UnsafeMutablePointer<UInt8>?,
    _ c: UnsafePointer<UInt8>, _ clen: UInt64,
    _ ad: UnsafePointer<UInt8>?, _ adlen: UInt64,
    _ npub: UnsafePointer<UInt8>, _ k: UnsafePointer<UInt8>
) -> Int32

@_extern(c, "crypto_auth_hmacsha256_statebytes")
fileprivate func crypto_auth_hmacsha256_statebytes() -> UInt

/// `state` is an opaque `crypto_auth_hmacsha256_state` (208 bytes, 8-aligned).
@_extern(c, "crypto_auth_hmacsha256_init")
fileprivate func crypto_auth_hmacsha256_init(
    _ state: UnsafeMutableRawPointer, _ key: UnsafePointer<UInt8>, _ keylen: UInt
) -> Int32

@_extern(c, "crypto_auth_hmacsha256_update")
fileprivate func crypto_auth_hmacsha256_update(
    _ state: UnsafeMutableRawPointer, _ input: UnsafePointer<UInt8>?, _ inlen: UInt64
) -> Int32

@_extern(c, "crypto_auth_hmacsha256_final")
fileprivate func crypto_auth_hmacsha256_final(_ state: UnsafeMutableRawPointer, _ out: UnsafeMutablePointer<UInt8>) -> Int32

@_extern(c, "crypto_hash_sha256")
fileprivate func crypto_hash_sha256(_ out: UnsafeMutablePointer<UInt8>, _ input: UnsafePointer<UInt8>?, _ inlen: UInt64) -> Int32

@_extern(c, "crypto_scalarmult")
fileprivate func crypto_scalarmult(
    _ q: UnsafeMutablePointer<UInt8>, _ n: UnsafePointer<UInt8>, _ p: UnsafePointer<UInt8>
) -> Int32

@_extern(c, "crypto_scalarmult_base")
fileprivate func crypto_scalarmult_base(_ q: UnsafeMutablePointer<UInt8>, _ n: UnsafePointer<UInt8>) -> Int32

@_extern(c, "crypto_sign_verify_detached")
fileprivate func crypto_sign_verify_detached(
    _ sig: UnsafePointer<UInt8>, _ m: UnsafePointer<UInt8>?, _ mlen: UInt64, _ pk: UnsafePointer<UInt8>
) -> Int32

@_extern(c, "crypto_pwhash")
fileprivate func crypto_pwhash(
    _ out: UnsafeMutablePointer<UInt8>, _ outlen: UInt64,
    _ passwd: UnsafePointer<CChar>, _ passwdlen: UInt64,
    _ salt: UnsafePointer<UInt8>,
    _ opslimit: UInt64, _ memlimit: UInt, _ alg: Int32
) -> Int32

@_extern(c, "randombytes_buf")
fileprivate func randombytes_buf(_ buf: UnsafeMutableRawPointer, _ size: UInt)

@_extern(c, "sodium_memzero")
fileprivate func sodium_memzero(_ pnt: UnsafeMutableRawPointer?, _ len: UInt)

@_extern(c, "sodium_memcmp")
fileprivate func sodium_memcmp(_ b1: UnsafeRawPointer?, _ b2: UnsafeRawPointer?, _ len: UInt) -> Int32

/// `crypto_pwhash_ALG_ARGON2ID13` from crypto_pwhash_argon2id.h.
fileprivate let crypto_pwhash_ALG_ARGON2ID13: Int32 = 2

/// CryptoSuite on libsodium through `@_extern(c)`. Call `ExternSodium.initialize()`
/// once before use (sodium_init).
enum ExternSodium: CryptoSuite {
    /// sodium_init: 0 on first success, 1 if already initialised, -1 on failure.
    static func initialize() -> Bool { sodium_init() >= 0 }

    // MARK: pointer helpers

    @inline(__always)
    static func bytes(_ b: UnsafeRawBufferPointer) -> UnsafePointer<UInt8>? {
        b.baseAddress?.assumingMemoryBound(to: UInt8.self)
    }

    /// A pointer for arguments libsodium declares nonnull even when the length
    /// is zero (an empty buffer may have no base address).
    @inline(__always)
    static func withNonNull<R>(_ b: UnsafeRawBufferPointer, _ body: (UnsafePointer<UInt8>) -> R) -> R {
        if let base = b.baseAddress { return body(base.assumingMemoryBound(to: UInt8.self)) }
        var dummy: UInt8 = 0
        return withUnsafePointer(to: &dummy) { body($0) }
    }

    @inline(__always)
    static func mutableBytes(_ b: UnsafeMutableRawBufferPointer) -> UnsafeMutablePointer<UInt8> {
        b.baseAddress!.assumingMemoryBound(to: UInt8.self)
    }

    // MARK: CryptoSuite

    static func aeadSeal(
        key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer, plaintext: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) {
        precondition(key.count == CryptoSizes.key && nonce.count == CryptoSizes.xNonce)
        precondition(output.count == plaintext.count + CryptoSizes.tag)
        let rc = crypto_aead_xchacha20poly1305_ietf_encrypt(
            mutableBytes(output), nil, bytes(plaintext), UInt64(plaintext.count),
            bytes(associatedData), UInt64(associatedData.count), nil, bytes(nonce)!, bytes(key)!)
        precondition(rc == 0)
    }

    static func aeadOpen(
        key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer, ciphertext: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        precondition(key.count == CryptoSizes.key && nonce.count == CryptoSizes.xNonce)
        precondition(ciphertext.count >= CryptoSizes.tag && output.count == ciphertext.count - CryptoSizes.tag)
        let rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
            output.baseAddress?.assumingMemoryBound(to: UInt8.self), nil, nil,
            bytes(ciphertext)!, UInt64(ciphertext.count),
            bytes(associatedData), UInt64(associatedData.count), bytes(nonce)!, bytes(key)!)
        if rc != 0 {
            zeroize(output)
            return false
        }
        return true
    }

    static func chachaPolySeal(
        key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer, plaintext: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) {
        precondition(key.count == CryptoSizes.key && nonce.count == CryptoSizes.ietfNonce)
        precondition(output.count == plaintext.count + CryptoSizes.tag)
        let rc = crypto_aead_chacha20poly1305_ietf_encrypt(
            mutableBytes(output), nil, bytes(plaintext), UInt64(plaintext.count),
            bytes(associatedData), UInt64(associatedData.count), nil, bytes(nonce)!, bytes(key)!)
        precondition(rc == 0)
    }

    static func chachaPolyOpen(
        key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer, ciphertext: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        precondition(key.count == CryptoSizes.key && nonce.count == CryptoSizes.ietfNonce)
        precondition(ciphertext.count >= CryptoSizes.tag && output.count == ciphertext.count - CryptoSizes.tag)
        let rc = crypto_aead_chacha20poly1305_ietf_decrypt(
            output.baseAddress?.assumingMemoryBound(to: UInt8.self), nil, nil,
            bytes(ciphertext)!, UInt64(ciphertext.count),
            bytes(associatedData), UInt64(associatedData.count), bytes(nonce)!, bytes(key)!)
        if rc != 0 {
            zeroize(output)
            return false
        }
        return true
    }

    static func hmacSHA256(
        key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) {
        precondition(output.count == CryptoSizes.hash)
        // crypto_auth_hmacsha256_state is 2 × crypto_hash_sha256_state = 208 bytes.
        let stateSize = Int(crypto_auth_hmacsha256_statebytes())
        precondition(stateSize <= 256)
        withUnsafeTemporaryAllocation(byteCount: 256, alignment: 16) { state in
            let s = state.baseAddress!
            withNonNull(key) { k in _ = crypto_auth_hmacsha256_init(s, k, UInt(key.count)) }
            _ = crypto_auth_hmacsha256_update(s, bytes(message), UInt64(message.count))
            _ = crypto_auth_hmacsha256_final(s, mutableBytes(output))
            sodium_memzero(s, UInt(state.count))
        }
    }

    static func sha256(message: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) {
        precondition(output.count == CryptoSizes.hash)
        _ = crypto_hash_sha256(mutableBytes(output), bytes(message), UInt64(message.count))
    }

    static func x25519(
        scalar: UnsafeRawBufferPointer, point: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) {
        precondition(scalar.count == 32 && point.count == 32 && output.count == 32)
        if crypto_scalarmult(mutableBytes(output), bytes(scalar)!, bytes(point)!) != 0 {
            zeroize(output)
            throw .invalidPoint
        }
    }

    static func x25519Base(scalar: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) {
        precondition(scalar.count == 32 && output.count == 32)
        _ = crypto_scalarmult_base(mutableBytes(output), bytes(scalar)!)
    }

    static func ed25519Verify(
        signature: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer,
        publicKey: UnsafeRawBufferPointer
    ) -> Bool {
        guard signature.count == CryptoSizes.ed25519Signature,
              publicKey.count == CryptoSizes.ed25519PublicKey else { return false }
        return crypto_sign_verify_detached(
            bytes(signature)!, bytes(message), UInt64(message.count), bytes(publicKey)!) == 0
    }

    static func argon2id(
        password: UnsafeRawBufferPointer, salt: UnsafeRawBufferPointer,
        iterations: UInt32, memoryBytes: UInt32,
        output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) {
        precondition(salt.count == CryptoSizes.argon2SaltBytes)
        let rc = withNonNull(password) { p in
            p.withMemoryRebound(to: CChar.self, capacity: max(password.count, 1)) { passwd in
                crypto_pwhash(
                    mutableBytes(output), UInt64(output.count), passwd, UInt64(password.count),
                    bytes(salt)!, UInt64(iterations), UInt(memoryBytes), crypto_pwhash_ALG_ARGON2ID13)
            }
        }
        if rc != 0 {
            zeroize(output)
            throw .kdfFailed
        }
    }

    static func hchacha20(key: UnsafeRawBufferPointer, input: UnsafeRawBufferPointer,
                          output: UnsafeMutableRawBufferPointer) {
        precondition(key.count == 32 && input.count == 16 && output.count == 32, "hchacha20 sizes")
        let rc = crypto_core_hchacha20(output.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                       input.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                       key.baseAddress!.assumingMemoryBound(to: UInt8.self), nil)
        precondition(rc == 0, "crypto_core_hchacha20 failed")
    }

    static func chacha20Xor(
        key: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        counter: UInt64,
        input: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) {
        precondition(key.count == 32 && nonce.count == 8 && output.count == input.count, "chacha20 sizes")
        guard input.count > 0 else { return }
        let rc = crypto_stream_chacha20_xor_ic(
            output.baseAddress!.assumingMemoryBound(to: UInt8.self),
            input.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(input.count),
            nonce.baseAddress!.assumingMemoryBound(to: UInt8.self), counter,
            key.baseAddress!.assumingMemoryBound(to: UInt8.self))
        precondition(rc == 0, "crypto_stream_chacha20_xor_ic failed")
    }

    static func randomBytes(_ output: UnsafeMutableRawBufferPointer) {
        guard let base = output.baseAddress, output.count > 0 else { return }
        randombytes_buf(base, UInt(output.count))
    }

    static func zeroize(_ buffer: UnsafeMutableRawBufferPointer) {
        guard buffer.count > 0 else { return }
        sodium_memzero(buffer.baseAddress, UInt(buffer.count))
    }

    static func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        if a.count == 0 { return true }
        return sodium_memcmp(a.baseAddress, b.baseAddress, UInt(a.count)) == 0
    }
}
