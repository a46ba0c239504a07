/// `trunc`, `floor` and `fmod` without libm: bare-metal firmware may not
/// link one, and the stdlib's `rounded(_:)` and `truncatingRemainder` call
/// it. Integer arithmetic only, exact for every double.
enum FloatMath {
    /// Toward zero (`int()`); NaN and infinities unchanged, sign of zero kept.
    static func truncated(_ x: Double) -> Double {
        if !(x > -4_503_599_627_370_496 && x < 4_503_599_627_370_496) { return x }  // |x| ≥ 2^52: integral; NaN
        let t = Double(Int64(x))
        return t == 0 ? (x.sign == .minus ? -0.0 : 0.0) : t
    }

    /// Toward -∞.
    static func floored(_ x: Double) -> Double {
        let t = truncated(x)
        return t > x ? t - 1 : t
    }

    /// x − y·trunc(x / y) exactly, with x's sign (C `fmod`, Java `%`, XPath
    /// `mod`): NaN when y is 0 or x infinite, x when y is infinite.
    static func remainder(_ x: Double, _ y: Double) -> Double {
        if x.isNaN || y.isNaN || x.isInfinite || y == 0 { return .nan }
        if y.isInfinite || x == 0 { return x }
        let (mx, ex) = parts(x)
        let (my, ey) = parts(y)
        if ex < ey { return x }  // then |x| < |y|
        // (mx · 2^(ex-ey)) mod my, one doubling at a time: r < my < 2^53.
        var r = mx % my
        var d = ex - ey
        while d > 0 {
            r <<= 1
            if r >= my { r -= my }
            d -= 1
        }
        return NumberScratch.makeDouble(r, ey, sticky: false, negative: x.sign == .minus)
    }

    /// |x| = mantissa × 2^exponent (finite, non-zero x).
    private static func parts(_ x: Double) -> (UInt64, Int) {
        let bits = x.bitPattern
        let biased = Int((bits >> 52) & 0x7FF)
        let fraction = bits & ((1 << 52) - 1)
        return biased == 0 ? (fraction, -1074) : (fraction | (1 << 52), biased - 1075)
    }
}
