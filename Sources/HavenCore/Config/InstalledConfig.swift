/// What the config area holds and the device runs on: the signed CONFIG
/// (decoded, and its bytes) and the device-local part (Docs/config-format.md §5.3).
public struct InstalledConfig: Sendable {
    /// The slot's sequence number (which A/B slot is newest).
    public var sequence: UInt64
    public var config: DeviceConfig
    /// The signed CONFIG blob as installed (signature included).
    public var configBytes: [UInt8]
    /// The duress verifier bound to this device (nil: no duress PIN).
    public var duress: DuressVerifier?

    public var version: UInt64 { config.version }

    /// The policy for `SafetyController`: the config's, with the bound verifier.
    public var safetyPolicy: SafetyPolicy {
        var p = config.policy
        p.duress = duress
        return p
    }

    /// The real and the decoy instrument, decoded.
    public func instruments() throws(ConfigError) -> (real: Instrument, decoy: Instrument) {
        let real: Instrument
        do throws(InstrumentError) { real = try Instrument(bytes: config.instrument) } catch {
            throw .instrument(decoy: false, error)
        }
        let decoy: Instrument
        do throws(InstrumentError) { decoy = try Instrument(bytes: config.decoy) } catch {
            throw .instrument(decoy: true, error)
        }
        return (real, decoy)
    }
}

/// The device-local part of a slot body (64 bytes): the bound duress
/// verifier. Not signed (the device made it), authenticated by the slot's AEAD.
enum LocalPart {
    static func encode(_ duress: DuressVerifier?, into out: UnsafeMutableRawBufferPointer) {
        out.fill(0)
        guard let d = duress else { return }
        out[0] = 1
        out[1] = d.boundToDevice ? 1 : 0
        out.storeLE(d.iterations, at: 4)
        out.storeLE(d.memoryKiB, at: 8)
        d.salt.withUnsafeBytes { out.copy($0, to: 16) }
        d.tag.withUnsafeBytes { out.copy($0, to: 32) }
    }

    static func decode(_ b: UnsafeRawBufferPointer, base: Int) throws(ConfigFormatError) -> DuressVerifier? {
        var r = ConfigReader(b, base: base)
        let present = try r.flag(.localPart)
        let bound = try r.flag(.localPart)
        try r.reserved(2, .localPart)
        let t = try r.u32(.localPart)
        let m = try r.u32(.localPart)
        try r.reserved(4, .localPart)
        let salt = try r.array(16, .localPart)
        let tag = try r.array(32, .localPart)
        guard present else { return nil }
        guard t >= 1, m >= 8, m <= UInt32.max / 1024 else { throw .invalidValue(field: .localPart, offset: base + 4) }
        return DuressVerifier(salt: salt, iterations: t, memoryKiB: m, tag: tag, boundToDevice: bound)
    }
}
