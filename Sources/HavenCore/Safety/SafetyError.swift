/// What the safety layer reports. Deliberately says nothing about *why* a
/// PIN failed (wrong, or the store is gone): that is `UnlockResult`, and it
/// looks the same in both cases.
public enum SafetyError: Error, Equatable, Sendable {
    public enum PolicyField: Equatable, Sendable {
        case recipients, buttonPresses, chord, checkpointInterval, decoyPosition, duress
    }

    /// The config's safety settings cannot be honoured.
    case invalidPolicy(PolicyField)
    /// The flash store failed (a power cut in tests, a worn part, a full store).
    case store(StoreError)
    /// The interview engine refused (an unanswered required question at
    /// finalize, a wrong answer type…).
    case interview(InterviewError)
    /// A primitive failed (Argon2id could not get its memory).
    case crypto(CryptoError)
    /// Sealing the finished interview to the research team failed (a
    /// recipient in the config is not a usable X25519 key).
    case seal(SealError)
    /// The operation needs an unlocked device (or the decoy, for decoy work).
    case locked
    /// No interview is on screen.
    case noInterview
    /// An interview is already in progress: finish it first.
    case interviewInProgress
    /// The engine's instrument does not fit the buffers (a config problem).
    case instrumentTooLarge
}
