@testable import HavenCore
import HavenSodium

/// Builds signed config bundles the way `haven config build` does, with
/// cheap Argon2id (t = 1, 8 KiB) and the instruments of `SafetyDevice`.
struct ConfigFixture {
    static let geometry = try! FlashGeometry(programUnit: 16, eraseBlockSize: 4096, blockCount: 24)
    static let maxConfigBytes = 8 * 1024
    static let provisioning = Sodium.ed25519KeyPair(seed: [UInt8](repeating: 0x42, count: 32))
    static let stranger = Sodium.ed25519KeyPair(seed: [UInt8](repeating: 0x24, count: 32))

    var version: UInt64 = 1
    var pins: [String] = [SafetyDevice.pin]
    var duressPIN: String? = SafetyDevice.duressPIN
    var salt: [UInt8] = SafetyDevice.salt
    var key = ConfigFixture.provisioning
    var names: [DeviceName] = [DeviceName(deviceID: nil, name: Array("Field tablet".utf8))]
    var action: QuickExitAction = .hide
    var maxFailures: UInt32 = 5

    static func stretch(_ pin: String, salt: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        Array(pin.utf8).withUnsafeBytes { p in
            salt.withUnsafeBytes { s in
                out.withUnsafeMutableBytes { o in
                    try! Sodium.argon2id(password: p, salt: s, iterations: SafetyDevice.iterations,
                                         memoryBytes: SafetyDevice.memoryKiB * 1024, output: o)
                }
            }
        }
        return out
    }

    func pinMaterial() -> [UInt8] {
        let slots = pins.map { _ in (salt: salt, iterations: SafetyDevice.iterations, memoryKiB: SafetyDevice.memoryKiB) }
        let duress = duressPIN.map { d in
            Array(d.utf8).withUnsafeBytes {
                try! DuressVerifier.make(Sodium.self, pin: $0, salt: salt, iterations: SafetyDevice.iterations,
                                         memoryKiB: SafetyDevice.memoryKiB)
            }
        }
        return PinMaterial.encode(slots: slots, stretched: pins.map { Self.stretch($0, salt: salt) }, duress: duress)
    }

    func deviceConfig(pinMaterial: [UInt8]) throws -> DeviceConfig {
        var policy = try SafetyDevice.policy(action: action, maxFailures: maxFailures)
        policy.duress = nil
        return DeviceConfig(version: version, provisioningKey: key.publicKey, pinMaterialHash: Sodium.sha256(pinMaterial),
                            deviceNames: names, instrument: try Self.bytes(SafetyDevice.realInstrument()),
                            decoy: try Self.bytes(SafetyDevice.decoyInstrument()), policy: policy)
    }

    /// The signed CONFIG blob and the bundle.
    func build(signWith signer: Sodium.Ed25519KeyPair? = nil) throws -> (config: [UInt8], bundle: [UInt8]) {
        let pin = pinMaterial()
        let unsigned = try deviceConfig(pinMaterial: pin).encodeUnsigned()
        let signature = Sodium.ed25519Sign(message: ConfigSignature<Sodium>.message(unsigned: unsigned),
                                           keyPair: signer ?? key)
        let config = unsigned + signature
        return (config, ConfigBundle.encode(config: config, pinMaterial: pin))
    }

    static func bytes(_ instrument: Instrument) -> [UInt8] { [UInt8](instrument.storage.bytes) }
}

/// A device's flash split into store and config area, and its secret.
struct ConfigDevice<F: Flash> {
    let flash: F
    let store: FlashPartition<F>
    let area: ConfigArea<FlashPartition<F>, Sodium>

    init(_ flash: F) throws {
        self.flash = flash
        (store, _) = try ConfigLayout.split(flash, maxConfigBytes: ConfigFixture.maxConfigBytes)
        let config = try ConfigLayout.split(flash, maxConfigBytes: ConfigFixture.maxConfigBytes).config
        area = try SafetyDevice.deviceSecret.withUnsafeBytes { try ConfigArea(flash: config, deviceSecret: $0) }
    }

    @discardableResult
    func install(_ bundle: [UInt8], dataKey: [UInt8]? = nil,
                 mounted: LogStore<FlashPartition<F>, Sodium>? = nil) throws(ConfigError) -> ConfigInstallOutcome {
        var result: Result<ConfigInstallOutcome, ConfigError>!
        bundle.withUnsafeBytes { b in
            SafetyDevice.deviceSecret.withUnsafeBytes { s in
                let go = { (key: UnsafeRawBufferPointer?) in
                    do throws(ConfigError) {
                        result = .success(try ConfigInstaller<Sodium>.install(bundle: b, area: area, store: store,
                                                                              deviceSecret: s, mounted: mounted,
                                                                              dataKey: key))
                    } catch {
                        result = .failure(error)
                    }
                }
                if let dataKey { dataKey.withUnsafeBytes { go($0) } } else { go(nil) }
            }
        }
        return try result.get()
    }

    /// A controller made the way the runtime makes one at boot.
    func boot(clock: ManualClock = ManualClock()) throws -> SafetyController<FlashPartition<F>, Sodium, ManualClock> {
        guard let installed = try area.load() else { throw ConfigError.areaGeometry }
        let (real, decoy) = try installed.instruments()
        return try SafetyDevice.deviceSecret.withUnsafeBytes {
            try SafetyController<FlashPartition<F>, Sodium, ManualClock>(
                flash: store, policy: installed.safetyPolicy, deviceSecret: $0, instrument: real, decoy: decoy,
                clock: clock)
        }
    }
}
