import HavenCore

/// Messages for the config errors the core reports as values
/// (Docs/config-format.md): the device's put-config answer, `haven`, the simulator.
extension ConfigError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .format(let e): return "malformed config: \(e)"
        case .badSignature: return "config refused: the signature does not verify with the device's provisioning key"
        case .provisioningKeyChanged:
            return "config refused: signed for another provisioning key than the one this device trusts"
        case .notNewer(let installed, let offered):
            return "config refused: version \(offered) is not newer than the installed version \(installed)"
        case .pinMaterialMismatch: return "config refused: the PIN material is not the one the signed config names"
        case .pinChangeNeedsUnlock:
            return "config refused: it changes the PINs; unlock the device with its current PIN, then provision again"
        case .instrument(let decoy, let e): return "config refused: the \(decoy ? "decoy" : "real") instrument is invalid (\(e))"
        case .policy(let e): return "config refused: the safety policy is invalid (\(e))"
        case .tooLarge(let n, let c): return "config refused: \(n) bytes, the device's config area holds \(c)"
        case .areaGeometry: return "the config area partition is too small or has an odd number of blocks"
        case .flash(let e): return "flash: \(e)"
        case .store(let e): return "store: \(e)"
        case .crypto(let e): return "crypto: \(e)"
        }
    }
}

extension ConfigFormatError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .truncated(let field, let offset): return "\(field) ends early (at byte \(offset))"
        case .badMagic(let field, let offset): return "\(field): wrong magic at byte \(offset)"
        case .unsupportedVersion(let field, let v):
            return "\(field): format version \(v) is not supported by this firmware (update it)"
        case .invalidValue(let field, let offset): return "\(field): invalid value at byte \(offset)"
        }
    }
}
