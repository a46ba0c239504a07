/// Numbers fixed by `Docs/link-protocol.md` (version 1). This file is the
/// spec's single copy in code.
public enum LinkFrame {
    /// "HL": the first two bytes of every frame.
    public static let magic0: UInt8 = 0x48
    public static let magic1: UInt8 = 0x4C
    /// The protocol version this code speaks (the only one so far).
    public static let version: UInt8 = 1
    public static let headerSize = 16
    /// Largest payload a v1 peer sends or accepts.
    public static let maxPayload = 8192
    public static var maxFrame: Int { headerSize + maxPayload }
    /// Flags bit 0: the frame is a response.
    public static let responseFlag: UInt8 = 0x01
    /// Every response payload starts with status u8, detail u8, reserved u16.
    public static let statusSize = 4
    /// Domain prefix of the authentication signature (§6).
    public static let authDomain: StaticString = "haven link auth v1"
    /// Confirmation word of crypto-erase (§12).
    public static let eraseConfirmation: StaticString = "HVNERASE"
}

/// Message types (byte 3 of the header). A response carries its request's type.
public enum LinkMessageType: UInt8, Sendable, Equatable {
    case identify = 0x01
    case authenticate = 0x02
    case configBegin = 0x10
    case configChunk = 0x11
    case configCommit = 0x12
    case listRecords = 0x20
    case readRecord = 0x21
    case acknowledge = 0x22
    case setTime = 0x30
    case cryptoErase = 0x31
    /// Device → host only: a frame the device could not attribute to a
    /// message (damaged, unsupported version, too long).
    case error = 0x7F
}

/// Status byte of every response (§5).
public enum LinkStatusCode: UInt8, Sendable, Equatable {
    case ok = 0
    /// The request payload does not follow the spec (detail: offset, capped at 255).
    case badRequest = 1
    /// Only identify and authenticate work before authentication.
    case notAuthenticated = 2
    /// The store is not mounted: unlock the device to pull.
    case locked = 3
    /// No finished record with this number (never written, a checkpoint, or gone).
    case unknownRecord = 4
    /// The config installer refused the bundle (detail: its reason code).
    case configRefused = 5
    /// The store failed (detail: `LinkStoreErrorCode`).
    case storageError = 6
    /// A message type this device does not know.
    case unknownType = 7
    /// A frame version this device does not speak (detail: highest version it does).
    case unsupportedVersion = 8
    /// The signature does not verify (the challenge is spent either way).
    case authenticationFailed = 9
    /// Authenticate without a fresh challenge from identify.
    case noChallenge = 10
    /// put-config larger than the staging buffer.
    case configTooLarge = 11
    /// A chunk or commit that does not follow begin / the bytes received so far.
    case configSequence = 12
    /// The SHA-256 given at commit does not match the staged bytes.
    case configDigestMismatch = 13
    /// set-time with a date or time that does not exist, or refused by the clock.
    case invalidTime = 14
    /// The frame arrived damaged (CRC): send it again.
    case frameCorrupt = 15
    /// The frame's length is above the maximum payload.
    case frameTooLarge = 16
    /// The record exists but cannot be read back whole (flash damage).
    case recordCorrupt = 17
    /// The device does not offer this operation (not wired on this build).
    case unsupported = 18
}

/// Detail byte of `storageError`.
public enum LinkStoreErrorCode: UInt8, Sendable {
    case other = 0
    case flash = 1
    case full = 2
    case pulledSetTooFragmented = 3
    case closed = 4
    case corrupt = 5
    case bufferTooSmall = 6

    public init(_ error: StoreError) {
        switch error {
        case .flash: self = .flash
        case .full: self = .full
        case .pulledSetTooFragmented: self = .pulledSetTooFragmented
        case .closed: self = .closed
        case .metadataCorrupt, .recordCorrupt: self = .corrupt
        case .bufferTooSmall, .recordTooLarge: self = .bufferTooSmall
        default: self = .other
        }
    }
}
