/// Why the interview engine refused something. Each case says what and,
/// where it applies, which node and instance or which byte of a saved state.
public enum InterviewError: Error, Equatable, Sendable {
    // Starting
    /// The answer layout needs more slots than `EngineLimits.answerSlots`.
    case instrumentTooLarge(neededSlots: Int, availableSlots: Int)
    /// An expression needs a deeper stack than the VM was given.
    case expressionTooDeep(index: UInt32, maxStack: Int, capacity: Int)
    case noSuchLanguage(Int)

    // Answering
    /// The current screen takes no answer (note, yes/no screen, end).
    case notAQuestion
    /// The answer's type is not the question's.
    case wrongType(expected: QuestionType)
    case readonly(node: UInt16)
    /// Text that is not well-formed UTF-8.
    case invalidText
    /// NaN or infinity.
    case invalidNumber
    /// Longer than `EngineLimits.maxValueBytes`.
    case answerTooLong(Int)
    /// No choice at that position on the current screen.
    case choiceOutOfRange(Int)
    /// The text arena is full even after compaction.
    case answerStorageFull

    // Navigating
    /// `choose(yes:)` on a screen that is not a privacy check or repeat prompt.
    case notAYesNoScreen
    case notAGroup(node: Int)
    case notRelevant(node: UInt16)
    /// The target lies in a repeat instance that does not exist.
    case noSuchInstance(node: UInt16)

    // Finalizing
    case requiredUnanswered(node: UInt16, instance: InstancePath)
    case constraintViolated(node: UInt16, instance: InstancePath)
    case bufferTooSmall(needed: Int)

    // Resuming a saved state (Docs/instrument-format.md §5)
    case stateTruncated(offset: Int)
    case stateBadMagic
    case stateUnsupportedVersion(UInt16)
    case stateLengthMismatch(declared: UInt32, actual: Int)
    case stateChecksumMismatch
    /// The state was saved with another instrument.
    case stateWrongInstrument
    /// A field that is out of range, out of order, or inconsistent.
    case stateInvalid(offset: Int)
    /// The state's values do not fit this engine's limits.
    case stateTooLarge(offset: Int)

    /// The interview was wiped (quick exit or lock).
    case closed
}
