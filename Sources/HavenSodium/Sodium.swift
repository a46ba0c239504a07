internal import CSodium
public import HavenCore

/// The core's `CryptoSuite` on libsodium, for the simulator, host tools and
/// Linux-class devices. Each requirement maps onto one libsodium primitive;
/// the sizes in `CryptoSizes` are checked with `precondition` because a wrong
/// size is a programming error in the caller, never a property of untrusted
/// input.
public enum Sodium: CryptoSuite {}

// MARK: - Initialisation

/// `sodium_init()` selects the CPU-specific implementations and prepares the
/// random generator, so it must run before the first primitive. A global `let`
/// is initialised lazily under `swift_once`, which gives "exactly once,
/// thread-safely" without a lock of our own.
private let sodiumIsReady: Bool = sodium_init() >= 0

@inline(__always)
func ensureSodiumReady() {
    precondition(sodiumIsReady, "sodium_init failed")
}

// MARK: - AEAD

extension Sodium {
    public static func aeadSeal(
        key: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer,
        plaintext: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) {
        ensureSodiumReady()
        precondition(key.count == CryptoSizes.key, "XChaCha20-Poly1305 key must be 32 bytes")
        precondition(nonce.count == CryptoSizes.xNonce, "XChaCha20-Poly1305 nonce must be 24 bytes")
        precondition(output.count == plaintext.count + CryptoSizes.tag, "AEAD output must be plaintext + 16 bytes")
        precondition(aliasesExactlyOrNotAtAll(plaintext, output), "AEAD output may only alias the plaintext exactly")
        // Combined mode writes ciphertext ‖ tag, and libsodium allows c == m.
        let rc = crypto_aead_xchacha20poly1305_ietf_encrypt(
            sized(output), nil,
            bytes(plaintext), UInt64(plaintext.count),
            bytes(associatedData), UInt64(associatedData.count),
            nil, sized(nonce), sized(key)
        )
        precondition(rc == 0, "crypto_aead_xchacha20poly1305_ietf_encrypt failed")
    }

    public static func aeadOpen(
        key: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer,
        ciphertext: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        ensureSodiumReady()
        precondition(key.count == CryptoSizes.key, "XChaCha20-Poly1305 key must be 32 bytes")
        precondition(nonce.count == CryptoSizes.xNonce, "XChaCha20-Poly1305 nonce must be 24 bytes")
        precondition(ciphertext.count >= CryptoSizes.tag, "AEAD ciphertext must include the 16-byte tag")
        precondition(output.count == ciphertext.count - CryptoSizes.tag, "AEAD output must be ciphertext - 16 bytes")
        precondition(aliasesExactlyOrNotAtAll(ciphertext, output), "AEAD output may only alias the ciphertext exactly")
        let rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
            bytes(output), nil, nil,
            sized(ciphertext), UInt64(ciphertext.count),
            bytes(associatedData), UInt64(associatedData.count),
            sized(nonce), sized(key)
        )
        if rc != 0 {
            // libsodium already clears `m` on failure; the protocol promises it,
            // so do not depend on that detail of one library version.
            zeroize(output)
            return false
        }
        return true
    }

    public static func chachaPolySeal(
        key: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer,
        plaintext: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) {
        ensureSodiumReady()
        precondition(key.count == CryptoSizes.key, "ChaCha20-Poly1305 key must be 32 bytes")
        precondition(nonce.count == CryptoSizes.ietfNonce, "ChaCha20-Poly1305 nonce must be 12 bytes")
        precondition(output.count == plaintext.count + CryptoSizes.tag, "AEAD output must be plaintext + 16 bytes")
        precondition(aliasesExactlyOrNotAtAll(plaintext, output), "AEAD output may only alias the plaintext exactly")
        let rc = crypto_aead_chacha20poly1305_ietf_encrypt(
            sized(output), nil,
            bytes(plaintext), UInt64(plaintext.count),
            bytes(associatedData), UInt64(associatedData.count),
            nil, sized(nonce), sized(key)
        )
        precondition(rc == 0, "crypto_aead_chacha20poly1305_ietf_encrypt failed")
    }

    public static func chachaPolyOpen(
        key: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer,
        ciphertext: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        ensureSodiumReady()
        precondition(key.count == CryptoSizes.key, "ChaCha20-Poly1305 key must be 32 bytes")
        precondition(nonce.count == CryptoSizes.ietfNonce, "ChaCha20-Poly1305 nonce must be 12 bytes")
        precondition(ciphertext.count >= CryptoSizes.tag, "AEAD ciphertext must include the 16-byte tag")
        precondition(output.count == ciphertext.count - CryptoSizes.tag, "AEAD output must be ciphertext - 16 bytes")
        precondition(aliasesExactlyOrNotAtAll(ciphertext, output), "AEAD output may only alias the ciphertext exactly")
        let rc = crypto_aead_chacha20poly1305_ietf_decrypt(
            bytes(output), nil, nil,
            sized(ciphertext), UInt64(ciphertext.count),
            bytes(associatedData), UInt64(associatedData.count),
            sized(nonce), sized(key)
        )
        if rc != 0 {
            zeroize(output)
            return false
        }
        return true
    }
}

// MARK: - Hashes and MACs

extension Sodium {
    public static func hmacSHA256(
        key: UnsafeRawBufferPointer,
        message: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) {
        ensureSodiumReady()
        precondition(output.count == CryptoSizes.hash, "HMAC-SHA256 output must be 32 bytes")
        // The init/update/final API (unlike crypto_auth_hmacsha256) takes a key
        // of any length and hashes keys longer than a block, as RFC 2104 says.
        var state = crypto_auth_hmacsha256_state()
        withNonNullAddress(key) { keyBytes in
            _ = crypto_auth_hmacsha256_init(&state, keyBytes, key.count)
        }
        _ = crypto_auth_hmacsha256_update(&state, bytes(message), UInt64(message.count))
        _ = crypto_auth_hmacsha256_final(&state, sized(output))
        // The state holds the key XOR ipad/opad, which is as good as the key.
        withUnsafeMutableBytes(of: &state) { zeroize($0) }
    }

    public static func sha256(message: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) {
        ensureSodiumReady()
        precondition(output.count == CryptoSizes.hash, "SHA-256 output must be 32 bytes")
        _ = crypto_hash_sha256(sized(output), bytes(message), UInt64(message.count))
    }
}

// MARK: - Curve25519

extension Sodium {
    public static func x25519(
        scalar: UnsafeRawBufferPointer,
        point: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) {
        ensureSodiumReady()
        precondition(scalar.count == CryptoSizes.x25519, "X25519 scalar must be 32 bytes")
        precondition(point.count == CryptoSizes.x25519, "X25519 point must be 32 bytes")
        precondition(output.count == CryptoSizes.x25519, "X25519 output must be 32 bytes")
        // libsodium returns -1 exactly when the result is all zeros (RFC 7748 §6.1).
        if crypto_scalarmult(sized(output), sized(scalar), sized(point)) != 0 {
            zeroize(output)
            throw .invalidPoint
        }
    }

    public static func x25519Base(scalar: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) {
        ensureSodiumReady()
        precondition(scalar.count == CryptoSizes.x25519, "X25519 scalar must be 32 bytes")
        precondition(output.count == CryptoSizes.x25519, "X25519 output must be 32 bytes")
        let rc = crypto_scalarmult_base(sized(output), sized(scalar))
        precondition(rc == 0, "crypto_scalarmult_base failed")
    }

    public static func ed25519Verify(
        signature: UnsafeRawBufferPointer,
        message: UnsafeRawBufferPointer,
        publicKey: UnsafeRawBufferPointer
    ) -> Bool {
        ensureSodiumReady()
        precondition(signature.count == CryptoSizes.ed25519Signature, "Ed25519 signature must be 64 bytes")
        precondition(publicKey.count == CryptoSizes.ed25519PublicKey, "Ed25519 public key must be 32 bytes")
        return crypto_sign_verify_detached(
            sized(signature), bytes(message), UInt64(message.count), sized(publicKey)
        ) == 0
    }
}

// MARK: - Password hashing

extension Sodium {
    public static func argon2id(
        password: UnsafeRawBufferPointer,
        salt: UnsafeRawBufferPointer,
        iterations: UInt32,
        memoryBytes: UInt32,
        output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) {
        ensureSodiumReady()
        // crypto_pwhash reads exactly crypto_pwhash_SALTBYTES (16) of salt.
        precondition(salt.count == CryptoSizes.argon2SaltBytes, "Argon2id salt must be 16 bytes")
        precondition(output.count >= Int(crypto_pwhash_BYTES_MIN), "Argon2id output must be at least 16 bytes")
        // Parameters libsodium refuses (too little memory, zero iterations, or
        // an allocation failure on a small device) are reported, not trapped:
        // they can come from a configuration.
        let rc = withNonNullAddress(password) { passwordBytes in
            crypto_pwhash(
                sized(output), UInt64(output.count),
                UnsafeRawPointer(passwordBytes).assumingMemoryBound(to: CChar.self), UInt64(password.count),
                sized(salt),
                UInt64(iterations), Int(memoryBytes),
                crypto_pwhash_alg_argon2id13()
            )
        }
        if rc != 0 {
            zeroize(output)
            throw .kdfFailed
        }
    }
}

// MARK: - Randomness and memory

extension Sodium {
    public static func hchacha20(key: UnsafeRawBufferPointer, input: UnsafeRawBufferPointer,
                                 output: UnsafeMutableRawBufferPointer) {
        ensureSodiumReady()
        precondition(key.count == 32 && input.count == 16 && output.count == 32, "HChaCha20 sizes")
        let rc = crypto_core_hchacha20(bytes(output)!, bytes(input)!, bytes(key)!, nil)
        precondition(rc == 0, "crypto_core_hchacha20 failed")
    }

    public static func chacha20Xor(
        key: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        counter: UInt64,
        input: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) {
        ensureSodiumReady()
        precondition(key.count == CryptoSizes.key, "ChaCha20 key must be 32 bytes")
        precondition(nonce.count == 8, "ChaCha20 (original) nonce must be 8 bytes")
        precondition(output.count == input.count, "ChaCha20 output must be as long as the input")
        guard input.count > 0 else { return }
        let rc = crypto_stream_chacha20_xor_ic(
            bytes(output)!, bytes(input)!, UInt64(input.count), bytes(nonce)!, counter, bytes(key)!)
        precondition(rc == 0, "crypto_stream_chacha20_xor_ic failed")
    }

    public static func randomBytes(_ output: UnsafeMutableRawBufferPointer) {
        ensureSodiumReady()
        guard let base = output.baseAddress, output.count > 0 else { return }
        randombytes_buf(base, output.count)
    }

    public static func zeroize(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        sodium_memzero(base, buffer.count)
    }

    public static func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        ensureSodiumReady()
        precondition(a.count == b.count, "constantTimeEqual needs buffers of equal length")
        guard a.count > 0 else { return true }
        return sodium_memcmp(a.baseAddress, b.baseAddress, a.count) == 0
    }
}

// MARK: - Pointer plumbing

/// libsodium takes `unsigned char *`; an empty Swift buffer may have no
/// address at all, which libsodium accepts wherever the header allows NULL.
@inline(__always)
func bytes(_ buffer: UnsafeRawBufferPointer) -> UnsafePointer<UInt8>? {
    buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
}

@inline(__always)
func bytes(_ buffer: UnsafeMutableRawBufferPointer) -> UnsafeMutablePointer<UInt8>? {
    buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
}

/// For buffers whose size a precondition has already fixed above zero, and so
/// have an address: the arguments libsodium declares `nonnull`.
@inline(__always)
func sized(_ buffer: UnsafeRawBufferPointer) -> UnsafePointer<UInt8> {
    buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
}

@inline(__always)
func sized(_ buffer: UnsafeMutableRawBufferPointer) -> UnsafeMutablePointer<UInt8> {
    buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
}

/// Some entry points (the HMAC key, the password) are declared `nonnull` even
/// for a zero length, and an empty key or password is legal; lend them the
/// address of a byte that is never read.
@inline(__always)
func withNonNullAddress<R>(_ buffer: UnsafeRawBufferPointer, _ body: (UnsafePointer<UInt8>) -> R) -> R {
    if let base = buffer.baseAddress {
        return body(base.assumingMemoryBound(to: UInt8.self))
    }
    let unread: UInt8 = 0
    return withUnsafePointer(to: unread) { body($0) }
}

/// libsodium supports `c == m` but not a partial overlap, which would encrypt
/// bytes already overwritten. The protocol allows only the exact alias.
func aliasesExactlyOrNotAtAll(_ input: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer) -> Bool {
    guard let inputBase = input.baseAddress, let outputBase = output.baseAddress,
        input.count > 0, output.count > 0
    else { return true }
    let inputStart = UInt(bitPattern: inputBase)
    let outputStart = UInt(bitPattern: outputBase)
    if inputStart == outputStart { return true }
    return inputStart + UInt(input.count) <= outputStart || outputStart + UInt(output.count) <= inputStart
}
