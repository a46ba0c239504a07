@testable import HavenCore
import Testing

@Suite struct RetiredSetTests {
    @Test func mergesTouchingRangesAndAbsorbsIntoFloor() {
        var set = RetiredSet()
        #expect(set.insert(5, 7) == true)
        #expect(set.insert(9, 10) == true)
        #expect(set.rangeCount == 2)
        #expect(set.insert(7, 9) == true)  // bridges both
        #expect(set.rangeCount == 1)
        #expect(set.containsAll(5, 10))
        #expect(!set.contains(4) && !set.contains(10))
        #expect(set.insert(1, 5) == true)  // reaches the floor
        #expect(set.rangeCount == 0 && set.floor == 10)
        #expect(set.count(below: 12) == 9)
    }

    @Test func refusesBeyondCapacityWithoutChanging() {
        var set = RetiredSet()
        for i in 0..<RetiredSet.capacity {
            #expect(set.insert(UInt64(10 + 3 * i), UInt64(11 + 3 * i)) == true)
        }
        #expect(!set.canInsert(1000, 1001))
        #expect(set.insert(1000, 1001) == false)
        #expect(set.rangeCount == RetiredSet.capacity)
        #expect(set.insert(11, 13) == true)  // merges two: fits
        #expect(set.rangeCount == RetiredSet.capacity - 1)
    }

    @Test(arguments: 1...20)
    func agreesWithASimpleModel(seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed))
        var set = RetiredSet()
        var model = Set<UInt64>()
        for _ in 0..<200 {
            let lo = UInt64(1 + rng.next(below: 300))
            let hi = lo + UInt64(1 + rng.next(below: 5))
            if set.insert(lo, hi) { for x in lo..<hi { model.insert(x) } }
            if rng.next(below: 20) == 0 {
                let f = UInt64(rng.next(below: 100))
                set.raiseFloor(to: f)
                for x in 1..<max(f, 1) { model.insert(x) }
            }
        }
        for x in UInt64(1)...320 { #expect(set.contains(x) == model.contains(x), "id \(x)") }
        #expect(set.count(below: 321) == UInt64(model.filter { $0 < 321 }.count))
    }
}
