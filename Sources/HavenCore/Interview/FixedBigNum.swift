/// An unsigned big integer in a fixed, caller-owned limb buffer (32-bit
/// limbs, least significant first). Exact decimal ↔ binary conversion of
/// doubles needs integers of up to ~3,800 bits; this is just enough of them
/// to do that without the heap. An operation that would outgrow the buffer
/// sets `overflowed` instead of writing past it (the callers size buffers
/// so that it cannot happen, and treat it as "not a number" if it does).
struct FixedBigNum {
    let limbs: UnsafeMutablePointer<UInt32>
    let capacity: Int
    /// Limbs in use; the top one is non-zero (0 limbs = the value 0).
    private(set) var count = 0
    private(set) var overflowed = false

    init(limbs: UnsafeMutablePointer<UInt32>, capacity: Int) {
        self.limbs = limbs
        self.capacity = capacity
    }

    var isZero: Bool { count == 0 }

    var bitLength: Int {
        count == 0 ? 0 : (count - 1) * 32 + (32 - limbs[count - 1].leadingZeroBitCount)
    }

    mutating func set(_ value: UInt64) {
        count = 0
        overflowed = false
        if value != 0 {
            limbs[0] = UInt32(truncatingIfNeeded: value)
            limbs[1] = UInt32(truncatingIfNeeded: value >> 32)
            count = limbs[1] != 0 ? 2 : 1
        }
    }

    mutating func set(copying other: FixedBigNum) {
        count = 0
        overflowed = other.overflowed
        if other.count > capacity { overflowed = true; return }
        var i = 0
        while i < other.count { limbs[i] = other.limbs[i]; i += 1 }
        count = other.count
    }

    /// self = self × factor + addend.
    mutating func multiply(by factor: UInt32, adding addend: UInt32 = 0) {
        var carry = UInt64(addend)
        var i = 0
        while i < count {
            let product = UInt64(limbs[i]) * UInt64(factor) + carry
            limbs[i] = UInt32(truncatingIfNeeded: product)
            carry = product >> 32
            i += 1
        }
        if carry != 0 { appendLimb(UInt32(truncatingIfNeeded: carry)) }
        trim()
    }

    /// self ×= 10^power (power ≥ 0).
    mutating func multiplyByPowerOfTen(_ power: Int) {
        var remaining = power
        while remaining >= 9 { multiply(by: 1_000_000_000); remaining -= 9 }
        var factor: UInt32 = 1
        while remaining > 0 { factor *= 10; remaining -= 1 }
        if factor != 1 { multiply(by: factor) }
    }

    mutating func shiftLeft(_ bits: Int) {
        if count == 0 || bits == 0 { return }
        let limbShift = bits / 32
        let bitShift = UInt32(bits % 32)
        let newCount = count + limbShift + (bitShift > 0 ? 1 : 0)
        if newCount > capacity { overflowed = true; return }
        if bitShift == 0 {
            var i = count - 1
            while i >= 0 { limbs[i + limbShift] = limbs[i]; i -= 1 }
        } else {
            limbs[count + limbShift] = limbs[count - 1] >> (32 - bitShift)
            var i = count - 1
            while i >= 0 {
                let low: UInt32 = i > 0 ? limbs[i - 1] >> (32 - bitShift) : 0
                limbs[i + limbShift] = (limbs[i] << bitShift) | low
                i -= 1
            }
        }
        var j = 0
        while j < limbShift { limbs[j] = 0; j += 1 }
        count = newCount
        trim()
    }

    mutating func shiftRightOne() {
        var i = 0
        while i < count {
            let high: UInt32 = i + 1 < count ? limbs[i + 1] << 31 : 0
            limbs[i] = (limbs[i] >> 1) | high
            i += 1
        }
        trim()
    }

    /// self += other.
    mutating func add(_ other: FixedBigNum) {
        var carry: UInt64 = 0
        var i = 0
        let n = max(count, other.count)
        if n > capacity { overflowed = true; return }
        while i < n {
            let a: UInt64 = i < count ? UInt64(limbs[i]) : 0
            let b: UInt64 = i < other.count ? UInt64(other.limbs[i]) : 0
            let sum = a + b + carry
            limbs[i] = UInt32(truncatingIfNeeded: sum)
            carry = sum >> 32
            i += 1
        }
        count = n
        if carry != 0 { appendLimb(UInt32(truncatingIfNeeded: carry)) }
    }

    /// self -= other, where other ≤ self.
    mutating func subtract(_ other: FixedBigNum) {
        var borrow: Int64 = 0
        var i = 0
        while i < count {
            let b: Int64 = i < other.count ? Int64(other.limbs[i]) : 0
            var difference = Int64(limbs[i]) - b - borrow
            if difference < 0 { difference += 1 << 32; borrow = 1 } else { borrow = 0 }
            limbs[i] = UInt32(truncatingIfNeeded: difference)
            i += 1
        }
        trim()
    }

    /// -1, 0 or 1 as self is below, equal to or above other.
    func compare(_ other: FixedBigNum) -> Int {
        if count != other.count { return count < other.count ? -1 : 1 }
        var i = count - 1
        while i >= 0 {
            if limbs[i] != other.limbs[i] { return limbs[i] < other.limbs[i] ? -1 : 1 }
            i -= 1
        }
        return 0
    }

    /// The top 64 bits, the power of two they are scaled by, and whether any
    /// bit below them is set: self = top × 2^exponent + (a remainder, set
    /// exactly when `sticky`).
    func top64() -> (top: UInt64, exponent: Int, sticky: Bool) {
        let bits = bitLength
        if bits <= 64 {
            var value: UInt64 = 0
            if count > 0 { value = UInt64(limbs[0]) }
            if count > 1 { value |= UInt64(limbs[1]) << 32 }
            return (value, 0, false)
        }
        let shift = bits - 64
        let low = shift / 32
        let offset = UInt64(shift % 32)
        // Bits [shift, shift + 64) live in limbs low ... low + 2. Swift's
        // shifts by 64 or more give 0, so one formula covers offset 0.
        let l0 = UInt64(limbs[low])
        let l1: UInt64 = low + 1 < count ? UInt64(limbs[low + 1]) : 0
        let l2: UInt64 = low + 2 < count ? UInt64(limbs[low + 2]) : 0
        let top = (l0 >> offset) | (l1 << (32 - offset)) | (l2 << (64 - offset))
        var sticky = offset > 0 && l0 & ((1 << offset) - 1) != 0
        var i = 0
        while !sticky && i < low {
            if limbs[i] != 0 { sticky = true }
            i += 1
        }
        return (top, shift, sticky)
    }

    private mutating func appendLimb(_ limb: UInt32) {
        if count >= capacity { overflowed = true; return }
        limbs[count] = limb
        count += 1
    }

    private mutating func trim() {
        while count > 0 && limbs[count - 1] == 0 { count -= 1 }
    }
}
