import HavenCore
import HavenSodium
import Testing

/// RFC 8032 §7.1, Ed25519 TEST 1–3.
private struct Vector: Sendable, CustomTestStringConvertible {
    let name: String
    let secretKey: String
    let publicKey: String
    let message: String
    let signature: String
    var testDescription: String { name }
}

private let vectors: [Vector] = [
    Vector(
        name: "TEST 1",
        secretKey: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        message: "",
        signature: """
            e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155
            5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b
            """),
    Vector(
        name: "TEST 2",
        secretKey: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        message: "72",
        signature: """
            92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da
            085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00
            """),
    Vector(
        name: "TEST 3",
        secretKey: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        message: "af82",
        signature: """
            6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac
            18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a
            """),
]

/// Verification through the protocol's pointer API, as the device calls it.
private func verify(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
    signature.withUnsafeBytes { sig in
        message.withUnsafeBytes { m in
            publicKey.withUnsafeBytes { Sodium.ed25519Verify(signature: sig, message: m, publicKey: $0) }
        }
    }
}

@Suite struct Ed25519Tests {
    @Test(arguments: vectors)
    fileprivate func seedGivesRFCPublicKey(_ v: Vector) {
        let pair = Sodium.ed25519KeyPair(seed: hex(v.secretKey))
        #expect(hexString(pair.publicKey) == v.publicKey)
        #expect(hexString(pair.seed) == v.secretKey)
    }

    @Test(arguments: vectors)
    fileprivate func signGivesRFCSignature(_ v: Vector) {
        let pair = Sodium.ed25519KeyPair(seed: hex(v.secretKey))
        let signature = Sodium.ed25519Sign(message: hex(v.message), keyPair: pair)
        #expect(hexString(signature) == normalizedHex(v.signature))
    }

    @Test(arguments: vectors)
    fileprivate func rfcSignatureVerifies(_ v: Vector) {
        #expect(verify(signature: hex(v.signature), message: hex(v.message), publicKey: hex(v.publicKey)))
        #expect(Sodium.ed25519Verify(signature: hex(v.signature), message: hex(v.message), publicKey: hex(v.publicKey)))
    }

    @Test(arguments: vectors)
    fileprivate func flippedSignatureBitFails(_ v: Vector) {
        for index in [0, 31, 32, 63] {  // first and last byte of R, then of S
            var signature = hex(v.signature)
            signature[index] ^= 0x01
            #expect(!verify(signature: signature, message: hex(v.message), publicKey: hex(v.publicKey)))
        }
    }

    @Test(arguments: vectors)
    fileprivate func changedMessageOrKeyFails(_ v: Vector) {
        var message = hex(v.message)
        if message.isEmpty { message = [0x00] } else { message[0] ^= 0x01 }
        #expect(!verify(signature: hex(v.signature), message: message, publicKey: hex(v.publicKey)))

        var publicKey = hex(v.publicKey)
        publicKey[0] ^= 0x01
        #expect(!verify(signature: hex(v.signature), message: hex(v.message), publicKey: publicKey))
    }

    @Test func randomKeyPairSignsAndVerifies() {
        let a = Sodium.ed25519KeyPair()
        let b = Sodium.ed25519KeyPair()
        #expect(a.seed != b.seed)
        #expect(Sodium.ed25519KeyPair(seed: a.seed).publicKey == a.publicKey)
        let message = Array("haven config v7".utf8)
        let signature = Sodium.ed25519Sign(message: message, keyPair: a)
        #expect(verify(signature: signature, message: message, publicKey: a.publicKey))
        #expect(!verify(signature: signature, message: message, publicKey: b.publicKey))
    }
}
