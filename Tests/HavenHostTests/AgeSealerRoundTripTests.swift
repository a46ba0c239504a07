import HavenCore
import HavenHost
import HavenSodium
import Testing

/// The core sealer opened by the host decryptor, and the host decryptor
/// checked against an independent writer (CraftedAge).
@Suite struct AgeSealerRoundTripTests {
    static let sizes = [0, 1, 1000, 65536, 65537, 2 * 65536, 200_000]

    @Test(arguments: sizes, [1, 3])
    func sealThenOpen(_ size: Int, _ recipientCount: Int) throws {
        let identities = (0..<recipientCount).map { _ in AgeIdentity.generate() }
        let plaintext = testBytes(size, seed: UInt64(size))
        let sealed = try AgeFile.encrypt(plaintext, to: identities.map(\.recipient))
        #expect(sealed.count == AgeSealer<Sodium>.sealedSize(plaintextCount: size, recipientCount: recipientCount))
        // Every recipient can open it on its own.
        for identity in identities {
            #expect(try AgeFile.decrypt(sealed, identities: [identity]) == plaintext)
        }
        // With a keyring that holds a stranger first.
        #expect(try AgeFile.decrypt(sealed, identities: [AgeIdentity.generate(), identities.last!]) == plaintext)
        #expect(throws: AgeError.noMatchingIdentity) {
            try AgeFile.decrypt(sealed, identities: [AgeIdentity.generate()])
        }
    }

    /// The host decryptor agrees with a second writer built from the spec
    /// (and Foundation's base64), so the sealer and decryptor are not just
    /// consistent with each other.
    @Test(arguments: sizes)
    func independentWriterIsReadable(_ size: Int) throws {
        let identity = AgeIdentity.generate()
        var crafted = CraftedAge()
        crafted.addX25519(identity.recipient)
        let plaintext = testBytes(size, seed: 99)
        #expect(try AgeFile.decrypt(crafted.file(plaintext), identities: [identity]) == plaintext)
    }

    @Test func encryptRefusesBadRecipientLists() {
        #expect(throws: SealError.noRecipients) { try AgeFile.encrypt([1, 2, 3], to: []) }
        let lowOrder = AgeRecipient(publicKey: [UInt8](repeating: 0, count: 32))
        #expect(throws: SealError.invalidRecipient(index: 1)) {
            try AgeFile.encrypt([1], to: [AgeIdentity.generate().recipient, lowOrder])
        }
    }
}
