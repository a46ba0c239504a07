/// `round(x, places)` as ODK Collect computes it: JavaRosa rounds the
/// decimal text of the double (`BigDecimal(Double.toString(x))`), not its
/// binary value, so `round(1.005, 2)` is 1.01 as a person expects, and a
/// tie goes toward +∞ (half up for positive numbers, half down for
/// negative ones). Places beyond ±30 give NaN, as in JavaRosa.
extension NumberScratch {
    func roundDecimal(_ x: Double, places: Int) -> Double {
        if !x.isFinite || x == 0 { return x }
        if places > 30 || places < -30 { return .nan }
        let negative = x < 0
        let (count, point) = shortestDigits(negative ? -x : x)
        // |x| = 0.d1 … dcount × 10^point; keep the digits before the cut.
        let keep = point + places
        if keep >= count { return x }
        if keep < 0 { return negative ? -0.0 : 0.0 }
        let first = digits[keep]
        var rest = false
        var i = keep + 1
        while i < count { if digits[i] != 0 { rest = true }; i += 1 }
        let up = negative ? (first > 5 || (first == 5 && rest)) : first >= 5
        var kept = keep
        var exponentPoint = point
        if up {
            // Add one at the last kept digit, carrying left.
            var j = keep - 1
            while j >= 0 && digits[j] == 9 { digits[j] = 0; j -= 1 }
            if j >= 0 {
                digits[j] += 1
            } else {
                // All nines, or nothing kept: the result is 10^point.
                digits[0] = 1
                kept = 1
                exponentPoint = point + 1
                return toDouble(count: kept, point: exponentPoint, negative: negative)
            }
        }
        while kept > 0 && digits[kept - 1] == 0 { kept -= 1 }
        if kept == 0 { return negative ? -0.0 : 0.0 }
        return toDouble(count: kept, point: exponentPoint, negative: negative)
    }

    /// 0.d1 … dcount × 10^point from the digit values in `digits`.
    private func toDouble(count: Int, point: Int, negative: Bool) -> Double {
        var i = 0
        while i < count { digits[i] += 0x30; i += 1 }
        let text = UnsafeRawBufferPointer(start: digits, count: count)
        return decimalToDouble(digits: text, count: count, exponent: point - count, negative: negative)
    }
}
