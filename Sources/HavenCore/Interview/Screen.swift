/// What kind of screen the renderer draws.
public enum ScreenKind: Equatable, Sendable {
    case question
    case note
    /// Yes/no: is the respondent alone and able to talk? (The label is a
    /// generic question: the section's own title is not shown, since it
    /// could tell a bystander what the next questions are about.)
    case privacyCheck
    /// Yes/no: add another instance of the repeat named in the label.
    case repeatPrompt
    case end
}

/// The input a question takes.
public enum QuestionType: UInt8, Equatable, Sendable {
    case text = 4
    case integer = 5
    case decimal = 6
    case date = 7
    case selectOne = 8
    case selectMultiple = 9

    init?(_ kind: NodeKind) { self.init(rawValue: kind.rawValue) }
}

/// Why `next()` kept the enumerator on a screen.
public enum ValidationFailure: Equatable, Sendable {
    /// Required and unanswered (or a yes/no screen without a choice).
    case required
    /// Answered, but the form's constraint is false.
    case constraint
}

/// A question's current answer, as the renderer shows it. Byte buffers
/// point into the engine and stay valid until its next call.
public enum AnswerValue {
    case none
    case text(UnsafeRawBufferPointer)
    case integer(Int64)
    case decimal(Double)
    /// Days since 1970-01-01.
    case date(Int32)
    /// Item index in the question's choice list.
    case choice(Int)
    /// Selected values, space-separated, in list order.
    case choices(UnsafeRawBufferPointer)
    /// A calculate result or preloaded value.
    case calculated(UnsafeRawBufferPointer)
}

/// The model of the current screen: everything a renderer draws, in the
/// current language, with outputs substituted. Built by the engine into
/// buffers it allocated at start (nothing allocates per screen); the byte
/// buffers stay valid until the next call on the interview.
public struct Screen {
    public var kind: ScreenKind
    /// The screen's node (nil at the end).
    public var node: UInt16?
    public var instance: InstancePath
    /// The input for `.question` screens.
    public var questionType: QuestionType?
    /// UTF-8. Question/note: the label; privacy check: the generic
    /// question; repeat prompt: the repeat's label.
    public var label: UnsafeRawBufferPointer
    public var hint: UnsafeRawBufferPointer
    /// Set after `next()` refused the answer.
    public var validation: ValidationFailure?
    /// The form's constraint or required message, or a generic one.
    public var message: UnsafeRawBufferPointer
    public var isRequired: Bool
    /// Shown but not editable (notes are always read-only).
    public var isReadonly: Bool
    /// Inside a group or repeat marked sensitive.
    public var isSensitive: Bool
    /// Choices after the itemset filter; read them with `choice(at:)`.
    public var choiceCount: Int
    public var answer: AnswerValue
    /// Inside a repeat: 1-based instance of the innermost repeat and how
    /// many instances it has (0 and 0 outside repeats).
    public var repeatPosition: Int
    public var repeatCount: Int
}

/// One choice of the current select screen.
public struct ScreenChoice {
    /// Index of the item in the node's choice list.
    public var item: Int
    public var value: UnsafeRawBufferPointer
    /// Label in the current language.
    public var label: UnsafeRawBufferPointer
    public var isSelected: Bool
}

/// The engine's built-in English texts, used when the form gives none.
enum ScreenText {
    static let privacyQuestion: StaticString = "Is the respondent alone and able to talk?"
    static let requiredMessage: StaticString = "This question requires an answer."
    static let constraintMessage: StaticString = "This answer is not allowed."
}
