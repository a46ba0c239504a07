public import HavenCore

/// Why a link request failed: the transport, the device's answer (with its
/// status code, said in words), or a frame from the device that cannot be
/// trusted.
public enum LinkClientError: Error, Equatable, CustomStringConvertible {
    /// The byte pipe failed (no device, permission, unplugged, timeout).
    case transport(TransportError)
    /// The device answered `request` with a non-ok status.
    case refused(request: LinkMessageType, status: LinkStatusCode, detail: UInt8)
    /// The device answered with a status this host does not know (newer firmware).
    case unknownStatus(request: LinkMessageType, raw: UInt8, detail: UInt8)
    /// A damaged frame, or too many bytes that were not frames.
    case badFrame(FrameError)
    /// A frame that passed its checks but whose payload breaks the spec.
    case malformedResponse(LinkMessageError)
    /// A response that does not belong to the request (type, sequence).
    case unexpectedResponse(String)
    /// The bytes received do not match what the device announced (size, SHA-256).
    case integrity(String)
    /// The request cannot be encoded (too large for a frame).
    case requestTooLarge(String)

    public var description: String {
        switch self {
        case .transport(let e): return e.description
        case .refused(let request, let status, let detail):
            return "the device refused \(request): " + Self.explain(status, detail: detail)
        case .unknownStatus(let request, let raw, let detail):
            return "the device answered \(request) with unknown status \(raw) (detail \(detail)); update haven"
        case .badFrame(let e): return "damaged data from the device: \(e)"
        case .malformedResponse(let e):
            return "malformed response from the device (\(e.kind) at byte \(e.offset) of a type-\(e.type) payload)"
        case .unexpectedResponse(let s): return "unexpected response from the device: \(s)"
        case .integrity(let s): return "integrity check failed: \(s)"
        case .requestTooLarge(let s): return "request too large: \(s)"
        }
    }

    /// A status in words, with what to do about it.
    public static func explain(_ status: LinkStatusCode, detail: UInt8) -> String {
        switch status {
        case .ok: return "ok"
        case .badRequest: return "malformed request (byte \(detail)); host and device disagree on the protocol"
        case .notAuthenticated: return "not authenticated: authenticate with the provisioning key first"
        case .locked: return "the device is locked: unlock the device to pull"
        case .unknownRecord: return "no such finished record on the device"
        case .configRefused: return "config refused by the device (reason \(detail))"
        case .storageError: return "the device's storage failed (code \(detail))"
        case .unknownType: return "the device does not know this message (older firmware?)"
        case .unsupportedVersion: return "the device speaks link protocol version \(detail) only"
        case .authenticationFailed:
            return detail == 1 ? "the device has no provisioning key yet and the host sent none"
                : "signature refused: this is not the device's provisioning key"
        case .noChallenge: return "no fresh challenge: identify first"
        case .configTooLarge: return "config bundle larger than the device accepts"
        case .configSequence: return "config chunks out of order; start again"
        case .configDigestMismatch: return "config bytes damaged in transit (SHA-256 mismatch); start again"
        case .invalidTime: return "the device refused that date/time"
        case .frameCorrupt: return "the request arrived damaged; try again"
        case .frameTooLarge: return "request frame too large for the device"
        case .recordCorrupt: return "the record is damaged on the device's flash"
        case .unsupported: return "this device does not offer that operation"
        }
    }
}
