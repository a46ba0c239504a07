/// How much memory the interview engine may take, fixed when an interview
/// starts (a board profile supplies these on a device). Everything the
/// engine uses while the enumerator works is allocated once from these
/// numbers and the instrument, so answering a question never allocates and
/// an instrument too big for the board is refused up front, not halfway
/// through an interview.
public struct EngineLimits: Equatable, Sendable {
    /// Answer slots: one per node per repeat instance path the layout can
    /// hold (Σ over nodes of the product of enclosing repeat capacities).
    public var answerSlots: Int
    /// Bytes for text answers, calculate results and select_multiple values
    /// (each value costs 8 bytes of bookkeeping plus its UTF-8).
    public var textArenaBytes: Int
    /// The board's limit on instances of any one repeat (the instrument's own
    /// limit applies when lower).
    public var repeatCapacity: Int
    /// Longest single text answer or calculate result, in bytes.
    public var maxValueBytes: Int
    /// Screens remembered for `back()` (oldest dropped first).
    public var historyCapacity: Int
    /// Bytes for the rendered label, hint and message of the current screen.
    public var screenTextBytes: Int
    /// Expression VM stack (values), string arena (bytes) and regex memory
    /// (bytes for one pattern's program and backtracking).
    public var expressionStack: Int
    public var expressionArena: Int
    public var expressionRegex: Int
    /// Passes of the relevance/calculate update before it stops looking for
    /// a fixed point (a form whose calculates never settle still terminates).
    public var maxUpdatePasses: Int

    public init(answerSlots: Int = 8192, textArenaBytes: Int = 65536, repeatCapacity: Int = 50,
                maxValueBytes: Int = 4096, historyCapacity: Int = 512, screenTextBytes: Int = 4096,
                expressionStack: Int = 64, expressionArena: Int = 4096, expressionRegex: Int = 4096,
                maxUpdatePasses: Int = 8) {
        self.answerSlots = answerSlots
        self.textArenaBytes = textArenaBytes
        self.repeatCapacity = repeatCapacity
        self.maxValueBytes = maxValueBytes
        self.historyCapacity = historyCapacity
        self.screenTextBytes = screenTextBytes
        self.expressionStack = expressionStack
        self.expressionArena = expressionArena
        self.expressionRegex = expressionRegex
        self.maxUpdatePasses = maxUpdatePasses
    }

    /// A tablet-class default.
    public static let standard = EngineLimits()
}
