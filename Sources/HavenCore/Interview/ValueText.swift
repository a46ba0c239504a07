/// Text forms of values, both ways, without Foundation: XPath 1.0 string
/// forms of numbers, `YYYY-MM-DD` dates, and the parsers used for form
/// defaults and for reading numbers back. The engine needs these to store
/// calculate results (ODK keeps them as strings), to render outputs in
/// labels, and to check defaults when an instrument is loaded.
enum ValueText {
    // MARK: Numbers

    /// Exact powers of ten (10^0 … 10^22 are exactly representable).
    @inline(__always)
    static func powerOfTen(_ k: Int) -> Double {
        var result = 1.0
        var remaining = k
        while remaining > 22 {
            result *= 1e22
            remaining -= 22
        }
        var exact = 1.0
        var i = 0
        while i < remaining {
            exact *= 10
            i += 1
        }
        return result * exact
    }

    /// Writes `x` as XPath's `string(number)`: `NaN`, `Infinity`,
    /// `-Infinity`, integers without a decimal point, other values in plain
    /// decimal notation (no exponent) with at most 15 significant digits and
    /// no trailing zeros. Fifteen digits round away binary noise
    /// (0.1 + 0.2 shows as `0.3`), which is what a person reading a label
    /// or an analyst reading a calculate expects.
    static func writeNumber(_ x: Double, to out: inout ByteWriter) {
        if x.isNaN {
            out.append("NaN")
            return
        }
        if x.isInfinite {
            out.append(x < 0 ? "-Infinity" : "Infinity")
            return
        }
        if x == 0 {
            out.append(48)
            return
        }
        var v = x
        if v < 0 {
            out.append(45)
            v = -v
        }
        // Integer conversions, not `rounded()`: no libm on a microcontroller.
        if v < 9_007_199_254_740_992 && Double(UInt64(v)) == v {
            out.appendDecimal(UInt64(v))
            return
        }
        // Scale into [1e14, 1e15) and keep 15 digits: v ≈ digits × 10^exponent.
        var exponent = 0
        var m = v
        if m >= 1e15 {
            while m >= 1e15 * 1e22 {
                m /= 1e22
                exponent += 22
            }
            while m >= 1e15 {
                m /= 10
                exponent += 1
            }
        } else {
            var k = 0
            var probe = m
            while probe < 1e14 {
                probe *= 10
                k += 1
            }
            m = k <= 22 ? v * powerOfTen(k) : probe
            if m >= 1e15 {  // rounding in the probe overshot by one decade
                m /= 10
                k -= 1
            }
            exponent = -k
        }
        var digits = UInt64(m + 0.5)
        if digits >= 1_000_000_000_000_000 {
            digits /= 10
            exponent += 1
        }
        if exponent >= 0 {
            out.appendDecimal(digits)
            var z = 0
            while z < exponent {
                out.append(48)
                z += 1
            }
            return
        }
        // Fractional: 15 digits with the point `15 + exponent` digits in.
        var fraction = -exponent
        while fraction > 0 && digits % 10 == 0 {
            digits /= 10
            fraction -= 1
        }
        if fraction == 0 {
            out.appendDecimal(digits)
            return
        }
        var scale: UInt64 = 1
        var s = 0
        var integerDigits = true
        while s < fraction {
            if scale > UInt64.max / 10 {
                integerDigits = false
                break
            }
            scale *= 10
            s += 1
        }
        if integerDigits {
            out.appendDecimal(digits / scale)
            out.append(46)
            out.appendDecimal(digits % scale, width: fraction)
        } else {
            // Below 1e-19: all fifteen digits sit after leading zeros.
            out.append(48)
            out.append(46)
            var count = digits
            var n = 0
            while count > 0 {
                n += 1
                count /= 10
            }
            var zeros = fraction - n
            while zeros > 0 {
                out.append(48)
                zeros -= 1
            }
            out.appendDecimal(digits)
        }
    }

    /// XPath `number(string)`: optional whitespace, optional `-`, digits with
    /// an optional `.`, optional whitespace. Anything else is NaN.
    static func parseNumber(_ bytes: UnsafeRawBufferPointer) -> Double {
        var i = 0
        let n = bytes.count
        while i < n && isSpace(bytes[i]) { i += 1 }
        var end = n
        while end > i && isSpace(bytes[end - 1]) { end -= 1 }
        var negative = false
        if i < end && bytes[i] == 45 {
            negative = true
            i += 1
        }
        var mantissa: UInt64 = 0
        var exponent = 0
        var sawDigit = false
        var sawPoint = false
        while i < end {
            let b = bytes[i]
            if b == 46 {
                if sawPoint { return .nan }
                sawPoint = true
            } else if b >= 48 && b <= 57 {
                sawDigit = true
                if mantissa < 1_000_000_000_000_000_000 {
                    mantissa = mantissa * 10 + UInt64(b - 48)
                    if sawPoint { exponent -= 1 }
                } else if !sawPoint {
                    exponent += 1
                }
            } else {
                return .nan
            }
            i += 1
        }
        if !sawDigit { return .nan }
        var value = Double(mantissa)
        if exponent > 0 {
            value *= powerOfTen(exponent)
        } else if exponent < 0 {
            value /= powerOfTen(-exponent)
        }
        return negative ? -value : value
    }

    /// A form's integer literal: optional `-`, 1–19 digits, within Int64.
    static func parseInteger(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        var i = 0
        var negative = false
        if bytes.count > 0 && bytes[0] == 45 {
            negative = true
            i = 1
        }
        if i == bytes.count { return nil }
        var magnitude: UInt64 = 0
        while i < bytes.count {
            let b = bytes[i]
            guard b >= 48 && b <= 57 else { return nil }
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(b - 48))
            if o1 || o2 { return nil }
            magnitude = sum
            i += 1
        }
        if negative {
            if magnitude > UInt64(Int64.max) + 1 { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        return magnitude > UInt64(Int64.max) ? nil : Int64(magnitude)
    }

    @inline(__always)
    static func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 10 || b == 13 }

    // MARK: Dates

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
    /// `days_from_civil`).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// (year, month, day) of a day number (`civil_from_days`).
    static func civil(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// `YYYY-MM-DD` (years 0001–9999, a real calendar day) as days since
    /// 1970-01-01.
    static func parseDate(_ bytes: UnsafeRawBufferPointer) -> Int32? {
        guard bytes.count == 10, bytes[4] == 45, bytes[7] == 45 else { return nil }
        var fields = (0, 0, 0)
        var i = 0
        while i < 10 {
            if i != 4 && i != 7 {
                let b = bytes[i]
                guard b >= 48 && b <= 57 else { return nil }
                let d = Int(b - 48)
                if i < 4 { fields.0 = fields.0 * 10 + d } else if i < 7 { fields.1 = fields.1 * 10 + d } else { fields.2 = fields.2 * 10 + d }
            }
            i += 1
        }
        let (y, m, d) = fields
        guard y >= 1, m >= 1, m <= 12, d >= 1, d <= daysInMonth(year: y, month: m) else { return nil }
        return Int32(days(year: y, month: m, day: d))
    }

    /// Writes `YYYY-MM-DD` (XPath string form of a date).
    static func writeDate(_ days: Int32, to out: inout ByteWriter) {
        let (y, m, d) = civil(Int(days))
        if y < 0 { out.append(45) }
        out.appendDecimal(UInt64(y.magnitude), width: 4)
        out.append(45)
        out.appendDecimal(UInt64(m), width: 2)
        out.append(45)
        out.appendDecimal(UInt64(d), width: 2)
    }
}
