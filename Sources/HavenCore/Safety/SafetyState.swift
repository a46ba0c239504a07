/// Where the device is (Docs/safety.md §6 has every transition).
public enum SafetyState: Equatable, Sendable {
    /// The lock screen; a PIN attempt is accepted now.
    case locked
    /// The lock screen after a failed attempt: the next one is accepted in
    /// `backoffRemaining` milliseconds.
    case unlocking(backoffRemaining: UInt64)
    /// Unlocked with the real instrument.
    case unlocked
    /// Unlocked by the duress PIN (or after a quick-exit wipe): the real data
    /// is erased and only the decoy instrument exists.
    case decoyOnly
    /// Quick exit "hide": the decoy is on screen; the real interview is
    /// saved encrypted and its keys are gone. The PIN brings it back.
    case hidden
    /// The store was crypto-erased (too many failures, or found blank at
    /// boot). The lock screen looks as usual; only the duress PIN opens it
    /// (into decoy-only).
    case erased
}

/// The controller's phase: the state without the clock.
enum SafetyPhase: Equatable {
    case locked, unlocked, decoyOnly, hidden, erased
}

/// What the lock screen shows.
public struct LockScreen: Equatable, Sendable {
    /// Milliseconds before the next attempt is accepted (0: now).
    public var backoffRemaining: UInt64
    /// Attempts before the device erases itself, when the policy shows it.
    public var attemptsLeft: Int?
}

/// The screen model: everything the renderer draws comes from here, so
/// "nothing sensitive on screen" is a property of this value.
public enum SafetyScreen {
    case lock(LockScreen)
    /// Unlocked, no interview running: the title of the instrument the
    /// enumerator can start (the real one, or the decoy in hidden and
    /// decoy-only modes, which look exactly like a normal device).
    case home(title: UnsafeRawBufferPointer)
    /// The interview on screen (real or decoy: the screen does not say).
    case interview(Screen)
}

/// What a PIN attempt did. A wrong PIN and a PIN on an erased device read
/// the same.
public enum UnlockResult: Equatable, Sendable {
    case unlocked
    /// Wrong; `attemptsLeft` when the policy shows it.
    case wrongPIN(attemptsLeft: Int?)
    /// Refused without trying: the back-off has `remaining` milliseconds to run.
    case backingOff(remaining: UInt64)
    /// Not on the lock screen.
    case notLocked
}
