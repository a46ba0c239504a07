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
        return Int32(CivilDays.days(year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1,
                                    day: Int(parts.tm_mday)))
    }
}

/// Proleptic Gregorian calendar arithmetic (days since 1970-01-01), for
/// dates typed as YYYY-MM-DD and shown the same way.
public enum CivilDays {
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func civil(days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Parses exactly "YYYY-MM-DD" (a real calendar date) into days.
    public static func parse(_ text: UnsafeRawBufferPointer) -> Int32? {
        guard text.count == 10, text[4] == 0x2D, text[7] == 0x2D else { return nil }
        func number(_ at: Int, _ n: Int) -> Int? {
            var v = 0
            for i in at..<(at + n) {
                let c = text[i]
                guard c >= 0x30, c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            return v
        }
        guard let y = number(0, 4), let m = number(5, 2), let d = number(8, 2), m >= 1, m <= 12, d >= 1 else {
            return nil
        }
        let days = Self.days(year: y, month: m, day: d)
        let back = civil(days: days)
        guard back.month == m, back.day == d else { return nil }
        return Int32(days)
    }
}
