/// Dates as XForms stores them: `YYYY-MM-DD` text, and as the VM holds
/// them: days since 1970-01-01 (proleptic Gregorian, no time zone, so a
/// date never shifts by a day between devices). Conversions use Howard
/// Hinnant's days-from-civil algorithms, exact for every year.
public enum CivilDate {
    /// Day number of a calendar date.
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Calendar date of a day number.
    public static func civil(days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func isLeap(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// The day number of `YYYY-MM-DD` text (surrounding XPath whitespace
    /// allowed), or nil when it is not exactly a valid date.
    public static func parse(_ text: UnsafeRawBufferPointer) -> Int32? {
        var start = 0
        var end = text.count
        while start < end && isXPathSpace(text[start]) { start += 1 }
        while end > start && isXPathSpace(text[end - 1]) { end -= 1 }
        if end - start != 10 || text[start + 4] != 0x2D || text[start + 7] != 0x2D { return nil }
        guard let year = digits(text, start, 4), let month = digits(text, start + 5, 2),
              let day = digits(text, start + 8, 2) else { return nil }
        if month < 1 || month > 12 || day < 1 || day > daysIn(month: month, year: year) { return nil }
        return Int32(days(year: year, month: month, day: day))
    }

    /// Writes `YYYY-MM-DD` (a leading `-` for negative years, more digits
    /// after 9999).
    static func format(_ dayNumber: Int32, into writer: inout ByteWriter) {
        let (year, month, day) = civil(days: Int(dayNumber))
        if year < 0 { writer.byte(0x2D) }
        writer.integer(UInt64(year < 0 ? -year : year), width: 4)
        writer.byte(0x2D)
        writer.integer(UInt64(month), width: 2)
        writer.byte(0x2D)
        writer.integer(UInt64(day), width: 2)
    }

    private static func digits(_ text: UnsafeRawBufferPointer, _ at: Int, _ n: Int) -> Int? {
        var value = 0
        var i = 0
        while i < n {
            let c = text[at + i]
            if c < 0x30 || c > 0x39 { return nil }
            value = value * 10 + Int(c - 0x30)
            i += 1
        }
        return value
    }
}
