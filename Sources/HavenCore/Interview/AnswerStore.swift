/// What a slot holds. The raw values are the answer record's type codes
/// (Docs/instrument-format.md §4), except that a select_one is stored as an
/// item index and a select_multiple as its space-separated values.
enum AnswerTag: UInt8 {
    case empty = 0
    case text = 1
    case integer = 2
    case decimal = 3
    case date = 4
    case choice = 5
    case choices = 6
    case calculated = 7

    /// Kept as bytes in the arena (the others fit in the slot).
    var usesArena: Bool { self == .text || self == .choices || self == .calculated }
}

/// Privacy-check outcome of a sensitive group or repeat, per instance path.
enum SectionPrivacy: UInt8 {
    case notAsked = 0
    /// The respondent was alone: the section runs.
    case confirmed = 1
    /// Not alone, section skipped for good: it is treated as not relevant.
    case declined = 2
    /// Not alone, offered again before the end; not relevant meanwhile.
    case postponed = 3
}

/// One node in one repeat instance: its value and its relevance.
struct AnswerSlot {
    var tag: AnswerTag = .empty
    /// bit 0: relevant (own expression true and parent active); bit 1:
    /// active (relevant and not held back by a privacy check); bits 2–3:
    /// `SectionPrivacy`.
    var flags: UInt8 = 0
    /// Arena values: data offset.
    var offset: UInt32 = 0
    /// Arena values: length. Others: the value's bits (Int64, Double bits,
    /// Int32 days, item index).
    var bits: UInt64 = 0

    var isRelevant: Bool {
        get { flags & 1 != 0 }
        set { flags = newValue ? flags | 1 : flags & ~1 }
    }

    var isActive: Bool {
        get { flags & 2 != 0 }
        set { flags = newValue ? flags | 2 : flags & ~2 }
    }

    var privacy: SectionPrivacy {
        get { SectionPrivacy(rawValue: (flags >> 2) & 3) ?? .notAsked }
        set { flags = (flags & ~0x0C) | (newValue.rawValue << 2) }
    }
}

/// The answers of one interview in memory allocated once at start: a slot
/// per (node, instance path) as laid out by `AnswerLayout`, a counter per
/// (repeat, parent instance path), and a byte arena for variable-length
/// values.
///
/// Arena regions are `[u32 owner slot][u32 length][bytes]`, appended at the
/// end. Replacing a value leaves the old region dead (its owner no longer
/// points at it); when the arena is full it is compacted in place by
/// sliding live regions down, fixing each owner's offset as it goes, so
/// there is no per-value allocation and no fragmentation. `liveBytes` is
/// kept exact, so whether a value fits is known before anything is moved
/// and a refused value leaves the old one intact.
final class AnswerStore {
    let slots: UnsafeMutableBufferPointer<AnswerSlot>
    let counters: UnsafeMutableBufferPointer<UInt16>
    let arena: UnsafeMutableRawBufferPointer
    /// Holds a value while it is stored when its source lies in the arena
    /// (compaction would move it), and builds select_multiple values.
    let staging: UnsafeMutableRawBufferPointer
    private(set) var used = 0
    private(set) var liveBytes = 0
    /// Compactions so far (a figure for tests and benchmarks).
    private(set) var compactions = 0

    static let regionHeader = 8

    init(slotCount: Int, counterCount: Int, arenaBytes: Int, stagingBytes: Int) {
        slots = UnsafeMutableBufferPointer<AnswerSlot>.allocate(capacity: max(slotCount, 1))
        slots.initialize(repeating: AnswerSlot())
        counters = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: max(counterCount, 1))
        counters.initialize(repeating: 0)
        arena = UnsafeMutableRawBufferPointer.allocate(byteCount: max(arenaBytes, 1), alignment: 8)
        arena.fill(0)
        staging = UnsafeMutableRawBufferPointer.allocate(byteCount: max(stagingBytes, 1), alignment: 8)
        staging.fill(0)
    }

    deinit {
        wipe()
        slots.deallocate()
        counters.deallocate()
        arena.deallocate()
        staging.deallocate()
    }

    /// Zeroes every answer, counter and byte (quick exit, lock, end of life).
    func wipe() {
        slots.update(repeating: AnswerSlot())
        counters.update(repeating: 0)
        arena.fill(0)
        staging.fill(0)
        used = 0
        liveBytes = 0
    }

    // MARK: Reading

    /// The bytes of an arena value (empty for others). Valid until the next
    /// store into the arena.
    func bytes(_ slot: Int) -> UnsafeRawBufferPointer {
        let s = slots[slot]
        guard s.tag.usesArena else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(arena).slice(Int(s.offset), Int(s.bits))
    }

    var freeBytes: Int { arena.count - liveBytes }

    // MARK: Writing

    /// Drops the slot's value (flags stay).
    func clearValue(_ slot: Int) {
        release(slot)
        slots[slot].tag = .empty
        slots[slot].offset = 0
        slots[slot].bits = 0
    }

    /// Stores a value that fits in the slot.
    func setScalar(_ slot: Int, tag: AnswerTag, bits: UInt64) {
        release(slot)
        slots[slot].tag = tag
        slots[slot].offset = 0
        slots[slot].bits = bits
    }

    /// Copies `value` into the arena as the slot's value. False (and the old
    /// value kept) when it cannot fit even after compaction.
    func setBytes(_ slot: Int, tag: AnswerTag, _ value: UnsafeRawBufferPointer) -> Bool {
        var source = value
        if overlapsArena(value) {
            guard value.count <= staging.count else { return false }
            staging.copy(value, to: 0)
            source = UnsafeRawBufferPointer(staging).slice(0, value.count)
        }
        let need = Self.regionHeader + source.count
        let old = slots[slot].tag.usesArena ? Self.regionHeader + Int(slots[slot].bits) : 0
        guard need <= arena.count - liveBytes + old else { return false }
        release(slot)
        slots[slot].tag = .empty
        if used + need > arena.count { compact() }
        let start = used
        arena.storeLE(UInt32(truncatingIfNeeded: slot), at: start)
        arena.storeLE(UInt32(truncatingIfNeeded: source.count), at: start + 4)
        arena.copy(source, to: start + Self.regionHeader)
        used += need
        liveBytes += need
        slots[slot].tag = tag
        slots[slot].offset = UInt32(truncatingIfNeeded: start + Self.regionHeader)
        slots[slot].bits = UInt64(source.count)
        return true
    }

    /// Resets whole slots (value, relevance and privacy) in `start..<start+count`.
    func resetSlots(_ start: Int, _ count: Int) {
        var i = start
        while i < start + count {
            release(i)
            slots[i] = AnswerSlot()
            i += 1
        }
    }

    func resetCounters(_ start: Int, _ count: Int) {
        var i = start
        while i < start + count {
            counters[i] = 0
            i += 1
        }
    }

    private func release(_ slot: Int) {
        let s = slots[slot]
        if s.tag.usesArena { liveBytes -= Self.regionHeader + Int(s.bits) }
    }

    private func overlapsArena(_ value: UnsafeRawBufferPointer) -> Bool {
        guard let p = value.baseAddress, value.count > 0, let a = arena.baseAddress else { return false }
        return p < UnsafeRawPointer(a) + arena.count && UnsafeRawPointer(a) < p + value.count
    }

    /// Slides live regions down over dead ones (in place, one pass).
    func compact() {
        compactions += 1
        var read = 0
        var write = 0
        while read < used {
            let owner = Int(arena.loadLE(UInt32.self, at: read))
            let length = Int(arena.loadLE(UInt32.self, at: read + 4))
            let size = Self.regionHeader + length
            let s = slots[owner]
            if s.tag.usesArena && Int(s.offset) == read + Self.regionHeader {
                if write != read {
                    (arena.baseAddress! + write).copyMemory(from: arena.baseAddress! + read, byteCount: size)
                    slots[owner].offset = UInt32(truncatingIfNeeded: write + Self.regionHeader)
                }
                write += size
            }
            read += size
        }
        // Dead bytes past the new end are zeroed: replaced answers do not linger.
        if write < used { arena.slice(write, used - write).fill(0) }
        used = write
    }
}
