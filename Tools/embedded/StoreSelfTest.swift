// Embedded self-test of the encrypted log store on RAM flash: the same code
// the firmware runs, built in Embedded mode. Format, unlock through a key
// slot, append (with records spanning blocks), pull and reclaim, remount,
// power cuts at many points, a flipped bit, crypto-erase.

fileprivate typealias Store = LogStore<RAMFlash, ExternSodium>
fileprivate typealias FaultyStore = LogStore<FaultInjectingFlash<RAMFlash>, ExternSodium>

fileprivate func pattern(_ n: Int, _ length: Int) -> [UInt8] {
    var rng = SplitMix64(seed: UInt64(n) &* 31 &+ 5)
    var out = [UInt8](repeating: 0, count: length)
    var i = 0
    while i < length {
        out[i] = UInt8(truncatingIfNeeded: rng.next())
        i += 1
    }
    return out
}

fileprivate func withKey<R>(_ key: [UInt8], _ body: (UnsafeRawBufferPointer) -> R) -> R {
    key.withUnsafeBytes { body($0) }
}

fileprivate func mountStore<F: Flash>(_ flash: F, _ key: [UInt8]) -> LogStore<F, ExternSodium>? {
    key.withUnsafeBytes { k -> LogStore<F, ExternSodium>? in
        do throws(StoreError) { return try LogStore<F, ExternSodium>(flash: flash, dataKey: k) } catch { return nil }
    }
}

fileprivate func append<F: Flash>(_ store: LogStore<F, ExternSodium>, _ bytes: [UInt8]) -> UInt64? {
    bytes.withUnsafeBytes { b -> UInt64? in
        do throws(StoreError) { return try store.append(b) } catch { return nil }
    }
}

fileprivate func readMatches<F: Flash>(_ store: LogStore<F, ExternSodium>, _ id: UInt64, _ expected: [UInt8]) -> Bool {
    var out = [UInt8](repeating: 0, count: expected.count + 16)
    let n = out.withUnsafeMutableBytes { o -> Int in
        do throws(StoreError) { return try store.read(id, into: o) } catch { return -1 }
    }
    return n == expected.count && Array(out[0..<max(n, 0)]) == expected
}

fileprivate func readError<F: Flash>(_ store: LogStore<F, ExternSodium>, _ id: UInt64) -> StoreError? {
    var out = [UInt8](repeating: 0, count: 16384)
    return out.withUnsafeMutableBytes { o -> StoreError? in
        do throws(StoreError) { _ = try store.read(id, into: o); return nil } catch { return error }
    }
}

func storeChecks(_ t: inout Checker) {
    let geometry: FlashGeometry
    do throws(FlashError) { geometry = try FlashGeometry(programUnit: 16, eraseBlockSize: 4096, blockCount: 16) } catch {
        t.check(false, "store: geometry")
        return
    }
    var dataKey = [UInt8](repeating: 0, count: 32)
    dataKey.withUnsafeMutableBytes { ExternSodium.randomBytes($0) }
    let kek = [UInt8](repeating: 0x5A, count: 32)

    // Format with one slot, then unlock through it as the device does.
    let flash = RAMFlash(geometry: geometry)
    let slot = withKey(dataKey) { dk in
        kek.withUnsafeBytes { k in
            KeySlots<ExternSodium>.wrap(dataKey: dk, kek: k, index: 0, kind: .rawKey, kdfIterations: 0,
                                        kdfMemoryKiB: 0, salt: [UInt8](repeating: 1, count: 16))
        }
    }
    var formatted = true
    withKey(dataKey) { dk in
        do throws(StoreError) { try Superblock<RAMFlash, ExternSodium>.format(flash, dataKey: dk, slots: [slot]) } catch {
            formatted = false
        }
    }
    t.check(formatted, "store: format")
    var unwrapped = [UInt8](repeating: 0, count: 32)
    var unlocked = false
    do throws(StoreError) {
        let state = try Superblock<RAMFlash, ExternSodium>.inspect(flash)
        var opened = false
        unwrapped.withUnsafeMutableBytes { out in
            kek.withUnsafeBytes { k in
                do throws(StoreError) {
                    try KeySlots<ExternSodium>.unwrap(state.slots[0], index: 0, kek: k, dataKey: out)
                    opened = true
                } catch {}
            }
        }
        unlocked = opened && unwrapped == dataKey
    } catch {}
    t.check(unlocked, "store: unlock through key slot")

    guard let store = mountStore(flash, dataKey) else {
        t.check(false, "store: mount")
        return
    }
    // Appends (one spanning blocks), pulls and garbage collection.
    var ok = true
    var oldest: UInt64 = 1
    var n = 0
    while n < 300 {
        let length = n % 40 == 7 ? 6000 : 50 + (n * 131) % 900
        guard let id = append(store, pattern(n, length)) else { ok = false; break }
        if id > 12 && n % 5 == 0 {
            do throws(StoreError) {
                try store.markPulled(oldest, id - 10)
                oldest = id - 10
                try store.collectGarbage()
            } catch { ok = false }
        }
        n += 1
    }
    t.check(ok, "store: 300 appends with pulls and GC")
    store.close()
    guard let again = mountStore(flash, dataKey) else {
        t.check(false, "store: remount")
        return
    }
    var intact = true
    var id = oldest
    while id < again.nextRecordID {
        let k = Int(id) - 1
        if !readMatches(again, id, pattern(k, k % 40 == 7 ? 6000 : 50 + (k * 131) % 900)) { intact = false }
        id += 1
    }
    t.check(intact && again.nextRecordID == 301, "store: remount reads every unpulled record back")
    t.check(readError(again, 1) == .recordNotFound(1), "store: pulled and reclaimed record is gone")

    // Power cut at many points of a short workload: always mounts, every
    // acknowledged record reads back.
    var cutsOK = true
    var cut = 1
    while cut <= 120 {
        let ram = RAMFlash(geometry: geometry)
        withKey(dataKey) { dk in
            do throws(StoreError) { try Superblock<RAMFlash, ExternSodium>.format(ram, dataKey: dk, slots: [slot]) } catch {}
        }
        _ = mountStore(ram, dataKey)
        let faulty = FaultInjectingFlash(ram, powerCutAt: cut, seed: UInt64(cut))
        var acknowledged = 0
        if let s = mountStore(faulty, dataKey) {
            var k = 0
            while k < 30 {
                guard append(s, pattern(k, 300 + k * 97)) != nil else { break }
                acknowledged += 1
                k += 1
            }
        }
        if let recovered = mountStore(ram, dataKey) {
            var k = 0
            while k < acknowledged {
                if !readMatches(recovered, UInt64(k + 1), pattern(k, 300 + k * 97)) { cutsOK = false }
                k += 1
            }
        } else {
            cutsOK = false
        }
        cut += 1
    }
    t.check(cutsOK, "store: 120 power-cut points recover")

    // A flipped bit is reported for its record only.
    let flipFlash = RAMFlash(geometry: geometry)
    withKey(dataKey) { dk in
        do throws(StoreError) { try Superblock<RAMFlash, ExternSodium>.format(flipFlash, dataKey: dk, slots: [slot]) } catch {}
    }
    if let s = mountStore(flipFlash, dataKey) {
        _ = append(s, pattern(1, 500))
        _ = append(s, pattern(2, 500))
        s.close()
        // Record 2's body: after the block headers, record 1's fragment and
        // record 2's two header copies.
        let geo = try? StoreGeometry(geometry)
        if let geo {
            let record2 = geo.afterBlockHeaders + geo.checkpointSlot(ranges: 0) + geo.fragmentSlot(body: 500)
            flipFlash.flipBit(block: 2, offset: record2 + geo.bodyOffset + 100, bit: 4)
        }
        if let r = mountStore(flipFlash, dataKey) {
            t.check(readError(r, 2) == .recordCorrupt(2) && readMatches(r, 1, pattern(1, 500)),
                    "store: flipped bit reported for that record only")
        } else {
            t.check(false, "store: mount after bit flip")
        }
    }

    // Crypto-erase: two erases, then nothing mounts and no slot exists.
    var erased = false
    do throws(StoreError) {
        try again.cryptoErase()
        erased = true
    } catch {}
    var notFormatted = false
    do throws(StoreError) { _ = try Superblock<RAMFlash, ExternSodium>.inspect(flash) } catch {
        notFormatted = error == .notFormatted
    }
    t.check(erased && notFormatted && mountStore(flash, dataKey) == nil, "store: crypto-erase")
}
