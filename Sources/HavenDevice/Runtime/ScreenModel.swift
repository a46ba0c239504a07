import HavenCore

/// What the simulator's screen shows, built from the safety controller
/// (`state`, `screen`, `choice(at:)`) and the runtime's own lock-screen and
/// notice state. It is the only thing a front end draws (the terminal UI)
/// or prints (headless mode, one JSON object per line: `writeJSON`).
///
/// The decoy is not visible in it: hidden and decoy-only modes produce the
/// same kinds, fields and buttons as an unlocked device; only the texts
/// (the decoy instrument's) differ. A borrowed view: its byte buffers point
/// into the engine and are valid until the next call on the runtime.
public struct ScreenModel {
    public enum Kind: String, Sendable {
        /// The lock screen (PIN entry).
        case lock
        /// Unlocked, no interview: the instrument menu (one instrument).
        case home
        /// A question; `input` says which answer it takes.
        case question
        /// A note (read-only text).
        case note
        /// "Is the respondent alone and able to talk?" before a sensitive
        /// section: the consent gate, answered yes/no.
        case privacyCheck = "privacy-check"
        /// "Add another …?" of a repeat, answered yes/no.
        case repeatPrompt = "repeat-prompt"
        /// The end of the form: review, then finalize (or back).
        case review
        /// The interview was finalized and saved.
        case finished
        /// No config installed yet: the device id, waiting for the link
        /// (`DeviceHost` draws it; a `DeviceRuntime` never is).
        case unprovisioned
    }

    /// What the enumerator can do on this screen (front ends draw these).
    public struct Buttons: OptionSet, Sendable {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        public static let submitPIN = Buttons(rawValue: 1 << 0)
        public static let start = Buttons(rawValue: 1 << 1)
        public static let next = Buttons(rawValue: 1 << 2)
        public static let back = Buttons(rawValue: 1 << 3)
        public static let yes = Buttons(rawValue: 1 << 4)
        public static let no = Buttons(rawValue: 1 << 5)
        public static let finalize = Buttons(rawValue: 1 << 6)
        public static let language = Buttons(rawValue: 1 << 7)
        public static let lock = Buttons(rawValue: 1 << 8)
        public static let quickExit = Buttons(rawValue: 1 << 9)
        public static let home = Buttons(rawValue: 1 << 10)
        public static let clear = Buttons(rawValue: 1 << 11)

        public static let names: [(Buttons, StaticString)] = [
            (.submitPIN, "submit"), (.start, "start"), (.next, "next"), (.back, "back"), (.yes, "yes"), (.no, "no"),
            (.clear, "clear"), (.finalize, "finalize"), (.language, "language"), (.home, "home"), (.lock, "lock"),
            (.quickExit, "quick-exit"),
        ]
    }

    /// A one-shot message about the last event.
    public enum Notice: String, Sendable {
        case wrongPIN = "wrong-pin"
        case tryLater = "try-later"
        /// The interview was saved (real: sealed; decoy: the same words).
        case saved
        /// The last input was not accepted (see `error`).
        case refused
    }

    public var kind: Kind
    /// Home: the instrument's title.
    public var title: UnsafeRawBufferPointer
    public var label: UnsafeRawBufferPointer
    public var hint: UnsafeRawBufferPointer
    /// The validation message after `next` refused the answer.
    public var message: UnsafeRawBufferPointer
    public var validation: ValidationFailure?
    public var input: QuestionType?
    public var isRequired = false
    public var isReadonly = false
    public var answer: AnswerValue = .none
    public var choiceCount = 0
    public var repeatPosition = 0
    public var repeatCount = 0
    /// Current language index and how many the instrument has (names via the runtime).
    public var language = 0
    public var languageCount = 0
    /// Lock screen: digits entered so far (drawn masked), back-off, attempts left.
    public var pinDigits = 0
    public var backoffMilliseconds: UInt64 = 0
    public var attemptsLeft: Int?
    public var notice: Notice?
    /// Why the last event was refused (never contains what was typed).
    public var error: String?
    public var buttons: Buttons = []

    static var empty: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }

    init(kind: Kind) {
        self.kind = kind
        title = Self.empty
        label = Self.empty
        hint = Self.empty
        message = Self.empty
    }
}

extension QuestionType {
    /// The XLSForm type name, as the screen model spells it.
    public var name: StaticString {
        switch self {
        case .text: return "text"
        case .integer: return "integer"
        case .decimal: return "decimal"
        case .date: return "date"
        case .selectOne: return "select_one"
        case .selectMultiple: return "select_multiple"
        }
    }
}
