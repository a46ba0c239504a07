/// One input event of the simulator (Docs/simulator.md §3 lists them with
/// their JSON form). Text values point into the reader's scratch buffer and
/// are valid until the next `SimEventReader.read`; the runtime wipes that
/// buffer after every event, so a typed answer lives in exactly one place
/// outside the engine, for as long as one event takes.
public struct SimEvent {
    public enum Kind: String, CaseIterable, Sendable {
        // Lock screen
        case pin, digit, erase, submit
        // Keys and buttons (board button names, hardware buttons, raw key codes)
        case key, button, quickExit = "quick-exit", lock, touch, tick
        // Home
        case start, language
        // Interview
        case answer, select, clear, next, back, yes, no, finalize, discard, home
        // Output only
        case screen
        // Debug (only with --debug-memory-scan)
        case debugScan = "debug-scan"
    }

    public var kind: Kind
    /// `value` as text (string values, or the digits of a number).
    public var value: UnsafeRawBufferPointer?
    /// `value` was a JSON number (not a string).
    public var valueIsNumber = false
    /// `key`: a board key name ("F12") or a single character.
    public var key: UnsafeRawBufferPointer?
    /// `id` (button), `index` (select, language, start), `ms` (tick), `code` (raw key code).
    public var id: Int64?
    public var index: Int64?
    public var ms: Int64?
    public var code: Int64?
    /// `down` for key/button: true/false = that edge only; absent = a press (down then up).
    public var down: Bool?
    /// `needlesHex` of debug-scan: each needle's bytes, hex-decoded straight
    /// into masked form (byte XOR `SimEvent.needleMask`), so the plain needle
    /// never exists in this process outside the memory it is looking for.
    public var maskedNeedles: [UnsafeRawBufferPointer] = []

    public static let needleMask: UInt8 = 0xA5

    public init(kind: Kind) { self.kind = kind }
}

/// Why an input line was refused (reported in the next screen model's `error`).
public enum SimEventError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(at: Int, what: String)
    case missingType
    case unknownType
    case tooLong(limit: Int)
    case badField(String)

    public var description: String {
        switch self {
        case .malformed(let at, let what): return "bad event: \(what) at byte \(at)"
        case .missingType: return "bad event: no \"type\""
        case .unknownType: return "bad event: unknown \"type\""
        case .tooLong(let limit): return "bad event: line longer than \(limit) bytes"
        case .badField(let name): return "bad event: field \"\(name)\" has the wrong type"
        }
    }
}
