import HavenCore
import HavenSodium
import Testing

@Suite struct StoreBasicsTests {
    @Test(arguments: [TestGeometry.smallNOR, TestGeometry.nandPages, TestGeometry.sim])
    func appendReadIterateAndRemount(geometry: FlashGeometry) throws {
        let flash = RAMFlash(geometry: geometry)
        let keys = TestKeys.make()
        var written: [UInt64: [UInt8]] = [:]
        do {
            let store = try formatAndMount(flash, keys: keys)
            for (n, length) in [0, 1, 100, 2048, 700, 5000, 33].enumerated() {
                let bytes = recordBytes(n, length: length)
                let id = try store.append(bytes)
                written[id] = bytes
            }
            for (id, bytes) in written { #expect(try store.read(id) == bytes) }
        }
        let store = try mount(flash, dataKey: keys.dataKey)
        for (id, bytes) in written { #expect(try store.read(id) == bytes) }
        let entries = try store.allEntries()
        #expect(entries == written.keys.sorted().map { .record(id: $0, length: written[$0]!.count) })
        #expect(store.unpulledCount == UInt64(written.count))
        #expect(store.nextRecordID == UInt64(written.count + 1))
    }

    @Test func envelopesLargerThanAnEraseBlockSpanBlocks() throws {
        let flash = RAMFlash(geometry: TestGeometry.sim)
        let keys = TestKeys.make()
        let store = try formatAndMount(flash, keys: keys)
        let big = recordBytes(1, length: 64 * 1024)
        let bigger = recordBytes(2, length: 200 * 1024)
        let a = try store.append(big)
        let b = try store.append(bigger)
        let c = try store.append(recordBytes(3, length: 10))
        let again = try mount(flash, dataKey: keys.dataKey)
        #expect(try again.read(a) == big)
        #expect(try again.read(b) == bigger)
        #expect(try again.read(c) == recordBytes(3, length: 10))
        #expect(try again.recordLength(b) == 200 * 1024)
    }

    @Test func readErrorsAreTyped() throws {
        let store = try formatAndMount(RAMFlash(geometry: TestGeometry.smallNOR), keys: .make())
        #expect(throws: StoreError.recordNotFound(1)) { try store.read(1) }
        let id = try store.append(recordBytes(1, length: 300))
        var small = [UInt8](repeating: 0, count: 10)
        #expect(throws: StoreError.bufferTooSmall(needed: 300)) {
            try small.withUnsafeMutableBytes { try store.read(id, into: $0) }
        }
        #expect(throws: StoreError.recordNotFound(0)) { try store.read(0) }
        #expect(throws: StoreError.recordNotFound(7)) { try store.read(7) }
        #expect(throws: StoreError.recordTooLarge(store.maxRecordLength + 1)) {
            try store.append([UInt8](repeating: 0, count: store.maxRecordLength + 1))
        }
        #expect(throws: StoreError.invalidRange(lower: 1, upper: 5)) { try store.markPulled(1, 5) }
    }

    @Test func wrongKeyIsRefusedNotMistakenForAnEmptyStore() throws {
        let flash = RAMFlash(geometry: TestGeometry.smallNOR)
        let store = try formatAndMount(flash, keys: .make(seed: 1))
        try store.append(recordBytes(1, length: 100))
        #expect(throws: StoreError.wrongKey) { try mount(flash, dataKey: TestKeys.make(seed: 2).dataKey) }
    }

    @Test func unlockThroughAKeySlotAndReplaceIt() throws {
        let flash = RAMFlash(geometry: TestGeometry.smallNOR)
        let keys = TestKeys.make()
        let store = try formatAndMount(flash, keys: keys)
        let id = try store.append(recordBytes(1, length: 100))
        #expect(try unlock(flash, kek: keys.kek) == keys.dataKey)
        #expect(throws: StoreError.noMatchingKeySlot) { try unlock(flash, kek: TestKeys.make(seed: 5).kek) }
        // PIN change: a new slot replaces the old one; the old KEK stops working.
        var newKeys = keys
        newKeys.kek = TestKeys.make(seed: 9).kek
        try store.replaceKeySlots([newKeys.slot()])
        #expect(throws: StoreError.noMatchingKeySlot) { try unlock(flash, kek: keys.kek) }
        let key = try unlock(flash, kek: newKeys.kek)
        #expect(try mount(flash, dataKey: key).read(id) == recordBytes(1, length: 100))
    }

    @Test func pinSlotsUseArgon2AndTheDeviceSecret() throws {
        let pin = Array("2580".utf8)
        let salt = Sodium.random(count: 16)
        let secretA = Sodium.random(count: 32), secretB = Sodium.random(count: 32)
        func kek(_ secret: [UInt8], _ pin: [UInt8]) throws -> [UInt8] {
            var out = [UInt8](repeating: 0, count: 32)
            try out.withUnsafeMutableBytes { o in
                try pin.withUnsafeBytes { p in
                    try salt.withUnsafeBytes { s in
                        try secret.withUnsafeBytes { d in
                            try KeySlots<Sodium>.pinKEK(pin: p, salt: s, iterations: 2, memoryKiB: 8192,
                                                        deviceSecret: d, kek: o)
                        }
                    }
                }
            }
            return out
        }
        let a = try kek(secretA, pin)
        #expect(try kek(secretA, pin) == a)
        #expect(try kek(secretB, pin) != a)  // same PIN, another device: useless
        #expect(try kek(secretA, Array("2581".utf8)) != a)
    }

    @Test func pulledRecordsAreReclaimedAndWearIsLevelled() throws {
        let flash = RAMFlash(geometry: TestGeometry.smallNOR)
        let keys = TestKeys.make()
        let store = try formatAndMount(flash, keys: keys)
        var live: [UInt64: [UInt8]] = [:]
        var oldest: UInt64 = 1
        // Far more data than the ring holds: only works if pulled blocks are reclaimed.
        for n in 0..<2000 {
            let bytes = recordBytes(n, length: 200 + (n * 37) % 900)
            let id = try store.append(bytes)
            live[id] = bytes
            if live.count > 20 {
                try store.markPulled(oldest, oldest + 10)
                for i in oldest..<(oldest + 10) { live[i] = nil }
                oldest += 10
            }
        }
        let again = try mount(flash, dataKey: keys.dataKey)
        for (id, bytes) in live { #expect(try again.read(id) == bytes) }
        #expect(again.unpulledCount == UInt64(live.count))
        #expect(throws: StoreError.recordNotFound(1)) { try again.read(1) }
        let counts = (2..<16).map { flash.eraseCount(block: $0) }
        let spread = counts.max()! - counts.min()!
        #expect(counts.min()! > 20)
        #expect(spread <= 2, "erase counts \(counts)")
    }

    @Test func fullStoreSaysSoAndRecoversAfterAPull() throws {
        let flash = RAMFlash(geometry: TestGeometry.smallNOR)
        let store = try formatAndMount(flash, keys: .make())
        var ids: [UInt64] = []
        while true {
            do { ids.append(try store.append(recordBytes(ids.count, length: 1000))) } catch StoreError.full { break }
        }
        #expect(ids.count > 20)
        #expect(throws: StoreError.full) { try store.append(recordBytes(999, length: 1000)) }
        try store.markPulled(ids[0], ids[9] + 1)
        let id = try store.append(recordBytes(1000, length: 1000))
        #expect(try store.read(id) == recordBytes(1000, length: 1000))
        for i in ids[10...] { #expect(try store.read(i) == recordBytes(ids.firstIndex(of: i)!, length: 1000)) }
    }

    @Test func wornOutBlocksAreSkipped() throws {
        let ram = RAMFlash(geometry: TestGeometry.smallNOR)
        let flash = FaultInjectingFlash(ram)
        let keys = TestKeys.make()
        let store = try formatAndMount(flash, keys: keys)
        flash.wornBlocks = [4, 7]
        var written: [UInt64: [UInt8]] = [:]
        for n in 0..<18 {
            let bytes = recordBytes(n, length: 900)
            written[try store.append(bytes)] = bytes
        }
        let again = try mount(ram, dataKey: keys.dataKey)
        for (id, bytes) in written { #expect(try again.read(id) == bytes) }
        #expect(try again.allEntries().count == 18)
    }

    @Test func anchorsLetMountSkipTheLog() throws {
        // Mount must not depend on the number of records: after the anchor
        // area wraps many times, mount still finds head and tail.
        let flash = RAMFlash(geometry: TestGeometry.smallNOR)
        let keys = TestKeys.make()
        let store = try formatAndMount(flash, keys: keys)
        for n in 0..<600 {
            try store.append(recordBytes(n, length: 1500))
            try store.markPulled(UInt64(n + 1))
        }
        let again = try mount(flash, dataKey: keys.dataKey)
        #expect(again.nextRecordID == 601)
        #expect(again.unpulledCount == 0)
    }
}
