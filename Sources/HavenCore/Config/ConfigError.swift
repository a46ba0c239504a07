/// Which part of a config-format structure a decoder was reading when it
/// gave up (Docs/config-format.md). Together with the byte offset this says
/// exactly what is wrong with a hostile or damaged blob.
public enum ConfigField: UInt8, Equatable, Sendable {
    case bundleHeader = 1
    case bundleLength
    case configHeader
    case configLength
    case configVersion
    case section
    case sectionOrder
    case policy
    case policyAction
    case policyButton
    case policyBackoff
    case policyChord
    case deviceNames
    case deviceName
    case recipients
    case instrument
    case decoyInstrument
    case signature
    case pinHeader
    case pinSlot
    case pinDuress
    case localPart
    case trailingBytes
}

/// A structure that does not follow Docs/config-format.md. `offset` is from
/// the start of the structure named (bundle, CONFIG, PIN MATERIAL, body).
public enum ConfigFormatError: Error, Equatable, Sendable {
    /// The bytes end before `field` does.
    case truncated(field: ConfigField, offset: Int)
    /// Not the magic of the structure expected.
    case badMagic(field: ConfigField, offset: Int)
    /// A format version this build does not know: the reader refuses rather
    /// than guesses (a newer host tool made it; update the firmware).
    case unsupportedVersion(field: ConfigField, version: UInt16)
    /// A value outside its allowed range (a flag that is not 0/1, a count
    /// over its limit, a length that does not add up, a reserved byte ≠ 0).
    case invalidValue(field: ConfigField, offset: Int)
}

/// Why an install or a boot-time load failed.
public enum ConfigError: Error, Equatable, Sendable {
    case format(ConfigFormatError)
    /// The signature does not verify with the pinned provisioning key.
    case badSignature
    /// The config carries a provisioning key other than the pinned one.
    case provisioningKeyChanged
    /// Version not newer than the installed one (anti-rollback).
    case notNewer(installed: UInt64, offered: UInt64)
    /// SHA-256 of the PIN MATERIAL is not the one the signed CONFIG names.
    case pinMaterialMismatch
    /// The PIN material differs from the installed one and the device is
    /// locked: re-wrapping the data key needs it unlocked (Docs/config-format.md §6).
    case pinChangeNeedsUnlock
    /// An instrument in the config does not decode.
    case instrument(decoy: Bool, InstrumentError)
    /// The safety policy is one the controller refuses.
    case policy(SafetyError)
    /// The config does not fit a slot of the config area.
    case tooLarge(bytes: Int, capacity: Int)
    /// The config area partition is too small or misshapen.
    case areaGeometry
    case flash(FlashError)
    case store(StoreError)
    case crypto(CryptoError)
}
