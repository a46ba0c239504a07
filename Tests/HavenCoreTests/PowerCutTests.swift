import HavenCore
import HavenSodium
import Testing

/// What the workload has been told succeeded, so a check after a power cut
/// knows what must still be there.
struct WorkloadModel {
    var committed: [UInt64: [UInt8]] = [:]
    var inFlight: (id: UInt64, bytes: [UInt8])?
    /// Ids below this were acknowledged as pulled (the call returned).
    var pulledBelow: UInt64 = 1
    /// A pull whose call did not return: it may or may not have happened.
    var pullInFlight: UInt64?
    var kek: [UInt8]
    var pendingKEK: [UInt8]?
    var appends = 0
    var collections = 0
    var slotUpdates = 0
}

/// A deterministic field workload: appends of mixed sizes (some spanning
/// blocks, some empty), pulls that keep ~15 records waiting, explicit garbage
/// collection, and key-slot replacements (PIN changes).
func runWorkload<F: Flash>(store: LogStore<F, Sodium>, keys: TestKeys, model: inout WorkloadModel,
                           steps: Int) throws {
    for n in 0..<steps {
        var length = 100 + (n * 389) % 1400
        if n % 25 == 24 { length = 6000 }
        if n % 50 == 10 { length = 0 }
        let bytes = recordBytes(n, length: length)
        model.inFlight = (store.nextRecordID, bytes)
        let id = try store.append(bytes)
        model.inFlight = nil
        model.committed[id] = bytes
        model.appends += 1
        if n % 7 == 6, id > 15 {
            let upper = id - 14
            if upper > model.pulledBelow {
                model.pullInFlight = upper
                try store.markPulled(model.pulledBelow, upper)
                model.pulledBelow = upper
                model.pullInFlight = nil
            }
        }
        if n % 20 == 19 {
            try store.collectGarbage()
            model.collections += 1
        }
        if n % 120 == 119 {
            var next = keys
            next.kek = TestKeys.make(seed: UInt8(truncatingIfNeeded: n)).kek
            model.pendingKEK = next.kek
            try store.replaceKeySlots([next.slot()])
            model.kek = next.kek
            model.pendingKEK = nil
            model.slotUpdates += 1
        }
    }
}

/// After a cut: unlock with the old or new KEK, mount, and check every
/// acknowledged record byte for byte; nothing half-written is visible.
func verifyAfterCut(_ ram: RAMFlash, keys: TestKeys, model: WorkloadModel, cut: Int) throws {
    var dataKey: [UInt8]?
    for kek in [model.kek] + (model.pendingKEK.map { [$0] } ?? []) {
        if let key = try? unlock(ram, kek: kek) { dataKey = key; break }
    }
    guard let dataKey else {
        Issue.record("cut \(cut): no key slot opens")
        return
    }
    #expect(dataKey == keys.dataKey)
    let store = try mount(ram, dataKey: dataKey)
    let surelyOwed = model.pullInFlight ?? model.pulledBelow
    for (id, bytes) in model.committed {
        if id >= surelyOwed {
            let back = try store.read(id)
            #expect(back == bytes, "cut \(cut): record \(id) changed")
        } else {
            do {
                #expect(try store.read(id) == bytes, "cut \(cut): pulled record \(id) changed")
            } catch StoreError.recordNotFound {}
        }
    }
    var extra: UInt64?
    if let (id, bytes) = model.inFlight {
        do {
            #expect(try store.read(id) == bytes, "cut \(cut): in-flight record \(id) visible but different")
            extra = id
        } catch StoreError.recordNotFound {}
    }
    for entry in try store.allEntries() {
        switch entry {
        case .corrupt(let id):
            Issue.record("cut \(cut): record \(id) reported corrupt")
        case .record(let id, let length):
            #expect(id >= model.pulledBelow, "cut \(cut): pulled record \(id) listed as owed")
            let expected = model.committed[id]?.count ?? (id == extra ? model.inFlight!.bytes.count : -1)
            #expect(length == expected, "cut \(cut): unexpected record \(id)")
        }
    }
    // The recovered store keeps working, and survives another reboot.
    let fresh = recordBytes(99_999, length: 777)
    let id = try store.append(fresh)
    store.close()
    let again = try mount(ram, dataKey: dataKey)
    #expect(try again.read(id) == fresh)
    for (id, bytes) in model.committed where id >= surelyOwed {
        #expect(try again.read(id) == bytes)
    }
}

@Suite struct PowerCutTests {
    /// Runs the workload once to count its program and erase operations,
    /// then once per operation with power cut exactly there.
    @Test(arguments: [(TestGeometry.smallNOR, 320), (TestGeometry.nandPages, 300)])
    func everyCutPointRecovers(geometry: FlashGeometry, steps: Int) throws {
        let keys = TestKeys.make()
        func fresh() throws -> (RAMFlash, FaultInjectingFlash<RAMFlash>) {
            let ram = RAMFlash(geometry: geometry)
            try keys.dataKey.withUnsafeBytes { try Superblock<RAMFlash, Sodium>.format(ram, dataKey: $0, slots: [keys.slot()]) }
            _ = try mount(ram, dataKey: keys.dataKey)  // writes the first anchor
            return (ram, FaultInjectingFlash(ram))
        }
        let (_, counter) = try fresh()
        var full = WorkloadModel(kek: keys.kek)
        let counted = try mount(counter, dataKey: keys.dataKey)
        try runWorkload(store: counted, keys: keys, model: &full, steps: steps)
        let total = counter.operations
        #expect(full.collections > 0 && full.slotUpdates > 0 && full.appends == steps)
        // The anchor area filled and moved to the twin superblock too, not only on slot updates.
        if geometry == TestGeometry.smallNOR {
            #expect(counted.superblockGeneration > UInt32(full.slotUpdates + 1))
        }

        var reachedEnd = 0
        for cut in 1...total {
            let (ram, flash) = try fresh()
            flash.powerCutAt = cut
            flash.powerCutAt = cut
            var model = WorkloadModel(kek: keys.kek)
            do {
                try runWorkload(store: try mount(flash, dataKey: keys.dataKey), keys: keys, model: &model,
                                steps: steps)
                reachedEnd += 1
            } catch StoreError.flash(.powerLost) {
            }
            do {
                try verifyAfterCut(ram, keys: keys, model: model, cut: cut)
            } catch {
                Issue.record("cut \(cut) of \(total): \(error)")
                return
            }
        }
        #expect(reachedEnd == 0)
        print("power-cut test (\(geometry.programUnit)-byte units, \(geometry.eraseBlockSize)-byte blocks): "
              + "\(total) cut points over \(steps) appends, \(full.collections) GCs, \(full.slotUpdates) key-slot updates, superblock generation \(counted.superblockGeneration); all recovered")
    }
}
