/// Why a device refused a config over the link: the detail byte of a
/// `configRefused` status (Docs/link-protocol.md, Docs/config-format.md §6).
/// One code per `ConfigError` case, so the host can say what to do.
public enum ConfigRefusal: UInt8, Equatable, Sendable {
    case malformed = 1
    case badSignature = 2
    case provisioningKeyChanged = 3
    case notNewer = 4
    case pinMaterialMismatch = 5
    case pinChangeNeedsUnlock = 6
    case badInstrument = 7
    case badPolicy = 8
    case tooLarge = 9
    case areaGeometry = 10
    case flashFailed = 11
    case storeFailed = 12
    case cryptoFailed = 13
    /// Signed by another key than the one the host authenticated with.
    case notTheSessionKey = 14

    public init(_ error: ConfigError) {
        switch error {
        case .format: self = .malformed
        case .badSignature: self = .badSignature
        case .provisioningKeyChanged: self = .provisioningKeyChanged
        case .notNewer: self = .notNewer
        case .pinMaterialMismatch: self = .pinMaterialMismatch
        case .pinChangeNeedsUnlock: self = .pinChangeNeedsUnlock
        case .instrument: self = .badInstrument
        case .policy: self = .badPolicy
        case .tooLarge: self = .tooLarge
        case .areaGeometry: self = .areaGeometry
        case .flash: self = .flashFailed
        case .store: self = .storeFailed
        case .crypto: self = .cryptoFailed
        }
    }
}
