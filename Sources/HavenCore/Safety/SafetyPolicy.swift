/// What the device does on quick exit (Docs/safety.md §4).
public enum QuickExitAction: UInt8, Equatable, Sendable {
    /// The decoy questionnaire appears at a plausible point; the real
    /// interview is saved encrypted and its keys are zeroized; going back to
    /// it needs the PIN.
    case hide = 1
    /// Saved encrypted, keys zeroized, the lock screen.
    case lock = 2
    /// Crypto-erase, then the decoy questionnaire (decoy-only from then on).
    case wipe = 3
}

/// "N presses of button B within T milliseconds".
public struct ButtonTrigger: Equatable, Sendable {
    public var button: UInt16
    /// 2 ... `ButtonPressWindow.capacity`.
    public var presses: Int
    public var windowMilliseconds: UInt64

    public init(button: UInt16, presses: Int, windowMilliseconds: UInt64) {
        self.button = button
        self.presses = presses
        self.windowMilliseconds = windowMilliseconds
    }
}

/// The safety settings of a device, from its signed config (issue 5 builds
/// and verifies it; the core only reads it). Checked once by `validate()`
/// when the controller is made, so nothing later has to.
public struct SafetyPolicy: Sendable {
    // MARK: PIN
    /// The Nth consecutive failed attempt crypto-erases the store (0: never).
    public var maxFailures: UInt32
    /// Milliseconds to wait before the next attempt after k consecutive
    /// failures: element min(k, count − 1); no wait when empty.
    public var backoffMilliseconds: [UInt64]
    /// Whether the lock screen shows how many attempts are left.
    public var showAttemptsLeft: Bool
    /// Unlocks into decoy-only mode and silently crypto-erases.
    public var duress: DuressVerifier?

    // MARK: Quick exit
    /// The on-screen quick-exit control is shown and acted on.
    public var quickExitControl: Bool
    public var quickExitButton: ButtonTrigger?
    /// Keys that, all down together, trigger quick exit (empty: none; at most
    /// `KeyChordDetector.capacity`).
    public var quickExitChord: [UInt16]
    public var quickExitAction: QuickExitAction

    // MARK: Interview
    /// Inactivity before the device locks itself (0: never).
    public var autoLockMilliseconds: UInt64
    /// A checkpoint is written after every K changes of answers (≥ 1).
    public var checkpointEveryAnswers: Int
    /// How many screens into the decoy quick exit lands (its defaults are
    /// the plausible answers on the way).
    public var decoyScreensIn: Int
    /// The research team's age X25519 recipients, n × 32 bytes (n ≥ 1).
    public var recipients: [UInt8]

    public init(maxFailures: UInt32 = 10, backoffMilliseconds: [UInt64] = SafetyPolicy.defaultBackoff,
                showAttemptsLeft: Bool = false, duress: DuressVerifier? = nil, quickExitControl: Bool = true,
                quickExitButton: ButtonTrigger? = nil, quickExitChord: [UInt16] = [],
                quickExitAction: QuickExitAction = .hide, autoLockMilliseconds: UInt64 = 120_000,
                checkpointEveryAnswers: Int = 5, decoyScreensIn: Int = 3, recipients: [UInt8]) {
        self.maxFailures = maxFailures
        self.backoffMilliseconds = backoffMilliseconds
        self.showAttemptsLeft = showAttemptsLeft
        self.duress = duress
        self.quickExitControl = quickExitControl
        self.quickExitButton = quickExitButton
        self.quickExitChord = quickExitChord
        self.quickExitAction = quickExitAction
        self.autoLockMilliseconds = autoLockMilliseconds
        self.checkpointEveryAnswers = checkpointEveryAnswers
        self.decoyScreensIn = decoyScreensIn
        self.recipients = recipients
    }

    /// No wait for the first three attempts, then 1 s, 5 s, 30 s, 1 min,
    /// 5 min, 15 min: a typo costs nothing, guessing costs hours.
    public static let defaultBackoff: [UInt64] = [0, 0, 0, 1_000, 5_000, 30_000, 60_000, 300_000, 900_000]

    /// The wait after `failures` consecutive failures.
    public func backoff(afterFailures failures: UInt32) -> UInt64 {
        guard !backoffMilliseconds.isEmpty else { return 0 }
        return backoffMilliseconds[min(Int(failures), backoffMilliseconds.count - 1)]
    }

    public var recipientCount: Int { recipients.count / CryptoSizes.x25519 }

    /// Refuses settings the controller cannot honour.
    public func validate() throws(SafetyError) {
        guard !recipients.isEmpty, recipients.count % CryptoSizes.x25519 == 0 else {
            throw .invalidPolicy(.recipients)
        }
        if let b = quickExitButton, b.presses < 2 || b.presses > ButtonPressWindow.capacity {
            throw .invalidPolicy(.buttonPresses)
        }
        guard quickExitChord.count <= KeyChordDetector.capacity else { throw .invalidPolicy(.chord) }
        guard checkpointEveryAnswers >= 1 else { throw .invalidPolicy(.checkpointInterval) }
        guard decoyScreensIn >= 0 else { throw .invalidPolicy(.decoyPosition) }
        if let d = duress, !d.isWellFormed { throw .invalidPolicy(.duress) }
    }
}
