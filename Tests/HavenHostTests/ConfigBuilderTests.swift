import Foundation
import HavenCore
import HavenDevice
@testable import HavenHost
import HavenSodium
import Testing

/// `ConfigBuilder` from the readable config file to a bundle, and that
/// bundle installed on a device (RAM flash) running the real core.
@Suite struct ConfigBuilderTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let fixture = repo.appendingPathComponent("Tests/Fixtures/config/field-config.json")
    static let cheap = KDFCost(iterations: 1, memoryKiB: 8)
    static let secret = [UInt8](repeating: 0x5C, count: 32)
    static let geometry = try! FlashGeometry(programUnit: 16, eraseBlockSize: 65536, blockCount: 24)

    static func board() throws -> BoardProfile {
        try BoardProfile.load(named: "sim", hardwareDirectory: repo.appendingPathComponent("Hardware").path)
    }

    static func file(_ edit: (inout ConfigFile) -> Void = { _ in }) throws -> ConfigFile {
        var f = try ConfigFile.decode(try Data(contentsOf: fixture))
        edit(&f)
        return f
    }

    static func build(_ file: ConfigFile, key: ProvisioningKey) throws -> ConfigBuilder.Output {
        try ConfigBuilder.build(file, baseDirectory: fixture.deletingLastPathComponent(), key: key, kdf: cheap,
                                board: try board())
    }

    /// A device: flash split into store and config area.
    final class Device {
        let flash = RAMFlash(geometry: ConfigBuilderTests.geometry)
        let store: FlashPartition<RAMFlash>
        let area: ConfigArea<FlashPartition<RAMFlash>, Sodium>

        init() throws {
            let parts = try ConfigLayout.split(flash)
            store = parts.store
            area = try ConfigBuilderTests.secret.withUnsafeBytes { try ConfigArea(flash: parts.config, deviceSecret: $0) }
        }

        func install(_ bundle: [UInt8]) throws -> ConfigInstallOutcome {
            try bundle.withUnsafeBytes { b in
                try ConfigBuilderTests.secret.withUnsafeBytes { s in
                    try ConfigInstaller<Sodium>.install(bundle: b, area: area, store: store, deviceSecret: s)
                }
            }
        }

        func boot() throws -> SafetyController<FlashPartition<RAMFlash>, Sodium, ScenarioClock> {
            let installed = try #require(try area.load())
            let (real, decoy) = try installed.instruments()
            return try ConfigBuilderTests.secret.withUnsafeBytes {
                try SafetyController(flash: store, policy: installed.safetyPolicy, deviceSecret: $0, instrument: real,
                                     decoy: decoy, clock: ScenarioClock())
            }
        }
    }

    @Test func theFixtureBuildsInstallsAndUnlocksWithTheRealPIN() throws {
        let key = ProvisioningKey.generate()
        let file = try Self.file()
        let built = try Self.build(file, key: key)
        let device = try Device()
        #expect(try device.install(built.bundle) == .firstInstall)
        let installed = try #require(try device.area.load())
        #expect(installed.version == 1)
        #expect(installed.config.provisioningKey == key.publicKey)
        #expect(installed.config.policy.recipients == (try AgeRecipient(parsing: file.recipients[0]).publicKey))
        #expect(installed.config.policy.quickExitButton == ButtonTrigger(button: 114, presses: 3, windowMilliseconds: 1500))
        #expect(installed.config.policy.quickExitChord == [29, 56, 14])
        #expect(installed.config.policy.backoffMilliseconds == [0, 0, 0, 1_000, 5_000, 30_000, 60_000, 300_000, 900_000])
        #expect(installed.config.policy.autoLockMilliseconds == 120_000)
        #expect(installed.config.name(forDevice: unhexed("00112233445566778899aabbccddeeff")) == Array("Musanze tablet 07".utf8))
        #expect(installed.config.name(forDevice: [UInt8](repeating: 9, count: 16)) == Array("Haven field tablet".utf8))
        #expect(installed.duress?.boundToDevice == true)

        let controller = try device.boot()
        #expect(try Array("482915".utf8).withUnsafeBytes { try controller.attemptUnlock(pin: $0) } == .unlocked)
        #expect(controller.state == .unlocked)
    }

    @Test func theDuressPINFromTheFileTriggersDuress() throws {
        let built = try Self.build(try Self.file(), key: ProvisioningKey.generate())
        let device = try Device()
        _ = try device.install(built.bundle)
        let controller = try device.boot()
        #expect(try Array("731604".utf8).withUnsafeBytes { try controller.attemptUnlock(pin: $0) } == .unlocked)
        #expect(controller.state == .decoyOnly)
    }

    @Test func aNewerVersionFromTheSameKeyIsAcceptedAnOlderOneIsNot() throws {
        let key = ProvisioningKey.generate()
        let device = try Device()
        _ = try device.install(try Self.build(try Self.file { $0.version = 5 }, key: key).bundle)
        // Same PINs: same PIN material, so a locked device takes the update.
        #expect(try device.install(try Self.build(try Self.file { $0.version = 6 }, key: key).bundle) == .updated)
        let v4 = try Self.build(try Self.file { $0.version = 4 }, key: key).bundle
        #expect(throws: ConfigError.notNewer(installed: 6, offered: 4)) { try device.install(v4) }
        let other = try Self.build(try Self.file { $0.version = 7 }, key: ProvisioningKey.generate()).bundle
        #expect(throws: ConfigError.provisioningKeyChanged) { try device.install(other) }
        // New PINs: new salt and material, refused while locked.
        let newPINs = try Self.build(try Self.file { $0.version = 8; $0.pins.enumerator = ["559911"] }, key: key).bundle
        #expect(throws: ConfigError.pinChangeNeedsUnlock) { try device.install(newPINs) }
        #expect(try device.area.load()?.version == 6)
        #expect(try device.boot().attemptUnlockText("482915") == .unlocked)
    }

    @Test func theSaltFollowsThePINsAndTheKey() throws {
        let key = ProvisioningKey.generate()
        let pins = try Self.file().pins
        let a = ConfigBuilder.pinSalt(pins, kdf: Self.cheap, saltKey: key.keyPair.seed)
        #expect(a == ConfigBuilder.pinSalt(pins, kdf: Self.cheap, saltKey: key.keyPair.seed))
        var changed = pins
        changed.duress = "000111"
        #expect(a != ConfigBuilder.pinSalt(changed, kdf: Self.cheap, saltKey: key.keyPair.seed))
        #expect(a != ConfigBuilder.pinSalt(pins, kdf: KDFCost(iterations: 2, memoryKiB: 8), saltKey: key.keyPair.seed))
        #expect(a != ConfigBuilder.pinSalt(pins, kdf: Self.cheap, saltKey: ProvisioningKey.generate().keyPair.seed))
        #expect(a.count == 16)
    }

    @Test func theBuilderRefusesBadInput() throws {
        let key = ProvisioningKey.generate()
        func refused(_ expected: ConfigBuildError, _ edit: (inout ConfigFile) -> Void) throws {
            #expect(throws: expected) { try Self.build(try Self.file(edit), key: key) }
        }
        try refused(.duressEqualsPIN) { $0.pins.duress = $0.pins.enumerator[0] }
        try refused(.pin("enumerator[0] must be 4 to 64 characters")) { $0.pins.enumerator = ["12"] }
        try refused(.pin("duress must not contain spaces or control characters")) { $0.pins.duress = "12 34" }
        try refused(.pin("enumerator PINs must differ")) { $0.pins.enumerator = ["1234", "1234"] }
        try refused(.pin("enumerator needs 1 to 4 PINs")) { $0.pins.enumerator = [] }
        try refused(.policy("quickExit.action 'run' is not one of hide, lock, wipe")) { $0.quickExit?.action = "run" }
        try refused(.recipient(index: 0, reason: "at least one age recipient (age1…) is needed")) { $0.recipients = [] }
        #expect(throws: ConfigBuildError.self) {
            try Self.build(try Self.file { $0.recipients = ["age1qqqqqqqqqqqqq"] }, key: key)
        }
        #expect(throws: ConfigBuildError.self) {
            try Self.build(try Self.file { $0.recipients.append(AgeIdentity.generate().encoded) }, key: key)
        }
        let missing = Self.fixture.deletingLastPathComponent().appendingPathComponent("../forms/nope.xml").path
        try refused(.missingFile(missing)) { $0.instrument = "../forms/nope.xml" }
        try refused(.device(index: 0, reason: "id must be 32 hexadecimal digits (as `haven devices` shows it)")) {
            $0.devices = [ConfigFile.Device(name: "x", id: "abc")]
        }
        #expect(throws: ConfigBuildError.self) { try ConfigFile.decode(Data("{\"version\": 1}".utf8)) }
        #expect(throws: ConfigBuildError.file("not valid JSON: The given data was not valid JSON.")) {
            try ConfigFile.decode(Data("{".utf8))
        }
    }

    @Test func oneArgon2idSaltServesEverySlotAndTheDuressVerifier() throws {
        let built = try Self.build(try Self.file { $0.pins.enumerator = ["1111", "2222", "3333"] },
                                   key: ProvisioningKey.generate())
        let pin = try built.bundle.withUnsafeBytes { b -> [UInt8] in
            let parts = try ConfigBundle.split(b)
            return [UInt8](parts.pinMaterial)
        }
        try pin.withUnsafeBytes { p in
            let material = try PinMaterial.decode(p)
            #expect(material.slots.count == 3)
            #expect(Set(material.slots.map(\.salt)).count == 1)
            #expect(material.duress?.salt == material.slots[0].salt)
            #expect(material.slots[0].iterations == 1 && material.slots[0].memoryKiB == 8)
        }
    }
}

extension SafetyController where C == Sodium {
    func attemptUnlockText(_ pin: String) throws -> UnlockResult {
        try Array(pin.utf8).withUnsafeBytes { try attemptUnlock(pin: $0) }
    }
}

func unhexed(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = s.makeIterator()
    while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
    return out
}
