/// The cryptographic primitives the core needs, as static requirements so the
/// core can be generic over them without existentials (Embedded Swift has
/// none). `HavenSodium.Sodium` implements this on libsodium; firmware for a
/// board with a crypto engine can implement it on that engine instead.
///
/// Buffer contracts are part of the protocol: sizes are given by the
/// constants below and implementations may `precondition` on them. Callers
/// in the core always pass exactly these sizes.
public protocol CryptoSuite {
    /// XChaCha20-Poly1305 (IETF construction, 24-byte nonce, 16-byte tag).
    /// Writes `plaintext.count + 16` bytes (ciphertext ‖ tag) to `output`.
    /// `output` may alias `plaintext` exactly (in-place encryption).
    static func aeadSeal(
        key: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer,
        plaintext: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    )

    /// Opens `ciphertext` (ciphertext ‖ tag) into `output`
    /// (`ciphertext.count - 16` bytes). Returns false, with `output` zeroed,
    /// when the tag does not verify. `output` may alias the start of
    /// `ciphertext` exactly (in-place decryption).
    ///
    /// A failed tag is an ordinary outcome here (scans try headers that turn
    /// out to be erased space or another key's data), so it is a result, not
    /// a thrown error: throwing on every probe would be slow under debuggers
    /// and test harnesses that hook `swift_willThrow`.
    static func aeadOpen(
        key: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer,
        ciphertext: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) -> Bool

    /// ChaCha20-Poly1305 (IETF, 12-byte nonce). Needed by the age v1 format,
    /// which wraps file keys and encrypts payload chunks with it.
    static func chachaPolySeal(
        key: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer,
        plaintext: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    )

    /// Like `aeadOpen`: false (and `output` zeroed) when the tag fails.
    static func chachaPolyOpen(
        key: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        associatedData: UnsafeRawBufferPointer,
        ciphertext: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) -> Bool

    /// HChaCha20: derives the 32-byte subkey XChaCha20 uses for the first 16
    /// nonce bytes. XChaCha20(K, N) = ChaCha20(HChaCha20(K, N[0..<16]), N[16..<24]),
    /// and XChaCha20-Poly1305(K, N) = ChaCha20-Poly1305-IETF(HChaCha20(K,
    /// N[0..<16]), 0⁴ ‖ N[16..<24]); the store computes the subkey once per
    /// nonce prefix instead of once per fragment.
    static func hchacha20(key: UnsafeRawBufferPointer, input: UnsafeRawBufferPointer,
                          output: UnsafeMutableRawBufferPointer)

    /// The original ChaCha20 stream (8-byte nonce, 64-bit block counter):
    /// `output = input ⊕ keystream` from block `counter`. `output` may alias
    /// `input` exactly.
    static func chacha20Xor(
        key: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        counter: UInt64,
        input: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    )

    /// HMAC-SHA256 of `message` under `key` (any length) into 32 bytes.
    static func hmacSHA256(
        key: UnsafeRawBufferPointer,
        message: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    )

    /// SHA-256 of `message` into 32 bytes.
    static func sha256(message: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer)

    /// X25519: `output = scalar · point`. Throws `.invalidPoint` when the
    /// result is all zeros (a low-order point), as RFC 7748 §6.1 requires.
    static func x25519(
        scalar: UnsafeRawBufferPointer,
        point: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError)

    /// X25519 public key of `scalar` (scalar · basepoint).
    static func x25519Base(scalar: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer)

    /// Ed25519 signature verification (the device only ever verifies).
    static func ed25519Verify(
        signature: UnsafeRawBufferPointer,
        message: UnsafeRawBufferPointer,
        publicKey: UnsafeRawBufferPointer
    ) -> Bool

    /// Argon2id (version 0x13, one lane) into `output`. `memoryBytes` is the
    /// memory cost in bytes, `iterations` the time cost.
    static func argon2id(
        password: UnsafeRawBufferPointer,
        salt: UnsafeRawBufferPointer,
        iterations: UInt32,
        memoryBytes: UInt32,
        output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError)

    /// Fills `output` from a cryptographically secure generator.
    static func randomBytes(_ output: UnsafeMutableRawBufferPointer)

    /// Overwrites `buffer` with zeros in a way the optimiser may not remove.
    static func zeroize(_ buffer: UnsafeMutableRawBufferPointer)

    /// Constant-time comparison of two equal-length buffers.
    static func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool
}

extension CryptoSuite {
    /// `aeadOpen` for callers that treat a failed tag as an error.
    public static func aeadOpenChecked(
        key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer,
        ciphertext: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) {
        guard aeadOpen(key: key, nonce: nonce, associatedData: associatedData, ciphertext: ciphertext,
                       output: output) else { throw .authenticationFailed }
    }

    /// `chachaPolyOpen` for callers that treat a failed tag as an error.
    public static func chachaPolyOpenChecked(
        key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer,
        ciphertext: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) {
        guard chachaPolyOpen(key: key, nonce: nonce, associatedData: associatedData, ciphertext: ciphertext,
                             output: output) else { throw .authenticationFailed }
    }
}

/// Sizes fixed by the primitives above.
public enum CryptoSizes {
    public static let key = 32
    public static let xNonce = 24
    public static let ietfNonce = 12
    public static let tag = 16
    public static let hash = 32
    public static let x25519 = 32
    public static let ed25519PublicKey = 32
    public static let ed25519Signature = 64
    public static let argon2SaltBytes = 16
}

/// What a primitive can report. Deliberately coarse: a caller must not learn
/// *why* authentication failed.
public enum CryptoError: Error, Equatable {
    case authenticationFailed
    case invalidPoint
    /// The KDF could not run with these parameters (for example, not enough
    /// memory on this device).
    case kdfFailed
}
