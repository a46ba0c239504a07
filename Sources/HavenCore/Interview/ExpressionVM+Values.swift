/// XPath 1.0 type conversions and operators as the doc (§3) states them,
/// with ODK's one extension: `number()` of a `YYYY-MM-DD` string is its day
/// number, so dates compare and subtract whether they arrive as dates or
/// as text.
extension ExpressionVM {
    /// XPath `boolean()`: a number is true unless 0 or NaN, a string unless
    /// empty; a date is always true.
    public static func bool(of value: ExprValue) -> Bool {
        switch value {
        case .empty: return false
        case .bool(let b): return b
        case .number(let x): return !(x == 0 || x.isNaN)
        case .string(let s): return s.count > 0
        case .date: return true
        }
    }

    /// XPath `number()`: true 1, false 0, a date its day number, a string
    /// read as an XPath number (whitespace, optional `-`, digits, one `.`)
    /// or a `YYYY-MM-DD` date; anything else, the empty string included, NaN.
    public func number(of value: ExprValue) -> Double {
        switch value {
        case .empty: return .nan
        case .bool(let b): return b ? 1 : 0
        case .number(let x): return x
        case .date(let days): return Double(days)
        case .string(let s): return number(ofText: s)
        }
    }

    func number(ofText s: UnsafeRawBufferPointer) -> Double {
        if let x = scratch.parseDecimal(s) { return x }
        if let days = CivilDate.parse(s) { return Double(days) }
        return .nan
    }

    /// XPath `string()`: booleans `true`/`false`, numbers as
    /// `NumberScratch.formatNumber` writes them, dates `YYYY-MM-DD`. Made in
    /// the arena when needed; valid until the next evaluation.
    public func stringValue(of value: ExprValue) throws(ExpressionError) -> UnsafeRawBufferPointer {
        switch value {
        case .empty: return UnsafeRawBufferPointer(start: nil, count: 0)
        case .string(let s): return s
        case .bool(let b): return Self.staticBytes(b ? "true" : "false")
        case .number(let x):
            guard let count = scratch.formatNumber(x, into: arena.free) else { throw .arenaFull }
            return arena.commit(count)
        case .date(let days):
            var writer = ByteWriter(arena.free)
            CivilDate.format(days, into: &writer)
            guard let count = writer.result else { throw .arenaFull }
            return arena.commit(count)
        }
    }

    /// Appends `string(value)` to the arena (for building one string).
    func appendString(of value: ExprValue) throws(ExpressionError) {
        switch value {
        case .string(let s): try arena.append(s)
        case .empty: return
        case .bool(let b): try arena.append(Self.staticBytes(b ? "true" : "false"))
        default: _ = try stringValue(of: value)  // numbers and dates are written at the top
        }
    }

    /// `=` (and `!=` as its negation): booleans if either side is one, else
    /// numbers if either is a number or a date, else strings (byte for byte).
    func equal(_ a: ExprValue, _ b: ExprValue) -> Bool {
        if a.isBool || b.isBool { return Self.bool(of: a) == Self.bool(of: b) }
        if a.isNumeric || b.isNumeric { return number(of: a) == number(of: b) }
        return Self.sameBytes(a.bytes, b.bytes)
    }

    /// `<` `<=` `>` `>=` on numbers; any NaN makes them false.
    func relation(_ op: Opcode, _ x: Double, _ y: Double) -> Bool {
        switch op {
        case .less: return x < y
        case .lessOrEqual: return x <= y
        case .greater: return x > y
        default: return x >= y
        }
    }

    /// IEEE arithmetic: NaN propagates, x div 0 is ±Infinity (0 div 0 NaN),
    /// `mod` keeps the dividend's sign (truncated, as XPath and Java `%`).
    func arithmetic(_ op: Opcode, _ x: Double, _ y: Double) -> Double {
        switch op {
        case .add: return x + y
        case .subtract: return x - y
        case .multiply: return x * y
        case .divide: return x / y
        default: return FloatMath.remainder(x, y)
        }
    }

    static func staticBytes(_ text: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    }

    static func sameBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        if a.count != b.count { return false }
        var i = 0
        while i < a.count {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }
}

extension ExprValue {
    var isBool: Bool {
        if case .bool = self { return true }
        return false
    }

    var isNumeric: Bool {
        switch self {
        case .number, .date: return true
        default: return false
        }
    }

    /// The bytes of a string or empty value (other cases: none).
    var bytes: UnsafeRawBufferPointer {
        if case .string(let s) = self { return s }
        return UnsafeRawBufferPointer(start: nil, count: 0)
    }
}
