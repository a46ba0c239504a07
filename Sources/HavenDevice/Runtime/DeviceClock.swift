import Glibc
import HavenCore

/// The simulator's clock: monotonic milliseconds since the process started
/// (a restart is a reboot, so back-off runs again from boot as on a device)
/// plus simulated time added by `advance` (the headless `tick` event), and
/// the civil date from the host's local time, or from `setToday` once a host
/// has set the time over the link.
public final class DeviceClock: SafetyClock {
    private let origin: UInt64
    /// Simulated time added on top of the real monotonic clock.
    public private(set) var skewMilliseconds: UInt64 = 0
    /// Days added to the host's date (set by `setToday`).
    private var dayOffset: Int32 = 0

    public init() {
        origin = Self.rawMonotonic()
    }

    public func monotonicMilliseconds() -> UInt64 {
        (Self.rawMonotonic() &- origin) &+ skewMilliseconds
    }

    /// Lets `ms` of simulated time pass (auto-lock and back-off see it).
    public func advance(milliseconds ms: UInt64) {
        skewMilliseconds &+= ms
    }

    /// Today in days since 1970-01-01, local time.
    public func today() -> Int32 {
        Self.hostToday() &+ dayOffset
    }

    /// Sets today's date (days since 1970-01-01), as the link's set-time does.
    public func setToday(_ days: Int32) {
        dayOffset = days &- Self.hostToday()
    }

    static func rawMonotonic() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1000 &+ UInt64(ts.tv_nsec / 1_000_000)
    }

    static func hostToday() -> Int32 {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        return Int32(CivilDate.days(year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1,
                                    day: Int(parts.tm_mday)))
    }
}
