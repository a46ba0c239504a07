/// What the superblock pair says, readable before unlock: which block is
/// live, its generation, the key slots, the PIN guard and the checkpoint
/// epoch. See `Docs/store-format.md` §2.
public struct SuperblockState: Sendable {
    public var liveBlock: Int
    public var generation: UInt32
    public var slots: [KeySlot]
    var keyCheck: [UInt8]
    /// Consecutive failed PIN attempts (Docs/safety.md §2).
    public var pinGuard: PinGuard
    /// Mixed into the key that wraps in-progress interview keys (Docs/safety.md §5).
    public var checkpointEpoch: CheckpointEpoch
}

/// The superblock pair (blocks 0 and 1): a plaintext, CRC-checked header with
/// the key slots, followed by an append-only list of encrypted anchors that
/// say where the log's head and tail are. Updates that must replace the
/// header (new key slots, a full anchor list) are written to the other block
/// with generation + 1 before the old one is erased, so a power cut at any
/// point leaves one valid header.
public enum Superblock<F: Flash, C: CryptoSuite> {
    enum Parse {
        case blank
        case foreign
        case torn
        case unsupported(UInt16)
        case mismatch
        case valid(SuperblockState)
    }

    /// Reads both headers and picks the live one. Needs no key.
    public static func inspect(_ flash: F) throws(StoreError) -> SuperblockState {
        let geo = try StoreGeometry(flash.geometry)
        var best: SuperblockState?
        var sawTorn = -1, sawForeign = false, unsupported: UInt16? = nil, mismatch = false
        for block in 0..<StoreLayout.superblockCount {
            switch try parseHeader(flash, geo, block: block) {
            case .blank: break
            case .foreign: sawForeign = true
            case .torn: sawTorn = block
            case .unsupported(let v): unsupported = v
            case .mismatch: mismatch = true
            case .valid(var state):
                if best == nil || state.generation &- best!.generation < 0x8000_0000 {
                    state.liveBlock = block
                    best = state
                }
            }
        }
        if let best { return best }
        if let unsupported { throw .unsupportedVersion(unsupported) }
        if mismatch { throw .geometryMismatch }
        if sawTorn >= 0 { throw .metadataCorrupt(block: sawTorn) }
        if sawForeign { throw .unrecognizedImage }
        throw .notFormatted
    }

    static func parseHeader(_ flash: F, _ geo: StoreGeometry, block: Int) throws(StoreError) -> Parse {
        let size = StoreLayout.superHeaderSize
        return try withUnsafeTemporaryAllocation(byteCount: size, alignment: 8) { (buf) throws(StoreError) -> Parse in
            do throws(FlashError) { try flash.read(block: block, offset: 0, into: buf) } catch { throw .flash(error) }
            let b = UnsafeRawBufferPointer(buf)
            if b.isErased() { return .blank }
            let m = StoreLayout.superMagic
            guard b[0] == m.0, b[1] == m.1, b[2] == m.2, b[3] == m.3,
                  b[4] == m.4, b[5] == m.5, b[6] == m.6, b[7] == m.7 else { return .foreign }
            let body = StoreLayout.superHeaderBodySize
            guard CRC32.checksum(b.slice(0, body)) == b.loadLE(UInt32.self, at: body) else { return .torn }
            let version: UInt16 = b.loadLE(at: 8)
            guard version == StoreLayout.formatVersion else { return .unsupported(version) }
            let g = geo.flash
            guard b.loadLE(UInt16.self, at: 10) == UInt16(StoreLayout.superHeaderSize),
                  b.loadLE(UInt32.self, at: 12) == UInt32(g.programUnit),
                  b.loadLE(UInt32.self, at: 16) == UInt32(g.eraseBlockSize),
                  b.loadLE(UInt32.self, at: 20) == UInt32(g.blockCount),
                  b.loadLE(UInt32.self, at: 28) == UInt32(StoreLayout.keySlotCount) else { return .mismatch }
            var slots: [KeySlot] = []
            for i in 0..<StoreLayout.keySlotCount {
                guard let slot = KeySlot.decode(b.slice(StoreLayout.slotsOffset + i * StoreLayout.keySlotSize,
                                                        StoreLayout.keySlotSize)) else { return .torn }
                slots.append(slot)
            }
            let check = [UInt8](b.slice(StoreLayout.keyCheckOffset, StoreLayout.keyCheckSize))
            return .valid(SuperblockState(
                liveBlock: block, generation: b.loadLE(at: 24), slots: slots, keyCheck: check,
                pinGuard: PinGuard.decode(b.slice(StoreLayout.pinGuardOffset, StoreLayout.pinGuardSize)),
                checkpointEpoch: CheckpointEpoch.decode(b.slice(StoreLayout.checkpointEpochOffset,
                                                                StoreLayout.checkpointEpochSize))))
        }
    }

    /// Formats a new, empty store: both superblocks erased, a generation-1
    /// header with `slots`, a clear PIN guard and a random checkpoint epoch
    /// in block 0. Log blocks are left as they are; the store erases each one
    /// before first use, and stale blocks from an earlier key never
    /// authenticate. Cost does not depend on the flash size.
    public static func format(_ flash: F, dataKey: UnsafeRawBufferPointer, slots: [KeySlot]) throws(StoreError) {
        precondition(slots.count <= StoreLayout.keySlotCount, "at most 4 key slots")
        let geo = try StoreGeometry(flash.geometry)
        var check = [UInt8](repeating: 0, count: 16)
        check.withUnsafeMutableBytes { StoreKeys<C>.keyCheck(dataKey: dataKey, into: $0) }
        var all = slots
        while all.count < StoreLayout.keySlotCount { all.append(.empty) }
        do throws(FlashError) {
            try flash.erase(block: 1)
            try flash.erase(block: 0)
        } catch { throw .flash(error) }
        let state = SuperblockState(liveBlock: 0, generation: 1, slots: all, keyCheck: check, pinGuard: .clear,
                                    checkpointEpoch: .random(C.self))
        try writeHeader(flash, geo, block: 0, state)
        do throws(FlashError) { try flash.sync() } catch { throw .flash(error) }
    }

    /// Crypto-erase: erases the live superblock first (after that no key slot
    /// exists), then the other. Two erases whatever the amount of data.
    public static func cryptoErase(_ flash: F) throws(StoreError) {
        try cryptoErase(flash, liveBlock: (try? inspect(flash))?.liveBlock ?? 0)
    }

    /// Crypto-erase when the caller knows which block is live (a mounted
    /// store, a quick exit): reads nothing and allocates nothing first.
    public static func cryptoErase(_ flash: F, liveBlock live: Int) throws(StoreError) {
        precondition(live == 0 || live == 1, "superblock index")
        do throws(FlashError) {
            try flash.erase(block: live)
            try flash.erase(block: 1 - live)
            try flash.sync()
        } catch { throw .flash(error) }
    }

    /// Replaces the key slots (new PIN, added recovery key). The latest anchor
    /// is carried over byte for byte, so no key is needed.
    public static func replaceSlots(_ flash: F, _ state: inout SuperblockState, slots: [KeySlot]) throws(StoreError) {
        var next = state
        next.slots = slots
        try compact(flash, &state, to: next, anchor: nil)
    }

    /// Rewrites the PIN guard and the checkpoint epoch while no store is
    /// mounted (a PIN attempt on the lock screen). Same power-safe move as
    /// `replaceSlots`: when it returns the new values are durable; a cut
    /// before that leaves the old header or the new one, never neither. Two
    /// erases and two programs, whatever the amount of data.
    public static func rewriteHeader(_ flash: F, _ state: inout SuperblockState, pinGuard: PinGuard,
                                     checkpointEpoch: CheckpointEpoch) throws(StoreError) {
        var next = state
        next.pinGuard = pinGuard
        next.checkpointEpoch = checkpointEpoch
        try compact(flash, &state, to: next, anchor: nil)
    }

    static func writeHeader(_ flash: F, _ geo: StoreGeometry, block: Int, _ state: SuperblockState) throws(StoreError) {
        let slots = state.slots
        let size = geo.anchorsOffset
        try withUnsafeTemporaryAllocation(byteCount: size, alignment: 8) { (buf) throws(StoreError) in
            buf.fill(0xFF)
            let m = StoreLayout.superMagic
            buf[0] = m.0; buf[1] = m.1; buf[2] = m.2; buf[3] = m.3
            buf[4] = m.4; buf[5] = m.5; buf[6] = m.6; buf[7] = m.7
            buf.storeLE(StoreLayout.formatVersion, at: 8)
            buf.storeLE(UInt16(StoreLayout.superHeaderSize), at: 10)
            buf.storeLE(UInt32(geo.flash.programUnit), at: 12)
            buf.storeLE(UInt32(geo.flash.eraseBlockSize), at: 16)
            buf.storeLE(UInt32(geo.flash.blockCount), at: 20)
            buf.storeLE(state.generation, at: 24)
            buf.storeLE(UInt32(StoreLayout.keySlotCount), at: 28)
            state.keyCheck.withUnsafeBytes { buf.copy($0, to: StoreLayout.keyCheckOffset) }
            for (i, slot) in slots.enumerated() {
                slot.encode(into: buf.slice(StoreLayout.slotsOffset + i * StoreLayout.keySlotSize,
                                            StoreLayout.keySlotSize))
            }
            state.pinGuard.encode(into: buf.slice(StoreLayout.pinGuardOffset, StoreLayout.pinGuardSize))
            state.checkpointEpoch.encode(into: buf.slice(StoreLayout.checkpointEpochOffset,
                                                         StoreLayout.checkpointEpochSize))
            let body = StoreLayout.superHeaderBodySize
            buf.storeLE(CRC32.checksum(UnsafeRawBufferPointer(buf.slice(0, body))), at: body)
            do throws(FlashError) { try flash.program(block: block, offset: 0, from: UnsafeRawBufferPointer(buf)) } catch {
                throw .flash(error)
            }
        }
    }

    /// Moves the header to the other block with generation + 1 and the
    /// slots, PIN guard and epoch of `next`, optionally with `anchor` (a
    /// sealed anchor entry) as its first entry, then erases the old block.
    static func compact(_ flash: F, _ state: inout SuperblockState, to next: SuperblockState,
                        anchor: UnsafeRawBufferPointer?) throws(StoreError) {
        precondition(next.slots.count <= StoreLayout.keySlotCount, "at most 4 key slots")
        var slots = next.slots
        while slots.count < StoreLayout.keySlotCount { slots.append(.empty) }
        let geo = try StoreGeometry(flash.geometry)
        let other = 1 - state.liveBlock
        var carried = anchor
        var latest: UnsafeMutableRawBufferPointer?
        defer { latest?.deallocate() }
        if carried == nil {
            // Carry the newest anchor of either block across unchanged.
            if let (block, index) = try newestWrittenAnchor(flash, geo, state) {
                let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: geo.anchorSlot, alignment: 8)
                latest = buf
                do throws(FlashError) { try flash.read(block: block, offset: geo.anchorsOffset + index * geo.anchorSlot, into: buf) }
                catch { throw .flash(error) }
                carried = UnsafeRawBufferPointer(buf)
            }
        }
        do throws(FlashError) { try flash.erase(block: other) } catch { throw .flash(error) }
        let generation = state.generation &+ 1
        var written = next
        written.liveBlock = other
        written.generation = generation
        written.slots = slots
        written.keyCheck = state.keyCheck
        try writeHeader(flash, geo, block: other, written)
        if let carried {
            do throws(FlashError) { try flash.program(block: other, offset: geo.anchorsOffset, from: carried) } catch {
                throw .flash(error)
            }
        }
        do throws(FlashError) {
            try flash.sync()
            try flash.erase(block: state.liveBlock)
            try flash.sync()
        } catch { throw .flash(error) }
        state = written
    }

    /// Index of the first erased anchor entry of `block` (entries are written
    /// in order, so written entries form a prefix): a binary search.
    static func anchorFill(_ flash: F, _ geo: StoreGeometry, block: Int) throws(StoreError) -> Int {
        var lo = 0, hi = geo.anchorsPerSuperblock
        return try withUnsafeTemporaryAllocation(byteCount: geo.anchorSlot, alignment: 8) { (buf) throws(StoreError) -> Int in
            while lo < hi {
                let mid = (lo + hi) / 2
                do throws(FlashError) { try flash.read(block: block, offset: geo.anchorsOffset + mid * geo.anchorSlot, into: buf) }
                catch { throw .flash(error) }
                if UnsafeRawBufferPointer(buf).isErased() { hi = mid } else { lo = mid + 1 }
            }
            return lo
        }
    }

    /// The last written (not necessarily valid) anchor entry of the live
    /// block, or of the other block if the live one has none yet.
    static func newestWrittenAnchor(_ flash: F, _ geo: StoreGeometry,
                                    _ state: SuperblockState) throws(StoreError) -> (Int, Int)? {
        for block in [state.liveBlock, 1 - state.liveBlock] {
            let fill = try anchorFill(flash, geo, block: block)
            if fill > 0 { return (block, fill - 1) }
        }
        return nil
    }
}
