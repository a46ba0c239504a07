@testable import HavenCore
import HavenSodium
import Testing

/// Where each record's bytes are on flash, found by walking the store.
private func recordExtents(_ store: RAMStore) throws -> [(id: UInt64, block: Int, offset: Int, count: Int)] {
    var out: [(UInt64, Int, Int, Int)] = []
    var block = store.tail
    while true {
        let header = try store.readBlockHeader(block)!
        var offset = store.geo.afterBlockHeaders
        scan: while true {
            switch try store.scanStep(block: block, seq: header.seq, offset: offset) {
            case .end: break scan
            case .garbage(_, let resume): offset = resume
            case .fragment(let h, let at, let slot):
                if h.kind == StoreLayout.Kind.data.rawValue {
                    out.append((h.recordID, block, at, store.geo.bodyOffset + Int(h.bodyLength) + 16))
                }
                offset = at + slot
            }
        }
        if block == store.head { break }
        block = store.ringNext(block)
    }
    return out
}

@Suite struct BitFlipTests {
    /// Flip one bit at many positions inside one record's fragments. In a
    /// body or its tag: that record, and only it, is reported corrupt (by
    /// `read` and by a verifying walk); the store mounts and serves every
    /// other record. In one of the two header copies: the other copy covers
    /// for it and the record still reads back intact.
    @Test(arguments: 0..<6)
    func aFlippedBitIsReportedForThatRecordOnly(victimIndex: Int) throws {
        let keys = TestKeys.make()
        var rng = SplitMix64(seed: UInt64(victimIndex) + 11)
        func build() throws -> (RAMFlash, [UInt64: [UInt8]]) {
            let flash = RAMFlash(geometry: TestGeometry.smallNOR)
            let store = try formatAndMount(flash, keys: keys)
            var written: [UInt64: [UInt8]] = [:]
            for n in 0..<12 {
                let bytes = recordBytes(n, length: n == 5 ? 6000 : 150 + n * 97)
                written[try store.append(bytes)] = bytes
            }
            return (flash, written)
        }
        let (probeFlash, _) = try build()
        let probe = try mount(probeFlash, dataKey: keys.dataKey)
        let bodyOffset = probe.geo.bodyOffset
        let extents = try recordExtents(probe)
        let victims = Array(Set(extents.map(\.id))).sorted()
        // First, a middle one, the multi-block one, and the newest (whose
        // damage must not be mistaken for a torn, uncommitted write).
        let victim = victims[[0, 4, 5, 6, 11, 2][victimIndex] % victims.count]
        let mine = extents.filter { $0.id == victim }
        var bodyFlips = 0, headerFlips = 0
        for round in 0..<40 {
            let part = mine[rng.next(below: mine.count)]
            let inHeader = round % 4 == 3
            let offset = inHeader ? part.offset + rng.next(below: bodyOffset)
                                  : part.offset + bodyOffset + rng.next(below: part.count - bodyOffset)
            let (flash, written) = try build()
            flash.flipBit(block: part.block, offset: offset, bit: rng.next(below: 8))
            let store = try mount(flash, dataKey: keys.dataKey)
            for (id, bytes) in written where id != victim {
                #expect(try store.read(id) == bytes, "record \(id) after a flip in \(victim)")
            }
            if inHeader {
                #expect(try store.read(victim) == written[victim]!)
                #expect(try store.allEntries(verifying: true).count == written.count)
                headerFlips += 1
                continue
            }
            #expect(throws: StoreError.recordCorrupt(victim)) { try store.read(victim) }
            #expect(try store.allEntries().count == written.count)  // a headers-only walk still lists it
            let entries = try store.allEntries(verifying: true)
            #expect(entries.contains(.corrupt(id: victim)), "walk reports \(victim): \(entries)")
            #expect(entries.filter { if case .corrupt = $0 { return true } else { return false } }.count == 1)
            #expect(entries.count == written.count)
            bodyFlips += 1
        }
        #expect(bodyFlips == 30 && headerFlips == 10)
    }

    @Test func flippedBitsInMetadataAreSurvived() throws {
        // One bit in a block header copy, and one in the head's checkpoint:
        // the second copy and the previous checkpoint cover for them.
        let keys = TestKeys.make()
        let flash = RAMFlash(geometry: TestGeometry.smallNOR)
        let store = try formatAndMount(flash, keys: keys)
        var written: [UInt64: [UInt8]] = [:]
        for n in 0..<30 { let b = recordBytes(n, length: 700); written[try store.append(b)] = b }
        try store.markPulled(1, 4)
        let head = store.head
        let tail = store.tail
        store.close()
        flash.flipBit(block: tail, offset: 30, bit: 3)  // first header copy of the tail block
        flash.flipBit(block: head, offset: try StoreGeometry(flash.geometry).afterBlockHeaders + 40, bit: 1)
        let again = try mount(flash, dataKey: keys.dataKey)
        for (id, bytes) in written where id >= 4 { #expect(try again.read(id) == bytes) }
        #expect(again.unpulledCount == 27)
        let id = try again.append(recordBytes(99, length: 10))
        #expect(try mount(flash, dataKey: keys.dataKey).read(id) == recordBytes(99, length: 10))
    }
}
