import Foundation

/// The readable config file `haven config build` reads (JSON; see
/// Docs/config-format.md §7 and Tests/Fixtures/config/field-config.json). It holds the
/// enumerator and duress PINs in clear, so it is a secret input: keep it
/// with the provisioning key, not on the pull station.
public struct ConfigFile: Codable, Sendable {
    /// Anti-rollback version: each config sent to a device must be larger.
    public var version: UInt64
    /// Board profile name (Hardware/boards) giving the Argon2id cost and
    /// flash geometry; `--board` overrides it. Default "sim".
    public var board: String?
    /// Names shown by the devices; an entry with an id is for that device
    /// only, one without is the default.
    public var devices: [Device]?
    /// Real instrument: a compiled `.instrument` or an XForm `.xml`
    /// (compiled on the fly). Relative paths are from the file's folder.
    public var instrument: String
    /// The decoy (dummy questionnaire), same rules.
    public var decoy: String
    /// Research team's age X25519 recipients (`age1…`), at least one.
    public var recipients: [String]
    public var pins: PINs
    public var lock: Lock?
    public var quickExit: QuickExit?
    /// A checkpoint of the interview in progress after every N answer changes.
    public var checkpointEveryAnswers: Int?

    public struct Device: Codable, Sendable {
        public var name: String
        /// 32 hex characters (`haven devices` shows it); absent: any device.
        public var id: String?

        public init(name: String, id: String? = nil) {
            self.name = name
            self.id = id
        }
    }

    public struct PINs: Codable, Sendable {
        /// One to four enumerator PINs (each opens the device).
        public var enumerator: [String]
        /// Unlocks into the decoy only and silently crypto-erases the store.
        public var duress: String?
    }

    public struct Lock: Codable, Sendable {
        /// The Nth consecutive wrong PIN crypto-erases the store (0: never). Default 10.
        public var maxFailures: UInt32?
        /// Wait after k consecutive failures (element min(k, n) − 1), seconds.
        public var backoffSeconds: [UInt64]?
        public var showAttemptsLeft: Bool?
        /// Inactivity before the device locks itself (0: never). Default 120.
        public var autoLockSeconds: UInt64?
    }

    public struct QuickExit: Codable, Sendable {
        /// "hide" (decoy on screen), "lock" or "wipe". Default "hide".
        public var action: String?
        /// The on-screen quick-exit control. Default true.
        public var onScreenControl: Bool?
        public var button: Button?
        /// Key codes that, held together, trigger quick exit (at most 8).
        public var chord: [UInt16]?
        /// Screens into the decoy that quick exit lands on. Default 3.
        public var decoyScreensIn: Int?
    }

    public struct Button: Codable, Sendable {
        /// The input driver's key code (Linux KEY_* number on a tablet).
        public var code: UInt16
        /// 2 ... 8 presses.
        public var presses: Int
        public var withinMilliseconds: UInt64
    }

    /// Decodes the JSON text of a config file.
    public static func decode(_ data: Data) throws(ConfigBuildError) -> ConfigFile {
        do {
            return try JSONDecoder().decode(ConfigFile.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw .file("missing field '\(path(context.codingPath + [key]))'")
        } catch let DecodingError.typeMismatch(_, context) {
            throw .file("wrong type at '\(path(context.codingPath))': \(context.debugDescription)")
        } catch let DecodingError.valueNotFound(_, context) {
            throw .file("missing value at '\(path(context.codingPath))'")
        } catch let DecodingError.dataCorrupted(context) {
            throw .file("not valid JSON\(context.codingPath.isEmpty ? "" : " at '\(path(context.codingPath))'"): "
                        + "\((context.underlyingError as NSError?)?.localizedDescription ?? context.debugDescription)")
        } catch {
            throw .file("\(error)")
        }
    }

    private static func path(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            .replacingOccurrences(of: ".[", with: "[")
    }
}

/// Why `haven config build` could not make a bundle: one line a person can act on.
public enum ConfigBuildError: Error, Equatable, CustomStringConvertible {
    case file(String)
    /// A file-system failure writing or reading a key or bundle file.
    case io(String)
    case missingFile(String)
    case instrument(path: String, reason: String)
    case recipient(index: Int, reason: String)
    case pin(String)
    case duressEqualsPIN
    case device(index: Int, reason: String)
    case policy(String)
    case key(String)
    case tooLarge(bytes: Int, capacity: Int, board: String)

    public var description: String {
        switch self {
        case .file(let s): return "config file: \(s)"
        case .io(let s): return s
        case .missingFile(let p): return "cannot read '\(p)': no such file or not readable"
        case .instrument(let p, let r): return "instrument '\(p)': \(r)"
        case .recipient(let i, let r): return "recipients[\(i)]: \(r)"
        case .pin(let s): return "pins: \(s)"
        case .duressEqualsPIN: return "pins: the duress PIN must differ from every enumerator PIN (it erases the device)"
        case .device(let i, let r): return "devices[\(i)]: \(r)"
        case .policy(let s): return "policy: \(s)"
        case .key(let s): return "provisioning key: \(s)"
        case .tooLarge(let n, let c, let b):
            return "the config is \(n) bytes; board '\(b)' holds at most \(c) (use smaller instruments)"
        }
    }
}
