internal import CSodium
public import HavenCore

// Host-only extras. The device never signs or generates long-term keys (it
// verifies configs and seals to the research team's X25519 keys), so these
// stay out of `CryptoSuite` and out of the firmware's reach. They allocate
// `[UInt8]`s, which is fine on a host and is why they are not in the core.
// Secret keys held in arrays cannot be reliably wiped (copies, reallocation);
// host code that keeps them long should copy them into its own buffers and
// call `Sodium.zeroize`.

// MARK: - Key pairs

extension Sodium {
    /// An Ed25519 key pair. The 32-byte seed is the RFC 8032 secret key and
    /// the form to store; libsodium's 64-byte `seed ‖ public key` form is
    /// rebuilt only for the duration of a signature, so a pair built here can
    /// never carry a public key that does not match its seed.
    public struct Ed25519KeyPair: Sendable {
        public let seed: [UInt8]
        public let publicKey: [UInt8]
    }

    /// An X25519 key pair (`publicKey = secretKey · basepoint`), for the
    /// research team's recipient keys and the host side of key agreement.
    public struct X25519KeyPair: Sendable {
        public let secretKey: [UInt8]
        public let publicKey: [UInt8]
    }

    /// Derives the pair for an RFC 8032 secret key (a 32-byte seed). This is
    /// how a provisioning key is restored from its stored seed.
    public static func ed25519KeyPair(seed: [UInt8]) -> Ed25519KeyPair {
        ensureSodiumReady()
        precondition(seed.count == 32, "Ed25519 seed must be 32 bytes")
        var publicKey = [UInt8](repeating: 0, count: CryptoSizes.ed25519PublicKey)
        withUnsafeTemporaryAllocation(byteCount: 64, alignment: 1) { expanded in
            let rc = publicKey.withUnsafeMutableBufferPointer { pk in
                seed.withUnsafeBufferPointer { s in
                    crypto_sign_seed_keypair(pk.baseAddress!, sized(expanded), s.baseAddress!)
                }
            }
            precondition(rc == 0, "crypto_sign_seed_keypair failed")
            zeroize(expanded)
        }
        return Ed25519KeyPair(seed: seed, publicKey: publicKey)
    }

    /// A new Ed25519 key pair from the system CSPRNG.
    public static func ed25519KeyPair() -> Ed25519KeyPair {
        ed25519KeyPair(seed: random(count: 32))
    }

    /// Signs `message` (RFC 8032 Ed25519, deterministic: the same key and
    /// message always give the same 64 bytes).
    public static func ed25519Sign(message: [UInt8], keyPair: Ed25519KeyPair) -> [UInt8] {
        ensureSodiumReady()
        var signature = [UInt8](repeating: 0, count: CryptoSizes.ed25519Signature)
        withUnsafeTemporaryAllocation(byteCount: 64, alignment: 1) { secretKey in
            secretKey.copyBytes(from: keyPair.seed)
            UnsafeMutableRawBufferPointer(rebasing: secretKey[32...]).copyBytes(from: keyPair.publicKey)
            let rc = signature.withUnsafeMutableBufferPointer { sig in
                message.withUnsafeBufferPointer { m in
                    crypto_sign_detached(sig.baseAddress!, nil, m.baseAddress, UInt64(m.count), sized(secretKey))
                }
            }
            precondition(rc == 0, "crypto_sign_detached failed")
            zeroize(secretKey)
        }
        return signature
    }

    /// A new X25519 key pair from the system CSPRNG. The scalar is stored
    /// unclamped; X25519 clamps it on every use (RFC 7748 §5).
    public static func x25519KeyPair() -> X25519KeyPair {
        let secretKey = random(count: CryptoSizes.x25519)
        let publicKey = fill(count: CryptoSizes.x25519) { out in
            secretKey.withUnsafeBytes { x25519Base(scalar: $0, output: out) }
        }
        return X25519KeyPair(secretKey: secretKey, publicKey: publicKey)
    }
}

// MARK: - Array conveniences over the suite

extension Sodium {
    /// `count` bytes from the system CSPRNG.
    public static func random(count: Int) -> [UInt8] {
        fill(count: count) { randomBytes($0) }
    }

    /// HKDF-SHA256 through the core's `HKDF<Sodium>`, so host and device
    /// derive keys with the same code. An empty salt means 32 zero bytes.
    public static func hkdf(salt: [UInt8], inputKeyMaterial: [UInt8], info: [UInt8], count: Int) -> [UInt8] {
        fill(count: count) { out in
            salt.withUnsafeBytes { s in
                inputKeyMaterial.withUnsafeBytes { ikm in
                    info.withUnsafeBytes { i in
                        HKDF<Sodium>.derive(salt: s, inputKeyMaterial: ikm, info: i, output: out)
                    }
                }
            }
        }
    }

    public static func sha256(_ message: [UInt8]) -> [UInt8] {
        fill(count: CryptoSizes.hash) { out in
            message.withUnsafeBytes { sha256(message: $0, output: out) }
        }
    }

    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        fill(count: CryptoSizes.hash) { out in
            key.withUnsafeBytes { k in
                message.withUnsafeBytes { hmacSHA256(key: k, message: $0, output: out) }
            }
        }
    }

    /// XChaCha20-Poly1305: returns ciphertext ‖ tag.
    public static func aeadSeal(key: [UInt8], nonce: [UInt8], associatedData: [UInt8], plaintext: [UInt8]) -> [UInt8] {
        fill(count: plaintext.count + CryptoSizes.tag) { out in
            key.withUnsafeBytes { k in
                nonce.withUnsafeBytes { n in
                    associatedData.withUnsafeBytes { ad in
                        plaintext.withUnsafeBytes { aeadSeal(key: k, nonce: n, associatedData: ad, plaintext: $0, output: out) }
                    }
                }
            }
        }
    }

    /// XChaCha20-Poly1305: opens ciphertext ‖ tag, or throws
    /// `.authenticationFailed` without returning any plaintext.
    public static func aeadOpen(
        key: [UInt8], nonce: [UInt8], associatedData: [UInt8], ciphertext: [UInt8]
    ) throws(CryptoError) -> [UInt8] {
        precondition(ciphertext.count >= CryptoSizes.tag, "AEAD ciphertext must include the 16-byte tag")
        var failure: CryptoError?
        let plaintext = fill(count: ciphertext.count - CryptoSizes.tag) { out in
            key.withUnsafeBytes { k in
                nonce.withUnsafeBytes { n in
                    associatedData.withUnsafeBytes { ad in
                        ciphertext.withUnsafeBytes { c in
                            do throws(CryptoError) {
                                try aeadOpenChecked(key: k, nonce: n, associatedData: ad, ciphertext: c, output: out)
                            } catch {
                                failure = error
                            }
                        }
                    }
                }
            }
        }
        if let failure { throw failure }
        return plaintext
    }

    /// X25519 on arrays; throws `.invalidPoint` for a low-order `point`.
    public static func x25519(scalar: [UInt8], point: [UInt8]) throws(CryptoError) -> [UInt8] {
        var failure: CryptoError?
        let shared = fill(count: CryptoSizes.x25519) { out in
            scalar.withUnsafeBytes { s in
                point.withUnsafeBytes { p in
                    do throws(CryptoError) {
                        try x25519(scalar: s, point: p, output: out)
                    } catch {
                        failure = error
                    }
                }
            }
        }
        if let failure { throw failure }
        return shared
    }

    public static func ed25519Verify(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        signature.withUnsafeBytes { sig in
            message.withUnsafeBytes { m in
                publicKey.withUnsafeBytes { ed25519Verify(signature: sig, message: m, publicKey: $0) }
            }
        }
    }
}

/// A `count`-byte array written by `body`. Zero-filled first so a primitive
/// that bails out early can never expose uninitialised memory.
private func fill(count: Int, _ body: (UnsafeMutableRawBufferPointer) -> Void) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { body($0) }
    return bytes
}
