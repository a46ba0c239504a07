/// The ids that no longer need keeping: pulled by a host, or abandoned by a
/// power cut before their append returned. Stored as a floor (every id below
/// it is retired) plus up to `maxRetiredRanges` disjoint half-open ranges
/// above it, so it stays small when pulls happen in order, which is how the
/// host pulls. Fixed capacity, allocated once: updating it never allocates.
struct RetiredSet {
    private(set) var floor: UInt64 = 1
    /// lower0, upper0, lower1, upper1, … sorted, disjoint, not touching.
    private var bounds: [UInt64]
    private(set) var rangeCount = 0
    static let capacity = StoreLayout.maxRetiredRanges

    init() {
        bounds = [UInt64](repeating: 0, count: 2 * Self.capacity)
    }

    func lower(_ i: Int) -> UInt64 { bounds[2 * i] }
    func upper(_ i: Int) -> UInt64 { bounds[2 * i + 1] }

    func contains(_ id: UInt64) -> Bool {
        if id < floor { return true }
        for i in 0..<rangeCount where lower(i) <= id && id < upper(i) { return true }
        return false
    }

    /// True when every id in `lower..<upper` is retired.
    func containsAll(_ lower: UInt64, _ upper: UInt64) -> Bool {
        if upper <= lower { return true }
        var next = lower
        if next < floor { next = floor }
        if next >= upper { return true }
        for i in 0..<rangeCount where self.lower(i) <= next && next < self.upper(i) {
            return self.upper(i) >= upper
        }
        return false
    }

    /// Number of retired ids below `limit`.
    func count(below limit: UInt64) -> UInt64 {
        var n = min(floor, limit) &- 1
        for i in 0..<rangeCount where lower(i) < limit { n += min(upper(i), limit) - lower(i) }
        return n
    }

    /// Whether `insert(lower, upper)` would fit.
    /// (Pure: no copy of the set, so it allocates nothing.)
    func canInsert(_ lowerIn: UInt64, _ upper: UInt64) -> Bool {
        let lower = max(lowerIn, floor)
        if upper <= lower || lower == floor || rangeCount < Self.capacity { return true }
        // Full: it fits only if it merges with a range it overlaps or touches.
        for i in 0..<rangeCount where self.upper(i) >= lower && self.lower(i) <= upper { return true }
        return false
    }

    /// Adds `lower..<upper`; false (and no change) when it would need more
    /// ranges than the capacity.
    @discardableResult
    mutating func insert(_ lowerIn: UInt64, _ upper: UInt64) -> Bool {
        var lower = lowerIn
        if lower < floor { lower = floor }
        if upper <= lower { return true }
        // Find the ranges that overlap or touch [lower, upper) and merge them.
        var first = 0
        while first < rangeCount && self.upper(first) < lower { first += 1 }
        var last = first
        var newLower = lower, newUpper = upper
        while last < rangeCount && self.lower(last) <= upper {
            newLower = min(newLower, self.lower(last))
            newUpper = max(newUpper, self.upper(last))
            last += 1
        }
        let removed = last - first
        if removed == 0 && rangeCount == Self.capacity { return false }
        // Shift the tail to leave exactly one slot at `first`.
        let shift = 1 - removed
        if shift > 0 {
            var i = rangeCount - 1
            while i >= last { move(i, to: i + shift); i -= 1 }
        } else if shift < 0 {
            for i in last..<rangeCount { move(i, to: i + shift) }
        }
        rangeCount += shift
        bounds[2 * first] = newLower
        bounds[2 * first + 1] = newUpper
        absorbIntoFloor()
        return true
    }

    /// Declares every id below `newFloor` retired (their blocks were reclaimed).
    mutating func raiseFloor(to newFloor: UInt64) {
        if newFloor <= floor { return }
        floor = newFloor
        absorbIntoFloor()
    }

    mutating func removeAll() {
        floor = 1
        rangeCount = 0
    }

    private mutating func absorbIntoFloor() {
        var drop = 0
        while drop < rangeCount && lower(drop) <= floor {
            floor = max(floor, upper(drop))
            drop += 1
        }
        if drop > 0 {
            for i in drop..<rangeCount { move(i, to: i - drop) }
            rangeCount -= drop
        }
    }

    private mutating func move(_ from: Int, to: Int) {
        bounds[2 * to] = bounds[2 * from]
        bounds[2 * to + 1] = bounds[2 * from + 1]
    }
}
