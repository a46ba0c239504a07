/// What an install did.
public enum ConfigInstallOutcome: Equatable, Sendable {
    /// No config was installed (or the store was blank): the provisioning
    /// key is now pinned and the store formatted with a fresh data key.
    case firstInstall
    /// The config was swapped; PINs and store untouched.
    case updated
    /// The config was swapped and the PIN slots re-wrapped (device unlocked).
    case pinsChanged
    /// A config was installed and the (blank or erased) store formatted.
    case storeFormatted
}

/// The install rules of Docs/config-format.md §6, in order: split the
/// bundle, decode CONFIG, verify its signature with the pinned key (the
/// carried one on first install: trust on first use), refuse a version not
/// newer than the installed one, check SHA-256 of the PIN MATERIAL, check
/// the instruments and the policy, then change the store (format, or
/// re-wrap the PIN slots, or nothing) and last write the config slot.
public enum ConfigInstaller<C: CryptoSuite> {
    /// Installs `bundle`. `store` is the log-store partition. To change
    /// PINs on a provisioned device pass the data key (device unlocked) and,
    /// when the store is mounted, the mounted store, so it moves its own header.
    ///
    /// The PIN material's Argon2id outputs are read in place from `bundle`
    /// and never copied: the caller zeroizes its bundle buffer afterwards.
    public static func install<A: Flash, S: Flash>(
        bundle: UnsafeRawBufferPointer, area: ConfigArea<A, C>, store: S, deviceSecret: UnsafeRawBufferPointer,
        mounted: LogStore<S, C>? = nil, dataKey: UnsafeRawBufferPointer? = nil
    ) throws(ConfigError) -> ConfigInstallOutcome {
        let parts: ConfigBundle
        do throws(ConfigFormatError) { parts = try ConfigBundle.split(bundle) } catch { throw .format(error) }
        let config: DeviceConfig
        do throws(ConfigFormatError) { config = try DeviceConfig.decode(parts.config) } catch { throw .format(error) }

        let installed = try area.load()
        let pinned = installed?.config.provisioningKey ?? config.provisioningKey
        if installed != nil, config.provisioningKey != pinned { throw .provisioningKeyChanged }
        let signed = pinned.withUnsafeBytes { ConfigSignature<C>.verify(config: parts.config, publicKey: $0) }
        guard signed else { throw .badSignature }
        if let installed, config.version <= installed.version {
            throw .notNewer(installed: installed.version, offered: config.version)
        }
        guard hashMatches(parts.pinMaterial, config.pinMaterialHash) else { throw .pinMaterialMismatch }
        let pins: PinMaterial
        do throws(ConfigFormatError) { pins = try PinMaterial.decode(parts.pinMaterial) } catch { throw .format(error) }
        do throws(InstrumentError) { _ = try Instrument(bytes: config.instrument) } catch {
            throw .instrument(decoy: false, error)
        }
        do throws(InstrumentError) { _ = try Instrument(bytes: config.decoy) } catch {
            throw .instrument(decoy: true, error)
        }
        let duress = pins.duress?.bound(C.self, deviceSecret: deviceSecret)
        var policy = config.policy
        policy.duress = duress
        do throws(SafetyError) { try policy.validate() } catch { throw .policy(error) }
        guard parts.config.count <= area.capacity else {
            throw .tooLarge(bytes: parts.config.count, capacity: area.capacity)
        }

        var blank = true
        if installed != nil { blank = try storeIsBlank(store) }
        let outcome: ConfigInstallOutcome
        if blank {
            try format(store, pins: pins, deviceSecret: deviceSecret)
            outcome = installed == nil ? .firstInstall : .storeFormatted
        } else if installed!.config.pinMaterialHash == config.pinMaterialHash {
            outcome = .updated
        } else {
            guard let dataKey else { throw .pinChangeNeedsUnlock }
            try rewrap(store, mounted: mounted, dataKey: dataKey, pins: pins, deviceSecret: deviceSecret)
            outcome = .pinsChanged
        }
        try area.write(config: parts.config, duress: duress)
        return outcome
    }

    private static func hashMatches(_ blob: UnsafeRawBufferPointer, _ expected: [UInt8]) -> Bool {
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { digest in
            C.sha256(message: blob, output: digest)
            return expected.withUnsafeBytes { C.constantTimeEqual(UnsafeRawBufferPointer(digest), $0) }
        }
    }

    /// No live superblock: never provisioned, crypto-erased, or unreadable
    /// beyond repair. Formatting it loses nothing that could be opened.
    private static func storeIsBlank<S: Flash>(_ store: S) throws(ConfigError) -> Bool {
        do throws(StoreError) {
            _ = try Superblock<S, C>.inspect(store)
            return false
        } catch {
            switch error {
            case .notFormatted, .unrecognizedImage, .metadataCorrupt: return true
            default: throw .store(error)
            }
        }
    }

    /// The key slots for `pins` wrapping `dataKey`: KEK = HKDF(salt: device
    /// secret, ikm: stretched, info: "haven pin kek v1"), as unlock derives it.
    static func slots(for pins: PinMaterial, dataKey: UnsafeRawBufferPointer,
                      deviceSecret: UnsafeRawBufferPointer) -> [KeySlot] {
        var slots: [KeySlot] = []
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { kek in
            var i = 0
            while i < pins.slots.count {
                let p = pins.slots[i]
                KeySlots<C>.pinKEK(stretched: p.stretched, deviceSecret: deviceSecret, kek: kek)
                slots.append(KeySlots<C>.wrap(dataKey: dataKey, kek: UnsafeRawBufferPointer(kek), index: i, kind: .pin,
                                              kdfIterations: p.iterations, kdfMemoryKiB: p.memoryKiB, salt: p.salt))
                i += 1
            }
            C.zeroize(kek)
        }
        while slots.count < StoreLayout.keySlotCount { slots.append(.empty) }
        return slots
    }

    private static func format<S: Flash>(_ store: S, pins: PinMaterial,
                                         deviceSecret: UnsafeRawBufferPointer) throws(ConfigError) {
        try withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { (dataKey) throws(ConfigError) in
            defer { C.zeroize(dataKey) }
            C.randomBytes(dataKey)
            let key = UnsafeRawBufferPointer(dataKey)
            let slots = slots(for: pins, dataKey: key, deviceSecret: deviceSecret)
            do throws(StoreError) { try Superblock<S, C>.format(store, dataKey: key, slots: slots) } catch {
                throw .store(error)
            }
        }
    }

    private static func rewrap<S: Flash>(_ store: S, mounted: LogStore<S, C>?, dataKey: UnsafeRawBufferPointer,
                                         pins: PinMaterial, deviceSecret: UnsafeRawBufferPointer) throws(ConfigError) {
        let slots = slots(for: pins, dataKey: dataKey, deviceSecret: deviceSecret)
        do throws(StoreError) {
            if let mounted {
                try mounted.replaceKeySlots(slots)
                return
            }
            var state = try Superblock<S, C>.inspect(store)
            // A wrong data key here would leave no slot that opens the store.
            var check = [UInt8](repeating: 0, count: 16)
            check.withUnsafeMutableBytes { StoreKeys<C>.keyCheck(dataKey: dataKey, into: $0) }
            guard check == state.keyCheck else { throw StoreError.wrongKey }
            try Superblock<S, C>.replaceSlots(store, &state, slots: slots)
        } catch {
            throw .store(error)
        }
    }
}

extension SafetyController {
    /// Installs a config bundle on this device. While unlocked with the real
    /// PIN the data key is at hand, so a bundle with new PINs re-wraps the
    /// key slots; locked, such a bundle is refused (`pinChangeNeedsUnlock`).
    /// The controller keeps running on the policy and instruments it was made
    /// with: the runtime makes a new controller from `area.load()` after.
    public func installConfig<A: Flash>(bundle: UnsafeRawBufferPointer,
                                        area: ConfigArea<A, C>) throws(ConfigError) -> ConfigInstallOutcome {
        let unlocked = phase == .unlocked && store != nil
        let outcome = try ConfigInstaller<C>.install(bundle: bundle, area: area, store: flash,
                                                     deviceSecret: UnsafeRawBufferPointer(memory.secret),
                                                     mounted: unlocked ? store : nil,
                                                     dataKey: unlocked ? UnsafeRawBufferPointer(memory.dataKey) : nil)
        // A re-wrap moved the superblock header: erase the live one first later.
        if let store { liveSuperblock = store.liveSuperblock }
        return outcome
    }
}
