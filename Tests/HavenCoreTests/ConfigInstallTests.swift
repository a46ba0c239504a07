@testable import HavenCore
import HavenSodium
import Testing

/// Install rules of Docs/config-format.md §6 on RAM flash, and what the
/// device then runs on (SafetyController built from the loaded config).
@Suite struct ConfigInstallTests {
    func fresh() throws -> ConfigDevice<RAMFlash> { try ConfigDevice(RAMFlash(geometry: ConfigFixture.geometry)) }

    @Test func firstInstallFormatsTheStoreAndTheRealPINUnlocks() throws {
        let device = try fresh()
        let (config, bundle) = try ConfigFixture().build()
        #expect(try device.install(bundle) == .firstInstall)
        let installed = try #require(try device.area.load())
        #expect(installed.version == 1)
        #expect(installed.configBytes == config)
        #expect(installed.config.provisioningKey == ConfigFixture.provisioning.publicKey)
        #expect(installed.config.policy.recipients == SafetyDevice.recipients)
        #expect(installed.config.name(forDevice: [UInt8](repeating: 1, count: 16)) == Array("Field tablet".utf8))
        let controller = try device.boot()
        #expect(try controller.unlock(SafetyDevice.pin) == .unlocked)
        #expect(controller.state == .unlocked)
        #expect(controller.isStoreMounted)
    }

    @Test func theDuressPINTriggersDuressAndErasesTheStore() throws {
        let device = try fresh()
        try device.install(try ConfigFixture().build().bundle)
        let controller = try device.boot()
        #expect(try controller.unlock(SafetyDevice.wrongPIN) == .wrongPIN(attemptsLeft: 4))
        controller.clockAdvance(60_000)
        #expect(try controller.unlock(SafetyDevice.duressPIN) == .unlocked)
        #expect(controller.state == .decoyOnly)
        #expect(throws: StoreError.notFormatted) { try Superblock<FlashPartition<RAMFlash>, Sodium>.inspect(device.store) }
        // The config (and so the decoy) survives the erase.
        #expect(try device.area.load()?.version == 1)
    }

    @Test func theStoredDuressVerifierIsBoundToTheDevice() throws {
        let device = try fresh()
        try device.install(try ConfigFixture().build().bundle)
        let stored = try #require(try device.area.load()?.duress)
        let builders = try SafetyDevice.duressVerifier()
        #expect(stored.boundToDevice)
        #expect(stored.tag != builders.tag)
        #expect(stored.salt == builders.salt)
        // Another device secret: the duress PIN is just a wrong PIN.
        let (real, decoy) = try #require(try device.area.load()).instruments()
        var policy = try #require(try device.area.load()).safetyPolicy
        policy.maxFailures = 0
        let other = [UInt8](repeating: 0xEE, count: 32)
        let flash = RAMFlash(geometry: TestGeometry.smallNOR)
        _ = try SafetyDevice.provision(flash)
        let controller = try other.withUnsafeBytes {
            try SafetyController<RAMFlash, Sodium, ManualClock>(flash: flash, policy: policy, deviceSecret: $0,
                                                               instrument: real, decoy: decoy, clock: ManualClock())
        }
        if case .wrongPIN = try controller.unlock(SafetyDevice.duressPIN) {} else { Issue.record("duress matched elsewhere") }
        #expect(controller.state == .locked)
    }

    @Test func anUpdateWithTheSamePINsSwapsOnlyTheConfig() throws {
        let device = try fresh()
        try device.install(try ConfigFixture().build().bundle)
        let before = try Superblock<FlashPartition<RAMFlash>, Sodium>.inspect(device.store).slots
        var v2 = ConfigFixture()
        v2.version = 2
        v2.action = .lock
        #expect(try device.install(try v2.build().bundle) == .updated)
        #expect(try Superblock<FlashPartition<RAMFlash>, Sodium>.inspect(device.store).slots == before)
        let installed = try #require(try device.area.load())
        #expect(installed.version == 2)
        #expect(installed.config.policy.quickExitAction == .lock)
        #expect(try device.boot().unlock(SafetyDevice.pin) == .unlocked)
    }

    @Test func refusedConfigsLeaveTheInstalledOneInPlace() throws {
        let device = try fresh()
        var v2 = ConfigFixture()
        v2.version = 2
        try device.install(try v2.build().bundle)

        func expectRefused(_ bundle: [UInt8], _ expected: ConfigError) {
            #expect(throws: expected) { try device.install(bundle) }
            #expect((try? device.area.load())??.version == 2)
        }
        var older = ConfigFixture()
        older.version = 1
        expectRefused(try older.build().bundle, .notNewer(installed: 2, offered: 1))
        expectRefused(try v2.build().bundle, .notNewer(installed: 2, offered: 2))

        var v3 = ConfigFixture()
        v3.version = 3
        // Wrongly signed: carries the pinned key, signed by another.
        expectRefused(try v3.build(signWith: ConfigFixture.stranger).bundle, .badSignature)
        // Unsigned: the signature bytes are zero.
        let good = try v3.build()
        var unsigned = good.config
        for i in (unsigned.count - 64)..<unsigned.count { unsigned[i] = 0 }
        expectRefused(ConfigBundle.encode(config: unsigned, pinMaterial: v3.pinMaterial()), .badSignature)
        // Someone else's well-signed config: not the pinned key.
        var foreign = ConfigFixture()
        foreign.version = 3
        foreign.key = ConfigFixture.stranger
        expectRefused(try foreign.build().bundle, .provisioningKeyChanged)
        // PIN material that is not the one the config names.
        var otherPins = v3
        otherPins.pins = ["9999"]
        expectRefused(ConfigBundle.encode(config: good.config, pinMaterial: otherPins.pinMaterial()),
                      .pinMaterialMismatch)
        // And the good one goes in after all that.
        #expect(try device.install(good.bundle) == .updated)
        #expect(try device.area.load()?.version == 3)
    }

    @Test func aTamperedByteAnywhereIsRefused() throws {
        let device = try fresh()
        try device.install(try ConfigFixture().build().bundle)
        var v2 = ConfigFixture()
        v2.version = 2
        let bundle = try v2.build().bundle
        for i in 0..<bundle.count {
            var tampered = bundle
            tampered[i] ^= 0x01 << UInt8(i % 8)
            do {
                try device.install(tampered)
                Issue.record("byte \(i) tampered and accepted")
            } catch {}
        }
        #expect(try device.area.load()?.version == 1)
        #expect(try device.install(bundle) == .updated)
    }

    @Test func aPINChangeNeedsTheDeviceUnlocked() throws {
        let device = try fresh()
        try device.install(try ConfigFixture().build().bundle)
        var v2 = ConfigFixture()
        v2.version = 2
        v2.pins = ["8642", "1111"]
        let bundle = try v2.build().bundle
        #expect(throws: ConfigError.pinChangeNeedsUnlock) { try device.install(bundle) }
        #expect(try device.area.load()?.version == 1)

        let controller = try device.boot()
        #expect(try controller.unlock(SafetyDevice.pin) == .unlocked)
        let outcome = try bundle.withUnsafeBytes { try controller.installConfig(bundle: $0, area: device.area) }
        #expect(outcome == .pinsChanged)
        controller.lock()

        let rebooted = try device.boot()
        if case .wrongPIN = try rebooted.unlock(SafetyDevice.pin) {} else { Issue.record("old PIN still opens") }
        rebooted.clockAdvance(60_000)
        #expect(try rebooted.unlock("1111") == .unlocked)
        #expect(try device.boot().unlock("8642") == .unlocked)
    }

    @Test func aPINChangeWithTheDataKeyWhileUnmounted() throws {
        let device = try fresh()
        let flashDevice = device
        try flashDevice.install(try ConfigFixture().build().bundle)
        // The data key, as only an unlocked device has it.
        let slots = try Superblock<FlashPartition<RAMFlash>, Sodium>.inspect(device.store).slots
        var dataKey = [UInt8](repeating: 0, count: 32)
        var kek = [UInt8](repeating: 0, count: 32)
        let stretched = ConfigFixture.stretch(SafetyDevice.pin, salt: SafetyDevice.salt)
        stretched.withUnsafeBytes { s in
            SafetyDevice.deviceSecret.withUnsafeBytes { d in
                kek.withUnsafeMutableBytes { KeySlots<Sodium>.pinKEK(stretched: s, deviceSecret: d, kek: $0) }
            }
        }
        try kek.withUnsafeBytes { k in
            try dataKey.withUnsafeMutableBytes { try KeySlots<Sodium>.unwrap(slots[0], index: 0, kek: k, dataKey: $0) }
        }
        var v2 = ConfigFixture()
        v2.version = 2
        v2.pins = ["8642"]
        let wrongKey = [UInt8](repeating: 7, count: 32)
        #expect(throws: ConfigError.store(.wrongKey)) { try device.install(try v2.build().bundle, dataKey: wrongKey) }
        #expect(try device.install(try v2.build().bundle, dataKey: dataKey) == .pinsChanged)
        #expect(try device.boot().unlock("8642") == .unlocked)
    }

    @Test func reprovisioningAfterDuressFormatsTheStoreAgain() throws {
        let device = try fresh()
        try device.install(try ConfigFixture().build().bundle)
        let controller = try device.boot()
        #expect(try controller.unlock(SafetyDevice.duressPIN) == .unlocked)
        var v2 = ConfigFixture()
        v2.version = 2
        #expect(try device.install(try v2.build().bundle) == .storeFormatted)
        #expect(try device.boot().unlock(SafetyDevice.pin) == .unlocked)
    }

    @Test func instrumentsThatDoNotDecodeAreRefused() throws {
        let device = try fresh()
        var fixture = ConfigFixture()
        fixture.version = 1
        let pin = fixture.pinMaterial()
        var config = try fixture.deviceConfig(pinMaterial: pin)
        config.decoy = [1, 2, 3]
        let unsigned = config.encodeUnsigned()
        let signed = unsigned + Sodium.ed25519Sign(message: ConfigSignature<Sodium>.message(unsigned: unsigned),
                                                   keyPair: ConfigFixture.provisioning)
        #expect(throws: ConfigError.instrument(decoy: true, .badMagic)) {
            try device.install(ConfigBundle.encode(config: signed, pinMaterial: pin))
        }
        #expect(try device.area.load() == nil)
    }

    @Test func theDeviceIDIsTheFirstHalfOfAnHKDF() throws {
        let id = SafetyDevice.deviceSecret.withUnsafeBytes { DeviceIdentity<Sodium>.deviceID(secret: $0) }
        let expected = Sodium.hkdf(salt: [], inputKeyMaterial: SafetyDevice.deviceSecret,
                                   info: Array("haven device id v1".utf8), count: 16)
        #expect(id == expected)
        let hex = String(decoding: DeviceIdentity<Sodium>.hex(id), as: UTF8.self)
        #expect(hex.count == 32)
        #expect(hex == expected.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined())
    }
}

extension SafetyController where Clock == ManualClock {
    func clockAdvance(_ ms: UInt64) { clock.advance(ms) }
}
