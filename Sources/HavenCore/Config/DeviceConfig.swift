/// A name the device shows (lock screen, `haven devices`), optionally for
/// one device only: the device takes the entry whose id is its own, else
/// the entry without an id (Docs/config-format.md §2.4).
public struct DeviceName: Equatable, Sendable {
    /// 16 bytes (`DeviceIdentity.deviceID`), or nil for "any device".
    public var deviceID: [UInt8]?
    /// UTF-8, 1 ... 64 bytes.
    public var name: [UInt8]

    public init(deviceID: [UInt8]?, name: [UInt8]) {
        self.deviceID = deviceID
        self.name = name
    }
}

/// The signed CONFIG blob, decoded (Docs/config-format.md §2). It is what
/// the device keeps: everything but the PIN material and the signature.
public struct DeviceConfig: Sendable {
    /// Anti-rollback: an install must carry a larger one (≥ 1).
    public var version: UInt64
    /// Ed25519 public key that signed this config (pinned at first install).
    public var provisioningKey: [UInt8]
    /// SHA-256 of the PIN MATERIAL blob delivered with this config.
    public var pinMaterialHash: [UInt8]
    public var deviceNames: [DeviceName]
    /// Compiled instruments (Docs/instrument-format.md).
    public var instrument: [UInt8]
    public var decoy: [UInt8]
    /// Everything in `SafetyPolicy` but the duress verifier (which the
    /// device binds to its secret and keeps in its device-local part);
    /// `policy.duress` is nil here. Recipients are `policy.recipients`.
    public var policy: SafetyPolicy

    public init(version: UInt64, provisioningKey: [UInt8], pinMaterialHash: [UInt8], deviceNames: [DeviceName],
                instrument: [UInt8], decoy: [UInt8], policy: SafetyPolicy) {
        self.version = version
        self.provisioningKey = provisioningKey
        self.pinMaterialHash = pinMaterialHash
        self.deviceNames = deviceNames
        self.instrument = instrument
        self.decoy = decoy
        self.policy = policy
    }

    /// The name for the device with `id` (16 bytes): its own entry, else
    /// the first entry without an id, else nil.
    public func name(forDevice id: [UInt8]) -> [UInt8]? {
        var fallback: [UInt8]?
        for entry in deviceNames {
            if let e = entry.deviceID {
                if e == id { return entry.name }
            } else if fallback == nil {
                fallback = entry.name
            }
        }
        return fallback
    }

    // MARK: Encoding

    /// CONFIG without its signature: header ‖ sections. The total length
    /// field already counts the 64 signature bytes the signer appends.
    /// Callers keep to the limits (`ConfigLayout`); `decode` enforces them.
    public func encodeUnsigned() -> [UInt8] {
        var w = ConfigWriter()
        w.magic(ConfigLayout.configMagic)
        w.u16(ConfigLayout.formatVersion)
        w.u16(UInt16(ConfigLayout.configHeaderSize))
        w.u32(0)  // total length, patched below
        w.u64(version)
        w.append(provisioningKey)
        w.append(pinMaterialHash)
        section(&w, ConfigLayout.sectionPolicy, encodePolicy())
        section(&w, ConfigLayout.sectionDeviceNames, encodeNames())
        var r = ConfigWriter()
        r.u16(UInt16(truncatingIfNeeded: policy.recipients.count / CryptoSizes.x25519))
        r.u16(0)
        r.append(policy.recipients)
        section(&w, ConfigLayout.sectionRecipients, r.bytes)
        section(&w, ConfigLayout.sectionInstrument, instrument)
        section(&w, ConfigLayout.sectionDecoy, decoy)
        w.patch32(UInt32(truncatingIfNeeded: w.bytes.count + ConfigLayout.signatureSize), at: 12)
        return w.bytes
    }

    private func section(_ w: inout ConfigWriter, _ type: UInt16, _ value: [UInt8]) {
        w.u16(type)
        w.u16(0)
        w.u32(UInt32(truncatingIfNeeded: value.count))
        w.append(value)
    }

    private func encodePolicy() -> [UInt8] {
        var w = ConfigWriter()
        w.u32(policy.maxFailures)
        w.u8(policy.showAttemptsLeft ? 1 : 0)
        w.u8(policy.quickExitControl ? 1 : 0)
        w.u8(policy.quickExitAction.rawValue)
        w.u8(policy.quickExitButton == nil ? 0 : 1)
        w.u16(policy.quickExitButton?.button ?? 0)
        w.u16(UInt16(truncatingIfNeeded: policy.quickExitButton?.presses ?? 0))
        w.u32(0)
        w.u64(policy.quickExitButton?.windowMilliseconds ?? 0)
        w.u64(policy.autoLockMilliseconds)
        w.u32(UInt32(truncatingIfNeeded: policy.checkpointEveryAnswers))
        w.u32(UInt32(truncatingIfNeeded: policy.decoyScreensIn))
        w.u16(UInt16(truncatingIfNeeded: policy.backoffMilliseconds.count))
        w.u16(UInt16(truncatingIfNeeded: policy.quickExitChord.count))
        w.u32(0)
        for b in policy.backoffMilliseconds { w.u64(b) }
        for k in policy.quickExitChord { w.u16(k) }
        return w.bytes
    }

    private func encodeNames() -> [UInt8] {
        var w = ConfigWriter()
        w.u16(UInt16(truncatingIfNeeded: deviceNames.count))
        w.u16(0)
        for entry in deviceNames {
            w.u8(entry.deviceID == nil ? 0 : 1)
            w.append(entry.deviceID ?? [UInt8](repeating: 0, count: 16))
            w.u8(UInt8(truncatingIfNeeded: entry.name.count))
            w.append(entry.name)
        }
        return w.bytes
    }
}
