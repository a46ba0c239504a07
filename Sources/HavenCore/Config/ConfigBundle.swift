/// A config bundle as `haven config build` writes it and put-config carries
/// it (Docs/config-format.md §4): a 24-byte header, the signed CONFIG blob,
/// the PIN MATERIAL blob. The parts are views into the caller's buffer.
public struct ConfigBundle {
    public var config: UnsafeRawBufferPointer
    public var pinMaterial: UnsafeRawBufferPointer

    public static func split(_ bytes: UnsafeRawBufferPointer) throws(ConfigFormatError) -> ConfigBundle {
        var r = ConfigReader(bytes)
        try r.magic(ConfigLayout.bundleMagic, .bundleHeader)
        try r.version(.bundleHeader)
        let sizeAt = r.absolute
        guard try r.u16(.bundleHeader) == UInt16(ConfigLayout.bundleHeaderSize) else {
            throw .invalidValue(field: .bundleHeader, offset: sizeAt)
        }
        let a = try r.length(.bundleLength)
        let b = try r.length(.bundleLength)
        try r.reserved(4, .bundleHeader)
        guard a <= r.remaining, b <= r.remaining - a else {
            throw .truncated(field: .bundleLength, offset: bytes.count)
        }
        guard a + b == r.remaining else {
            throw .invalidValue(field: .trailingBytes, offset: ConfigLayout.bundleHeaderSize + a + b)
        }
        let config = try r.take(a, .bundleLength)
        let pin = try r.take(b, .bundleLength)
        return ConfigBundle(config: config, pinMaterial: pin)
    }

    /// Header ‖ config ‖ PIN material.
    public static func encode(config: [UInt8], pinMaterial: [UInt8]) -> [UInt8] {
        var w = ConfigWriter()
        w.magic(ConfigLayout.bundleMagic)
        w.u16(ConfigLayout.formatVersion)
        w.u16(UInt16(ConfigLayout.bundleHeaderSize))
        w.u32(UInt32(truncatingIfNeeded: config.count))
        w.u32(UInt32(truncatingIfNeeded: pinMaterial.count))
        w.u32(0)
        w.append(config)
        w.append(pinMaterial)
        return w.bytes
    }
}

/// Keys and names derived from the 32-byte device secret (decisions: the
/// secure element on hardware, `<image>.secret` in the simulator).
public enum DeviceIdentity<C: CryptoSuite> {
    /// 16 bytes: the first half of HKDF(salt: "", ikm: secret, info:
    /// "haven device id v1"). Stable across wipes and re-provisioning, and
    /// reveals nothing about the secret.
    public static func deviceID(secret: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count == 16, "device id is 16 bytes")
        derive(secret, ConfigLayout.deviceIDInfo, into: out)
    }

    public static func deviceID(secret: UnsafeRawBufferPointer) -> [UInt8] {
        var id = [UInt8](repeating: 0, count: 16)
        id.withUnsafeMutableBytes { deviceID(secret: secret, into: $0) }
        return id
    }

    /// 32 lowercase hex characters, as `haven devices` and file names show it.
    public static func hex(_ id: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for b in id {
            out.append(hexDigit(b >> 4))
            out.append(hexDigit(b & 15))
        }
        return out
    }

    private static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 + v : 0x61 + v - 10 }

    /// The key the config area is encrypted with at rest.
    static func atRestKey(secret: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        derive(secret, ConfigLayout.atRestInfo, into: out)
    }

    /// The key that binds the duress verifier to this device.
    static func duressBindKey(secret: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        derive(secret, ConfigLayout.duressBindInfo, into: out)
    }

    private static func derive(_ secret: UnsafeRawBufferPointer, _ info: StaticString,
                               into out: UnsafeMutableRawBufferPointer) {
        if out.count == 32 {
            label(info) { i in
                HKDF<C>.derive(salt: UnsafeRawBufferPointer(start: nil, count: 0), inputKeyMaterial: secret, info: i,
                               output: out)
            }
            return
        }
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { full in
            label(info) { i in
                HKDF<C>.derive(salt: UnsafeRawBufferPointer(start: nil, count: 0), inputKeyMaterial: secret, info: i,
                               output: full)
            }
            out.copy(UnsafeRawBufferPointer(full.slice(0, out.count)), to: 0)
            C.zeroize(full)
        }
    }
}
