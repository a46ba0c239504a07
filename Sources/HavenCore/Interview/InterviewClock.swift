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
        self.day = Int32(CivilDate.days(year: year, month: month, day: day))
    }

    public func today() -> Int32 { day }
}
