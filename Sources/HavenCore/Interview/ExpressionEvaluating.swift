/// What the interview engine needs from an expression evaluator: the
/// `ExpressionVM` API (issue3-expr), as a protocol so the engine's few call
/// sites are generic over it. `ExpressionVM` conforms; tests may use a small
/// stand-in. The engine creates the evaluator itself, once, with the stack
/// and arena sizes of `EngineLimits`, and checks every expression's recorded
/// maximum stack depth against that capacity before the interview starts.
public protocol ExpressionEvaluating {
    init(stackCapacity: Int, arenaCapacity: Int)

    /// Runs `code` (validated when the instrument was loaded). Must not
    /// allocate: the engine evaluates after every answer.
    mutating func evaluate<E: ExpressionEnvironment>(_ code: UnsafeRawBufferPointer,
                                                     environment: inout E) throws(ExpressionError) -> ExprValue
}

/// Where `today()` comes from. A device passes its real-time clock; tests
/// and the simulator pass a `FixedClock`.
public protocol InterviewClock {
    /// Today, in days since 1970-01-01 (local date of the interview).
    func today() -> Int32
}

/// A clock stopped on one day.
public struct FixedClock: InterviewClock, Sendable {
    public var day: Int32

    public init(day: Int32) { self.day = day }

    /// The given calendar date (proleptic Gregorian).
    public init(year: Int, month: Int, day: Int) {
        self.day = Int32(ValueText.days(year: year, month: month, day: day))
    }

    public func today() -> Int32 { day }
}
