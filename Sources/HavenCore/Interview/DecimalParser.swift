/// Text → double, correctly rounded (round half to even), the way XPath 1.0
/// `number(string)` reads it: optional whitespace, an optional `-`, digits
/// with at most one `.` (`12`, `1.5`, `.5`, `5.`), optional whitespace.
/// No exponent, no `+`, no `Infinity`: anything else is NaN. Most inputs
/// take Clinger's exact fast path; the rest are done with exact big-integer
/// arithmetic in the scratch memory (never the heap).
extension NumberScratch {
    /// Beyond this many significant digits the rest only decide a tie,
    /// which a sticky digit captures (767 digits can matter for a double).
    static let maxSignificantDigits = 780

    /// XPath `number()` of UTF-8 text; NaN when it is not a number.
    func parseDecimal(_ text: UnsafeRawBufferPointer) -> Double? {
        var start = 0
        var end = text.count
        while start < end && isXPathSpace(text[start]) { start += 1 }
        while end > start && isXPathSpace(text[end - 1]) { end -= 1 }
        if start == end { return nil }
        var negative = false
        if text[start] == 0x2D { negative = true; start += 1 }
        var digitCount = 0
        var fractionDigits = 0
        var sawPoint = false
        var i = start
        while i < end {
            let c = text[i]
            if c >= 0x30 && c <= 0x39 {
                digitCount += 1
                if sawPoint { fractionDigits += 1 }
            } else if c == 0x2E && !sawPoint {
                sawPoint = true
            } else {
                return nil
            }
            i += 1
        }
        if digitCount == 0 { return nil }
        // value = (digits without leading zeros) × 10^-fractionDigits.
        var first = start
        while first < end && (text[first] == 0x30 || text[first] == 0x2E) { first += 1 }
        var significant = 0
        var trailingZeros = 0
        i = first
        while i < end {
            let c = text[i]
            if c != 0x2E {
                significant += 1
                trailingZeros = c == 0x30 ? trailingZeros + 1 : 0
            }
            i += 1
        }
        if significant == 0 { return negative ? -0.0 : 0.0 }
        let digits = UnsafeRawBufferPointer(rebasing: text[first..<end])
        return decimalToDouble(digits: digits, count: significant - trailingZeros,
                               exponent: trailingZeros - fractionDigits, negative: negative)
    }

    /// The double nearest to (the first `count` decimal digits of `digits`,
    /// skipping any `.`, read as an integer) × 10^exponent. The first digit
    /// is non-zero; `count` ≥ 1.
    func decimalToDouble(digits: UnsafeRawBufferPointer, count: Int, exponent: Int, negative: Bool) -> Double {
        // Clinger's fast path: both factors exact, one rounding.
        if count <= 19 {
            var w: UInt64 = 0
            var taken = 0
            var i = 0
            while taken < count {
                let c = digits[i]
                if c != 0x2E { w = w * 10 + UInt64(c - 0x30); taken += 1 }
                i += 1
            }
            if w <= 1 << 53 && exponent >= -22 && exponent <= 22 {
                var power = 1.0
                var e = exponent < 0 ? -exponent : exponent
                while e > 0 { power *= 10; e -= 1 }
                let magnitude = exponent < 0 ? Double(w) / power : Double(w) * power
                return negative ? -magnitude : magnitude
            }
        }
        // value lies in [10^(lead - 1), 10^lead).
        let lead = count + exponent
        if lead > 310 { return negative ? -Double.infinity : Double.infinity }
        if lead < -324 { return negative ? -0.0 : 0.0 }
        return slowDecimalToDouble(digits: digits, count: count, exponent: exponent, negative: negative)
    }

    private func slowDecimalToDouble(digits: UnsafeRawBufferPointer, count: Int, exponent: Int,
                                     negative: Bool) -> Double {
        var value = number(0)
        value.set(0)
        let taken = min(count, Self.maxSignificantDigits)
        var chunk: UInt32 = 0
        var chunkDigits = 0
        var seen = 0
        var i = 0
        var sticky = false
        while seen < count {
            let c = digits[i]
            i += 1
            if c == 0x2E { continue }
            if seen < taken {
                chunk = chunk * 10 + UInt32(c - 0x30)
                chunkDigits += 1
                if chunkDigits == 9 {
                    value.multiply(by: 1_000_000_000, adding: chunk)
                    chunk = 0
                    chunkDigits = 0
                }
            } else if c != 0x30 {
                sticky = true
            }
            seen += 1
        }
        if chunkDigits > 0 {
            var factor: UInt32 = 1
            while chunkDigits > 0 { factor *= 10; chunkDigits -= 1 }
            value.multiply(by: factor, adding: chunk)
        }
        var scale = exponent + (count - taken)
        if sticky {
            // A non-zero digit past the cut: one more digit 1 stands for it.
            value.multiply(by: 10, adding: 1)
            scale -= 1
        }
        if scale >= 0 {
            value.multiplyByPowerOfTen(scale)
            if value.overflowed { return .nan }
            let (top, shift, rest) = value.top64()
            return Self.makeDouble(top, shift, sticky: rest, negative: negative)
        }
        // value / 10^-scale: a 64-bit quotient by long division, plus sticky.
        var divisor = number(1)
        divisor.set(1)
        divisor.multiplyByPowerOfTen(-scale)
        let shift = 63 + divisor.bitLength - value.bitLength
        if shift >= 0 { value.shiftLeft(shift) } else { divisor.shiftLeft(-shift) }
        divisor.shiftLeft(63)
        if value.overflowed || divisor.overflowed { return .nan }
        var quotient: UInt64 = 0
        var bit = 63
        while bit >= 0 {
            if value.compare(divisor) >= 0 {
                value.subtract(divisor)
                quotient |= 1 << UInt64(bit)
            }
            divisor.shiftRightOne()
            bit -= 1
        }
        return Self.makeDouble(quotient, -shift, sticky: !value.isZero, negative: negative)
    }

    /// The double nearest to mantissa × 2^exponent (+ a little more when
    /// `sticky`), round half to even, with subnormals and overflow.
    static func makeDouble(_ mantissa: UInt64, _ exponent: Int, sticky: Bool, negative: Bool) -> Double {
        let sign: UInt64 = negative ? 1 << 63 : 0
        if mantissa == 0 { return Double(bitPattern: sign) }
        let leading = mantissa.leadingZeroBitCount
        let m = mantissa << UInt64(leading)
        var unbiased = exponent - leading + 63
        if unbiased > 1023 { return Double(bitPattern: sign | 0x7FF0_0000_0000_0000) }
        var shift = 11
        if unbiased < -1022 { shift += -1022 - unbiased }
        if shift > 64 { return Double(bitPattern: sign) }
        var kept: UInt64
        let rest: UInt64
        let half: UInt64
        if shift == 64 {
            kept = 0
            rest = m
            half = 1 << 63
        } else {
            kept = m >> UInt64(shift)
            rest = m & ((1 << UInt64(shift)) - 1)
            half = 1 << UInt64(shift - 1)
        }
        if rest > half || (rest == half && (sticky || kept & 1 == 1)) { kept += 1 }
        if unbiased < -1022 {
            // Subnormal; a carry into bit 52 is exactly the smallest normal.
            return Double(bitPattern: sign | kept)
        }
        if kept == 1 << 53 {
            kept >>= 1
            unbiased += 1
            if unbiased > 1023 { return Double(bitPattern: sign | 0x7FF0_0000_0000_0000) }
        }
        return Double(bitPattern: sign | UInt64(unbiased + 1023) << 52 | (kept & ((1 << 52) - 1)))
    }
}

/// XPath 1.0 whitespace (S production): space, tab, CR, LF.
@inline(__always)
func isXPathSpace(_ c: UInt8) -> Bool {
    c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D
}
