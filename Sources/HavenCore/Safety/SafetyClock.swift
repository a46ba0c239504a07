/// Time for the safety layer. Back-off and auto-lock only need a counter
/// that never goes backwards, so no real-time clock is involved: a board
/// without a battery-backed RTC still enforces both, and setting the date
/// cannot shorten a back-off. (A reboot restarts the counter; the back-off
/// is then applied again from boot — Docs/safety.md §2.)
///
/// The same type is the interviews' `InterviewClock`, so one provider
/// serves the whole device and tests drive both with one manual clock.
public protocol SafetyClock: InterviewClock {
    /// Milliseconds since an arbitrary origin (boot), monotonic.
    func monotonicMilliseconds() -> UInt64
}
