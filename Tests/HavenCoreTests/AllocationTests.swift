import CAllocCounter
import HavenCore
import HavenSodium
import Testing

/// Hot paths allocate nothing once the store is mounted: counted with the
/// per-thread allocation counter interposed on malloc and friends.
@Suite struct AllocationTests {
    @Test func appendReadPullAndWalkAllocateNothing() throws {
        let keys = TestKeys.make()
        let flash = RAMFlash(geometry: TestGeometry.sim)
        let store = try formatAndMount(flash, keys: keys)
        let record = recordBytes(1, length: 2048)
        var out = [UInt8](repeating: 0, count: 4096)
        try record.withUnsafeBytes { r in
            try out.withUnsafeMutableBytes { o in
                for _ in 0..<5 { _ = try store.read(try store.append(r), into: o) }  // warm up
                let before = haven_thread_allocations()
                var last: UInt64 = 0
                for _ in 0..<500 { last = try store.append(r) }  // crosses many block opens
                let afterAppends = haven_thread_allocations()
                // A while loop: a Range iterator allocates in debug builds.
                var id = last - 100
                while id <= last { _ = try store.read(id, into: o); id += 1 }
                let afterReads = haven_thread_allocations()
                try store.markPulled(1, 50)
                try store.collectGarbage()
                var cursor = try store.makeCursor()
                var n = 0
                while try store.next(&cursor) != nil { n += 1 }
                let afterRest = haven_thread_allocations()
                #expect(afterAppends - before == 0, "appends allocated \(afterAppends - before) times")
                #expect(afterReads - afterAppends == 0, "reads allocated")
                #expect(afterRest - afterReads == 0, "pull, GC and walk allocated")
                #expect(n == 505 - 49)
            }
        }
        // The counter itself works (so the zeros above mean something).
        let before = haven_thread_allocations()
        let array = [UInt8](repeating: 1, count: 1000 + Int(before % 7))
        #expect(haven_thread_allocations() > before)
        #expect(array.count >= 1000)
    }
}
