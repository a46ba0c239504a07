import Foundation
import HavenCore
import HavenHost
import HavenSodium
import Testing

/// Key files (`haven keygen`) with the real `age` tool, and the `haven`
/// binary itself for keygen and config build.
@Suite(.serialized) struct ConfigKeygenTests {
    static let repo = ConfigBuilderTests.repo
    static let haven = repo.appendingPathComponent(".build/debug/haven").path

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func ageEncryptsToTheKeygenRecipientAndBothDecrypt() throws {
        let dir = try TempDir()
        let identity = AgeIdentity.generate()
        let path = dir.path("research.agekey")
        try KeyFiles.writeSecret(KeyFiles.ageIdentityFileText(identity), to: path)
        #expect(try mode(path) == 0o600)
        #expect(throws: ConfigBuildError.self) { try KeyFiles.writeSecret("x", to: path) }

        let plaintext = Array("interview 17: answers".utf8)
        let input = try dir.write("in.bin", plaintext)
        let out = dir.path("record.age")
        let enc = try runTool(AgeCLITests.age, ["-r", identity.recipient.encoded, "-o", out, input])
        #expect(enc.status == 0, "age -r: \(enc.stderr)")
        // Our AgeFile with the identity parsed back from the file.
        let identities = try KeyFiles.parseAgeIdentityFile(try String(contentsOfFile: path, encoding: .utf8))
        #expect(try AgeFile.decrypt(try dir.read("record.age"), identities: identities) == plaintext)
        // And age itself reads the identity file.
        let dec = try runTool(AgeCLITests.age, ["-d", "-i", path, out])
        #expect(dec.status == 0, "age -d: \(dec.stderr)")
        #expect(dec.stdout == plaintext)
    }

    @Test func provisioningKeyFilesRoundTripAndSign() throws {
        let key = ProvisioningKey.generate()
        let parsed = try ProvisioningKey(parsingSecretFile: key.secretFileText)
        #expect(parsed.publicKey == key.publicKey)
        #expect(try ProvisioningKey.parsePublicFile(key.publicFileText) == key.publicKey)
        let message = Array("challenge".utf8)
        let signature = Sodium.ed25519Sign(message: message, keyPair: parsed.keyPair)
        #expect(Sodium.ed25519Verify(signature: signature, message: message, publicKey: key.publicKey))
        #expect(throws: ConfigBuildError.self) { try ProvisioningKey(parsingSecretFile: key.publicFileText) }
        #expect(throws: ConfigBuildError.self) { try ProvisioningKey(parsingSecretFile: "HAVEN-PROVISIONING-KEY-1:zz") }
    }

    @Test func havenKeygenAndConfigBuildFromTheCommandLine() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.haven), "swift build makes .build/debug/haven")
        let dir = try TempDir()
        let keys = dir.path("keys")
        let gen = try runTool(Self.haven, ["keygen", "--out", keys])
        #expect(gen.status == 0, "keygen: \(gen.stderr)")
        for name in ["research.agekey", "provisioning.key"] { #expect(try mode(keys + "/" + name) == 0o600) }
        let again = try runTool(Self.haven, ["keygen", "--out", keys])
        #expect(again.status != 0)
        #expect(again.stderr.contains("exists; use --force"))

        // The fixture with this run's recipient.
        var text = try String(contentsOf: ConfigBuilderTests.fixture, encoding: .utf8)
        let fixtureFile = try ConfigFile.decode(Data(text.utf8))
        let recipient = try String(contentsOfFile: keys + "/research.agekey.pub", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        text = text.replacingOccurrences(of: fixtureFile.recipients[0], with: recipient)
            .replacingOccurrences(of: "../forms/", with: ConfigBuilderTests.repo.path + "/Tests/Fixtures/forms/")
        let config = try dir.write("config.json", text)
        let hardware = ConfigBuilderTests.repo.appendingPathComponent("Hardware").path
        let build = try runTool(Self.haven, ["config", "build", config, "--key", keys + "/provisioning.key",
                                             "-o", dir.path("site.havencfg"), "--hardware", hardware])
        #expect(build.status == 0, "config build: \(build.stderr)")
        #expect(try mode(dir.path("site.havencfg")) == 0o600)
        let bundle = try dir.read("site.havencfg")
        let pub = try ProvisioningKey.parsePublicFile(try String(contentsOfFile: keys + "/provisioning.key.pub", encoding: .utf8))
        let verified = try bundle.withUnsafeBytes { b -> Bool in
            let parts = try ConfigBundle.split(b)
            let decoded = try DeviceConfig.decode(parts.config)
            #expect(decoded.policy.recipients == (try AgeRecipient(parsing: recipient).publicKey))
            return pub.withUnsafeBytes { ConfigSignature<Sodium>.verify(config: parts.config, publicKey: $0) }
        }
        #expect(verified)

        let bad = try dir.write("bad.json", text.replacingOccurrences(of: "\"731604\"", with: "\"482915\""))
        let refused = try runTool(Self.haven, ["config", "build", bad, "--key", keys + "/provisioning.key",
                                               "-o", dir.path("bad.havencfg"), "--hardware", hardware])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("duress PIN must differ"))
        #expect(!FileManager.default.fileExists(atPath: dir.path("bad.havencfg")))
    }
}
