import HavenCore
import HavenSodium
import Testing

private func x25519(scalar: [UInt8], point: [UInt8]) throws(CryptoError) -> [UInt8] {
    var result = [UInt8](repeating: 0xEE, count: CryptoSizes.x25519)
    var failure: CryptoError?
    result.withUnsafeMutableBytes { out in
        scalar.withUnsafeBytes { s in
            point.withUnsafeBytes { p in
                do throws(CryptoError) { try Sodium.x25519(scalar: s, point: p, output: out) } catch { failure = error }
            }
        }
    }
    if let failure { throw failure }
    return result
}

private func x25519Base(_ scalar: [UInt8]) -> [UInt8] {
    output(count: CryptoSizes.x25519) { out in
        scalar.withUnsafeBytes { Sodium.x25519Base(scalar: $0, output: out) }
    }
}

/// RFC 7748 §6.1 (Curve25519 Diffie-Hellman).
private enum DH {
    static let alicePrivate = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    static let alicePublic = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    static let bobPrivate = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    static let bobPublic = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
    static let shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
}

@Suite struct X25519Tests {
    /// RFC 7748 §5.2, first test vector.
    @Test func rfc7748Section52Vector1() throws {
        let out = try x25519(
            scalar: hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
            point: hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"))
        #expect(hexString(out) == "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552")
    }

    /// RFC 7748 §5.2, second test vector (the u-coordinate has its top bit
    /// set, which X25519 must ignore).
    @Test func rfc7748Section52Vector2() throws {
        let out = try x25519(
            scalar: hex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
            point: hex("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"))
        #expect(hexString(out) == "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957")
    }

    @Test func rfc7748Section61PublicKeys() {
        #expect(hexString(x25519Base(DH.alicePrivate)) == DH.alicePublic)
        #expect(hexString(x25519Base(DH.bobPrivate)) == DH.bobPublic)
    }

    @Test func rfc7748Section61SharedSecret() throws {
        let aliceView = try x25519(scalar: DH.alicePrivate, point: hex(DH.bobPublic))
        let bobView = try x25519(scalar: DH.bobPrivate, point: hex(DH.alicePublic))
        #expect(hexString(aliceView) == DH.shared)
        #expect(hexString(bobView) == DH.shared)
    }

    @Test func allZeroPointIsRejected() {
        #expect(throws: CryptoError.invalidPoint) {
            try x25519(scalar: DH.alicePrivate, point: [UInt8](repeating: 0, count: 32))
        }
    }

    @Test func lowOrderPointIsRejectedAndOutputZeroed() {
        // u = 1 has order 4 (RFC 7748 §6.1's "small-order" case): the result
        // is all zeros for every clamped scalar.
        var point = [UInt8](repeating: 0, count: 32)
        point[0] = 1
        var out = [UInt8](repeating: 0xEE, count: 32)
        var failure: CryptoError?
        out.withUnsafeMutableBytes { o in
            DH.alicePrivate.withUnsafeBytes { s in
                point.withUnsafeBytes { p in
                    do throws(CryptoError) { try Sodium.x25519(scalar: s, point: p, output: o) } catch { failure = error }
                }
            }
        }
        #expect(failure == .invalidPoint)
        #expect(out == [UInt8](repeating: 0, count: 32))
    }

    @Test func arrayWrapperAndRandomKeyPairsAgree() throws {
        #expect(hexString(try Sodium.x25519(scalar: DH.alicePrivate, point: hex(DH.bobPublic))) == DH.shared)
        let alice = Sodium.x25519KeyPair()
        let bob = Sodium.x25519KeyPair()
        #expect(alice.secretKey != bob.secretKey)
        #expect(alice.publicKey == x25519Base(alice.secretKey))
        let ab = try Sodium.x25519(scalar: alice.secretKey, point: bob.publicKey)
        let ba = try Sodium.x25519(scalar: bob.secretKey, point: alice.publicKey)
        #expect(ab == ba)
        #expect(ab != [UInt8](repeating: 0, count: 32))
    }
}
