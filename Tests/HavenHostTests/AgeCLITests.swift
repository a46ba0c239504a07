import Foundation
import HavenCore
import HavenHost
import HavenSodium
import Testing

/// Interoperability with the reference implementation: Debian's `age`
/// (Tools/setup installs it). Device-sealed files open with `age -d`, and
/// files `age` writes open with `AgeFile.decrypt`. The empty file and
/// exactly 2 × 64 KiB (a full final chunk) are the known edge cases.
@Suite(.serialized) struct AgeCLITests {
    static let age = "/usr/bin/age"
    static let sizes = [0, 1, 1000, 65535, 65536, 65537, 2 * 65536, 200_000]

    @Test func ageIsInstalled() {
        #expect(FileManager.default.isExecutableFile(atPath: Self.age), "Tools/setup installs age")
    }

    // MARK: device → age

    @Test(arguments: sizes)
    func deviceSealedFilesOpenWithAge(_ size: Int) throws {
        let dir = try TempDir()
        let identities = (0..<3).map { _ in AgeIdentity.generate() }
        let plaintext = testBytes(size, seed: UInt64(size) &+ 3)
        // One recipient, and three (opened by the last one's key).
        for recipients in [[identities[0]], identities] {
            let file = try dir.write("record.age", try AgeFile.encrypt(plaintext, to: recipients.map(\.recipient)))
            let key = try dir.write("identity.txt", recipients.last!.encoded + "\n")
            let result = try runTool(Self.age, ["-d", "-i", key, file])
            #expect(result.status == 0, "age -d failed: \(result.stderr)")
            #expect(result.stdout == plaintext)
        }
    }

    @Test func ageRefusesADeviceSealedFileForSomeoneElse() throws {
        let dir = try TempDir()
        let file = try dir.write("record.age", try AgeFile.encrypt([1, 2, 3], to: [AgeIdentity.generate().recipient]))
        let key = try dir.write("identity.txt", AgeIdentity.generate().encoded + "\n")
        let result = try runTool(Self.age, ["-d", "-i", key, file])
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
    }

    // MARK: age → host

    @Test(arguments: sizes)
    func ageFilesOpenWithAgeFile(_ size: Int) throws {
        let dir = try TempDir()
        let identity = AgeIdentity.generate()
        let plaintext = testBytes(size, seed: UInt64(size) &+ 11)
        let input = try dir.write("in.bin", plaintext)
        let out = dir.path("out.age")
        let result = try runTool(Self.age, ["-r", identity.recipient.encoded, "-o", out, input])
        #expect(result.status == 0, "age -r failed: \(result.stderr)")
        let file = try dir.read("out.age")
        #expect(try AgeFile.decrypt(file, identities: [identity]) == plaintext)
    }

    @Test func ageRecipientsFileWithTwoRecipients() throws {
        let dir = try TempDir()
        let a = AgeIdentity.generate(), b = AgeIdentity.generate()
        let plaintext = testBytes(70_000, seed: 5)
        let input = try dir.write("in.bin", plaintext)
        let list = try dir.write("recipients.txt", "# research team\n\(a.recipient.encoded)\n\(b.recipient.encoded)\n")
        let result = try runTool(Self.age, ["-R", list, "-o", dir.path("out.age"), input])
        #expect(result.status == 0, "age -R failed: \(result.stderr)")
        let file = try dir.read("out.age")
        #expect(try AgeFile.decrypt(file, identities: [a]) == plaintext)
        #expect(try AgeFile.decrypt(file, identities: [b]) == plaintext)
        #expect(throws: AgeError.noMatchingIdentity) { try AgeFile.decrypt(file, identities: [AgeIdentity.generate()]) }
    }

    /// Haven never writes armor and refuses to read it, with an error that
    /// says what to do (see Docs/sealed-record.md).
    @Test func armoredFilesAreRefusedClearly() throws {
        let dir = try TempDir()
        let identity = AgeIdentity.generate()
        let input = try dir.write("in.bin", [UInt8]("hello".utf8))
        let result = try runTool(Self.age, ["--armor", "-r", identity.recipient.encoded, "-o", dir.path("out.age"), input])
        #expect(result.status == 0, "age --armor failed: \(result.stderr)")
        let file = try dir.read("out.age")
        #expect(throws: AgeError.armored) { try AgeFile.decrypt(file, identities: [identity]) }
        #expect(throws: AgeError.armored) { try AgeFile.decrypt(Array("\r\n  ".utf8) + file, identities: [identity]) }
        #expect(AgeError.armored.description.contains("age -d"))
    }

    /// Stanzas of types Haven does not know (here age's own ssh-ed25519 and
    /// ssh-rsa, whose 256-byte body spans several 64-column lines) are
    /// skipped, and the X25519 stanza still opens the file.
    @Test func unknownStanzaTypesFromAgeAreIgnored() throws {
        let keygen = "/usr/bin/ssh-keygen"
        try #require(FileManager.default.isExecutableFile(atPath: keygen), "ssh-keygen (openssh-client) not installed")
        let dir = try TempDir()
        for (type, extra) in [("ed25519", [String]()), ("rsa", ["-b", "2048"])] {
            let key = dir.path("id_\(type)")
            let generated = try runTool(keygen, ["-q", "-t", type] + extra + ["-N", "", "-f", key])
            #expect(generated.status == 0, "ssh-keygen: \(generated.stderr)")
            let sshRecipient = String(decoding: try dir.read("id_\(type).pub"), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let identity = AgeIdentity.generate()
            let plaintext = testBytes(3000, seed: 8)
            let input = try dir.write("in.bin", plaintext)
            // The ssh stanza comes first, so the decryptor must step over it.
            let result = try runTool(Self.age, ["-r", sshRecipient, "-r", identity.recipient.encoded,
                                                "-o", dir.path("out.age"), input])
            #expect(result.status == 0, "age failed: \(result.stderr)")
            let file = try dir.read("out.age")
            #expect(String(decoding: file.prefix(200), as: UTF8.self).contains("-> ssh-\(type == "rsa" ? "rsa" : "ed25519")"))
            #expect(try AgeFile.decrypt(file, identities: [identity]) == plaintext)
        }
    }
}
