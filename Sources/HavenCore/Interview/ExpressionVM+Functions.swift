/// The functions `Opcode.call` reaches (doc §3 table), with ODK/JavaRosa
/// semantics where ODK differs from plain XPath: `substr` is 0-based and
/// end-exclusive, `regex` is a full match, `round` takes a digit count and
/// rounds ties up, `coalesce` skips empty strings and NaN.
extension ExpressionVM {
    func call<E: ExpressionEnvironment>(_ function: ExpressionFunction, arguments a: UnsafeMutablePointer<ExprValue>,
                                        count: Int, environment: inout E) throws(ExpressionError) -> ExprValue {
        switch function {
        case .if:
            return Self.bool(of: a[0]) ? a[1] : a[2]
        case .coalesce:
            return isNull(a[0]) ? a[1] : a[0]
        case .selected:
            let list = try stringValue(of: a[0])
            let wanted = SpaceTokens.trimmed(try stringValue(of: a[1]))
            return .bool(SpaceTokens.contains(list, wanted))
        case .countSelected:
            return .number(Double(SpaceTokens.count(try stringValue(of: a[0]))))
        case .selectedAt:
            let list = try stringValue(of: a[0])
            return .string(SpaceTokens.token(list, at: Self.index(number(of: a[1]))))
        case .stringLength:
            return .number(Double(UTF8Scalars.count(try stringValue(of: a[0]))))
        case .concat:
            let mark = arena.mark
            var i = 0
            while i < count {
                try appendString(of: a[i])
                i += 1
            }
            return .string(arena.string(since: mark))
        case .substr:
            return .string(substring(try stringValue(of: a[0]), number(of: a[1]), count == 3 ? number(of: a[2]) : nil))
        case .regex:
            let value = try stringValue(of: a[0])
            let pattern = try stringValue(of: a[1])
            return .bool(BacktrackingRegex.matches(value, pattern: pattern, memory: regexMemory))
        case .contains, .startsWith, .endsWith:
            let haystack = try stringValue(of: a[0])
            let needle = try stringValue(of: a[1])
            return .bool(Self.find(needle, in: haystack, function))
        case .int:
            return .number(FloatMath.truncated(number(of: a[0])))
        case .number:
            return .number(number(of: a[0]))
        case .string:
            return .string(try stringValue(of: a[0]))
        case .boolean:
            return .bool(Self.bool(of: a[0]))
        case .round:
            let x = number(of: a[0])
            if count == 1 { return .number(Self.roundHalfUp(x)) }
            return .number(scratch.roundDecimal(x, places: Self.index(number(of: a[1]))))
        case .date:
            return date(of: a[0])
        case .today:
            return .date(environment.today())
        case .random:
            return .number(environment.random())
        case .true:
            return .bool(true)
        case .false:
            return .bool(false)
        }
    }

    /// JavaRosa's "null" for `coalesce`: empty, the empty string, or NaN.
    func isNull(_ value: ExprValue) -> Bool {
        switch value {
        case .empty: return true
        case .string(let s): return s.count == 0
        case .number(let x): return x.isNaN
        default: return false
        }
    }

    /// ODK `substr(s, start, end?)`: 0-based start, end exclusive (default:
    /// the length), negative values count from the end, both clamped to
    /// the string; empty when start ≥ end. On Unicode scalars. A slice of
    /// `s`, nothing copied.
    func substring(_ s: UnsafeRawBufferPointer, _ startValue: Double, _ endValue: Double?) -> UnsafeRawBufferPointer {
        let length = UTF8Scalars.count(s)
        var start = Self.index(startValue)
        var end = length
        if let e = endValue { end = Self.index(e) }
        if start < 0 { start += length }
        if end < 0 { end += length }
        start = min(max(start, 0), length)
        end = min(max(end, 0), length)
        if start >= end { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let from = UTF8Scalars.offset(ofScalar: start, in: s)
        let to = UTF8Scalars.offset(ofScalar: end, in: s)
        return UnsafeRawBufferPointer(rebasing: s[from..<to])
    }

    /// `date(x)`: a date from a date, a day number (truncated) or a
    /// `YYYY-MM-DD` string; empty for anything else.
    func date(of value: ExprValue) -> ExprValue {
        switch value {
        case .date: return value
        case .number(let x): return Self.date(days: x)
        case .string(let s):
            if let days = CivilDate.parse(s) { return .date(days) }
            if let x = scratch.parseDecimal(s) { return Self.date(days: x) }
            return .empty
        default: return .empty
        }
    }

    static func date(days x: Double) -> ExprValue {
        if x.isNaN || x >= 2_147_483_648 || x <= -2_147_483_649 { return .empty }
        return .date(Int32(FloatMath.truncated(x)))
    }

    /// A number as Java's `(int)` makes it: NaN 0, saturating at Int32's range.
    static func index(_ x: Double) -> Int {
        if x.isNaN { return 0 }
        if x >= 2_147_483_647 { return 2_147_483_647 }
        if x <= -2_147_483_648 { return -2_147_483_648 }
        return Int(FloatMath.truncated(x))
    }

    /// XPath `round(x)`: the nearest integer, ties toward +∞ (2.5 → 3,
    /// -2.5 → -2); NaN and infinities unchanged.
    static func roundHalfUp(_ x: Double) -> Double {
        if !x.isFinite { return x }
        let down = FloatMath.floored(x)
        return x - down >= 0.5 ? down + 1 : down
    }

    static func find(_ needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer,
                     _ function: ExpressionFunction) -> Bool {
        let n = needle.count
        let h = haystack.count
        if n > h { return false }
        switch function {
        case .startsWith:
            return sameBytes(needle, UnsafeRawBufferPointer(rebasing: haystack[0..<n]))
        case .endsWith:
            return sameBytes(needle, UnsafeRawBufferPointer(rebasing: haystack[(h - n)..<h]))
        default:
            var i = 0
            while i + n <= h {
                if sameBytes(needle, UnsafeRawBufferPointer(rebasing: haystack[i..<(i + n)])) { return true }
                i += 1
            }
            return false
        }
    }
}

/// Space-separated select_multiple values (`a b c`): runs of XPath
/// whitespace separate tokens, so stray spaces never make empty ones.
enum SpaceTokens {
    static func trimmed(_ s: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0
        var end = s.count
        while start < end && isXPathSpace(s[start]) { start += 1 }
        while end > start && isXPathSpace(s[end - 1]) { end -= 1 }
        if start == end { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(rebasing: s[start..<end])
    }

    /// The token starting at or after `from`, or nil.
    static func next(_ s: UnsafeRawBufferPointer, from: inout Int) -> UnsafeRawBufferPointer? {
        var i = from
        while i < s.count && isXPathSpace(s[i]) { i += 1 }
        if i == s.count { from = i; return nil }
        let start = i
        while i < s.count && !isXPathSpace(s[i]) { i += 1 }
        from = i
        return UnsafeRawBufferPointer(rebasing: s[start..<i])
    }

    /// `selected()`: is `wanted` (non-empty) one of the tokens?
    static func contains(_ list: UnsafeRawBufferPointer, _ wanted: UnsafeRawBufferPointer) -> Bool {
        if wanted.count == 0 { return false }
        var at = 0
        while let token = next(list, from: &at) {
            if ExpressionVM.sameBytes(token, wanted) { return true }
        }
        return false
    }

    static func count(_ list: UnsafeRawBufferPointer) -> Int {
        var n = 0
        var at = 0
        while next(list, from: &at) != nil { n += 1 }
        return n
    }

    /// Token `index` (0-based), empty when out of range.
    static func token(_ list: UnsafeRawBufferPointer, at index: Int) -> UnsafeRawBufferPointer {
        var n = 0
        var at = 0
        while let token = next(list, from: &at) {
            if n == index { return token }
            n += 1
        }
        return UnsafeRawBufferPointer(start: nil, count: 0)
    }
}
