/// Memory for exact number ↔ text conversion, allocated once (by the VM's
/// init) and reused: XPath needs `number("0.1")` to be the same double as
/// the literal `0.1`, and `string(0.1 + 0.2)` to be the shortest text that
/// reads back as that double. Both need big integers; these are their limbs.
struct NumberScratch {
    /// 128 × 32 = 4,096 bits per integer: the slow parse path needs up to
    /// ~3,750 (10^1106 shifted left by 63), see `DecimalParser`.
    static let limbsPerNumber = 128
    static let numberCount = 5
    /// Room for the shortest digits of a double (17) and rounding carries.
    static let digitCapacity = 32

    let limbs: UnsafeMutablePointer<UInt32>
    let digits: UnsafeMutablePointer<UInt8>

    static func allocate() -> NumberScratch {
        let limbs = UnsafeMutablePointer<UInt32>.allocate(capacity: limbsPerNumber * numberCount)
        limbs.initialize(repeating: 0, count: limbsPerNumber * numberCount)
        let digits = UnsafeMutablePointer<UInt8>.allocate(capacity: digitCapacity)
        digits.initialize(repeating: 0, count: digitCapacity)
        return NumberScratch(limbs: limbs, digits: digits)
    }

    func deallocate() {
        limbs.deallocate()
        digits.deallocate()
    }

    /// Big integer number `index` (0 ..< numberCount), set to zero.
    func number(_ index: Int) -> FixedBigNum {
        FixedBigNum(limbs: limbs + index * Self.limbsPerNumber, capacity: Self.limbsPerNumber)
    }
}
