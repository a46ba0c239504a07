/// Double → text as XPath 1.0 `string(number)` writes it: `NaN`,
/// `Infinity`, `-Infinity`, `0` for both zeros, integers without a decimal
/// point, everything else in plain positional notation (never an exponent)
/// with the fewest digits that read back as the same double (`0.1 + 0.2` →
/// `0.30000000000000004`, `1.5`, `0.0000001`). The digits come from Burger
/// and Dybvig's free-format algorithm on exact big integers in the scratch
/// memory.
extension NumberScratch {
    /// Writes the XPath string of `x` into `out`; returns the byte count, or
    /// nil when `out` is too small (at most 330 bytes are ever needed).
    func formatNumber(_ x: Double, into out: UnsafeMutableRawBufferPointer) -> Int? {
        var writer = ByteWriter(out)
        if x.isNaN { return writer.ascii("NaN") }
        if x.isInfinite { return writer.ascii(x < 0 ? "-Infinity" : "Infinity") }
        if x == 0 { return writer.ascii("0") }
        if x < 0 { writer.byte(0x2D) }
        let magnitude = x < 0 ? -x : x
        if magnitude < 9_007_199_254_740_992 && magnitude == FloatMath.truncated(magnitude) {
            writer.integer(UInt64(magnitude))
            return writer.result
        }
        let (count, point) = shortestDigits(magnitude)
        // magnitude = 0.d1 d2 … dcount × 10^point.
        if point <= 0 {
            writer.byte(0x30)
            writer.byte(0x2E)
            var zeros = -point
            while zeros > 0 { writer.byte(0x30); zeros -= 1 }
            writer.digits(digits, count)
        } else if point >= count {
            writer.digits(digits, count)
            var zeros = point - count
            while zeros > 0 { writer.byte(0x30); zeros -= 1 }
        } else {
            writer.digits(digits, point)
            writer.byte(0x2E)
            writer.digits(digits + point, count - point)
        }
        return writer.result
    }

    /// Shortest digits (values 0…9, into `digits`) and the decimal point
    /// position k of a positive finite double: x = 0.d1 d2 … dn × 10^k, and
    /// no shorter digit string reads back as x (ties read back by round
    /// half to even, as every correct parser does).
    func shortestDigits(_ x: Double) -> (count: Int, point: Int) {
        let bits = x.bitPattern
        let biased = Int((bits >> 52) & 0x7FF)
        let fraction = bits & ((1 << 52) - 1)
        let f = biased == 0 ? fraction : fraction | (1 << 52)
        let e = biased == 0 ? -1074 : biased - 1075
        let even = f & 1 == 0
        // x = r / s; the gaps to the neighbouring doubles are mPlus / s and mMinus / s.
        var r = number(0)
        var s = number(1)
        var mPlus = number(2)
        var mMinus = number(3)
        var temp = number(4)
        let unequalGaps = fraction == 0 && biased > 1
        if e >= 0 {
            r.set(f)
            r.shiftLeft(e + (unequalGaps ? 2 : 1))
            s.set(unequalGaps ? 4 : 2)
            mPlus.set(1)
            mPlus.shiftLeft(e + (unequalGaps ? 1 : 0))
            mMinus.set(1)
            mMinus.shiftLeft(e)
        } else {
            r.set(f)
            r.shiftLeft(unequalGaps ? 2 : 1)
            s.set(1)
            s.shiftLeft((unequalGaps ? 2 : 1) - e)
            mPlus.set(unequalGaps ? 2 : 1)
            mMinus.set(1)
        }
        // Estimate k from the binary exponent (floor(n·log10 2) = n·78913 >> 18).
        let log2 = 64 - f.leadingZeroBitCount - 1 + e
        var k = log2 == 0 ? 0 : ((log2 * 78913) >> 18) + 1
        if k >= 0 {
            s.multiplyByPowerOfTen(k)
        } else {
            r.multiplyByPowerOfTen(-k)
            mPlus.multiplyByPowerOfTen(-k)
            mMinus.multiplyByPowerOfTen(-k)
        }
        // Fix k so that the high end of x's rounding interval is below 10^k…
        while true {
            temp.set(copying: r)
            temp.add(mPlus)
            let c = temp.compare(s)
            if even ? c < 0 : c <= 0 { break }
            s.multiply(by: 10)
            k += 1
        }
        // …but not below 10^(k-1).
        while true {
            temp.set(copying: r)
            temp.add(mPlus)
            temp.multiply(by: 10)
            let c = temp.compare(s)
            if even ? c >= 0 : c > 0 { break }
            r.multiply(by: 10)
            mPlus.multiply(by: 10)
            mMinus.multiply(by: 10)
            k -= 1
        }
        var count = 0
        while count < 20 {
            r.multiply(by: 10)
            mPlus.multiply(by: 10)
            mMinus.multiply(by: 10)
            var digit: UInt8 = 0
            while r.compare(s) >= 0 { r.subtract(s); digit += 1 }
            let low = r.compare(mMinus)
            let lowDone = even ? low <= 0 : low < 0
            temp.set(copying: r)
            temp.add(mPlus)
            let high = temp.compare(s)
            let highDone = even ? high >= 0 : high > 0
            if !lowDone && !highDone {
                digits[count] = digit
                count += 1
                continue
            }
            if lowDone && highDone {
                // Both last digits read back: the nearer one, and on an
                // exact tie the even one (as ECMAScript's Number::toString).
                temp.set(copying: r)
                temp.shiftLeft(1)
                let c = temp.compare(s)
                if c > 0 || (c == 0 && digit & 1 == 1) { digit += 1 }
            } else if highDone {
                digit += 1
            }
            digits[count] = digit
            count += 1
            break
        }
        return (count, k)
    }
}
