/// Reads a saved interview state: bounds-checked little-endian fields,
/// each failure naming the byte offset.
struct StateReader {
    let bytes: UnsafeRawBufferPointer
    var offset: Int

    mutating func need(_ n: Int) throws(InterviewError) {
        guard n <= bytes.count - offset else { throw .stateTruncated(offset: offset) }
    }

    mutating func u8() throws(InterviewError) -> UInt8 {
        try need(1)
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws(InterviewError) -> UInt16 {
        try need(2)
        defer { offset += 2 }
        return bytes.loadLE(UInt16.self, at: offset)
    }

    mutating func u32() throws(InterviewError) -> UInt32 {
        try need(4)
        defer { offset += 4 }
        return bytes.loadLE(UInt32.self, at: offset)
    }

    mutating func u64() throws(InterviewError) -> UInt64 {
        try need(8)
        defer { offset += 8 }
        return bytes.loadLE(UInt64.self, at: offset)
    }

    mutating func take(_ n: Int) throws(InterviewError) -> UnsafeRawBufferPointer {
        try need(n)
        defer { offset += n }
        return bytes.slice(offset, n)
    }
}

/// Saving and resuming an interview in progress (Docs/instrument-format.md
/// §5): position, pending revisit, history, instance counts, privacy-check
/// outcomes and answers. The state is only as trustworthy as the storage it
/// came back from, so `init(resuming:…)` checks every field against the
/// instrument and the limits before it is used, and refuses with the
/// offset of the first bad field.
extension Interview {
    static var stateMagic: StaticString { "HVNS" }
    static var stateHeaderSize: Int { 28 }

    /// The state as bytes (empty once the interview was wiped).
    public func save() -> [UInt8] {
        guard !closed else { return [] }
        var measure = ByteWriter.measure()
        writeState(&measure)
        var bytes = [UInt8](repeating: 0, count: measure.count)
        bytes.withUnsafeMutableBytes { out in
            var w = ByteWriter(out)
            writeState(&w)
            Self.sealState(out)
        }
        return bytes
    }

    /// The state written into `buffer` without allocating; returns its length.
    public func save(into buffer: UnsafeMutableRawBufferPointer) throws(InterviewError) -> Int {
        guard !closed else { throw .closed }
        var measure = ByteWriter.measure()
        writeState(&measure)
        guard measure.count <= buffer.count else { throw .bufferTooSmall(needed: measure.count) }
        var w = ByteWriter(buffer)
        writeState(&w)
        Self.sealState(buffer.slice(0, w.count))
        return w.count
    }

    /// Total length and CRC-32 of a written state.
    static func sealState(_ state: UnsafeMutableRawBufferPointer) {
        state.storeLE(UInt32(truncatingIfNeeded: state.count), at: 8)
        state.storeLE(CRC32.checksum(UnsafeRawBufferPointer(state).slice(16, state.count - 16)), at: 12)
    }

    func writeState(_ w: inout ByteWriter) {
        w.append(Self.stateMagic)
        w.appendLE(UInt16(1))
        w.appendLE(UInt16(0))
        w.appendLE(UInt32(0))  // total length, sealed afterwards
        w.appendLE(UInt32(0))  // CRC, sealed afterwards
        w.appendLE(instrument.checksum)
        w.appendLE(UInt32(truncatingIfNeeded: instrument.byteCount))
        w.appendLE(UInt16(language))
        w.append(revisit == nil ? 0 : 1)
        w.append(UInt8(instanceID.count))
        w.append(instanceID)
        switch position {
        case .end: w.append(0)
        case .question(let n, let p): w.append(1); writeAddress(Int(n), p, &w)
        case .privacyCheck(let n, let p): w.append(2); writeAddress(Int(n), p, &w)
        case .repeatPrompt(let n, let p): w.append(3); writeAddress(Int(n), p, &w)
        }
        if let r = revisit { writeAddress(r.node, r.path, &w) }
        w.appendLE(UInt16(history.count))
        var h = 0
        while h < history.count {
            writeAddress(history[h].node, history[h].path, &w)
            h += 1
        }
        // Instance counts, section states, answers: node order, instance order.
        var table = 0
        while table < 3 {
            let countOffset = w.count
            w.appendLE(UInt32(0))
            var entries: UInt32 = 0
            var n = 0
            while n < instrument.nodeCount {
                let node = instrument.nodes[n]
                let relevantNode = table == 0 ? node.kind == .repeat : table == 1 ? node.isSensitive : node.kind.holdsValue
                if relevantNode {
                    var index = 0
                    let span = instanceSpan(n)
                    while index < span {
                        if let path = existingPath(n, linear: index), writeEntry(table, n, path, &w) { entries += 1 }
                        index += 1
                    }
                }
                n += 1
            }
            w.patchLE(entries, at: countOffset)
            table += 1
        }
    }

    /// One entry of table 0 (counts), 1 (section states) or 2 (answers), if
    /// there is something to keep.
    func writeEntry(_ table: Int, _ n: Int, _ path: InstancePath, _ w: inout ByteWriter) -> Bool {
        switch table {
        case 0:
            let count = store.counters[layout.counter(n, path)]
            guard count > 0 else { return false }
            writeAddress(n, path, &w)
            w.appendLE(count)
        case 1:
            let privacy = store.slots[layout.slot(n, path)].privacy
            guard privacy != .notAsked else { return false }
            writeAddress(n, path, &w)
            w.append(privacy.rawValue)
        default:
            let s = layout.slot(n, path)
            let slot = store.slots[s]
            guard slot.tag != .empty else { return false }
            writeAddress(n, path, &w)
            w.append(slot.tag.rawValue)
            switch slot.tag {
            case .empty: break
            case .text, .choices, .calculated: writeLongString(store.bytes(s), &w)
            case .integer, .decimal: w.appendLE(slot.bits)
            case .date: w.appendLE(Int32(truncatingIfNeeded: Int64(bitPattern: slot.bits)))
            case .choice: w.appendLE(UInt32(truncatingIfNeeded: slot.bits))
            }
        }
        return true
    }

    // MARK: Resuming

    /// Resumes an interview saved by `save()` with the same instrument.
    /// Everything is checked (see `InterviewError.state…`); the clock and a
    /// fresh random seed are the caller's, as at start.
    public convenience init(resuming state: UnsafeRawBufferPointer, instrument: Instrument,
                            limits: EngineLimits = .standard, clock: Clock, randomSeed: UInt64) throws(InterviewError) {
        try self.init(instrument: instrument, limits: limits, language: nil, clock: clock, randomSeed: randomSeed)
        do throws(InterviewError) {
            try load(state)
        } catch {
            wipe()
            throw error
        }
    }

    func load(_ state: UnsafeRawBufferPointer) throws(InterviewError) {
        guard state.count >= Self.stateHeaderSize else { throw .stateTruncated(offset: state.count) }
        let magic = Self.stateMagic
        var i = 0
        while i < 4 {
            guard state[i] == magic.utf8Start[i] else { throw .stateBadMagic }
            i += 1
        }
        let version = state.loadLE(UInt16.self, at: 4)
        guard version == 1 else { throw .stateUnsupportedVersion(version) }
        guard state.loadLE(UInt16.self, at: 6) == 0 else { throw .stateInvalid(offset: 6) }
        let declared = state.loadLE(UInt32.self, at: 8)
        guard UInt64(declared) == UInt64(state.count) else {
            throw .stateLengthMismatch(declared: declared, actual: state.count)
        }
        guard state.loadLE(UInt32.self, at: 12) == CRC32.checksum(state.slice(16, state.count - 16)) else {
            throw .stateChecksumMismatch
        }
        guard state.loadLE(UInt32.self, at: 16) == instrument.checksum,
              Int(state.loadLE(UInt32.self, at: 20)) == instrument.byteCount else { throw .stateWrongInstrument }

        store.wipe()
        history.removeAll()
        revisit = nil
        validation = nil
        var r = StateReader(bytes: state, offset: 24)
        let languageAt = r.offset
        let savedLanguage = Int(try r.u16())
        guard savedLanguage < instrument.languageCount else { throw .stateInvalid(offset: languageAt) }
        let flagsAt = r.offset
        let flags = try r.u8()
        guard flags <= 1 else { throw .stateInvalid(offset: flagsAt) }
        let idAt = r.offset
        let idLength = Int(try r.u8())
        let id = try r.take(idLength)
        guard idLength == Self.instanceIDLength, UTF8Validation.isValid(id) else { throw .stateInvalid(offset: idAt) }
        instanceIDBuffer.copy(id, to: 0)

        let kindAt = r.offset
        let kind = try r.u8()
        var saved = InterviewPosition.end
        if kind > 3 { throw .stateInvalid(offset: kindAt) }
        if kind > 0 {
            let at = r.offset
            let (n, p) = try readAddress(&r, extraLevel: kind == 3)
            saved = try checkedPosition(kind, n, p, at: at)
        }
        if flags == 1 {
            let at = r.offset
            let (n, p) = try readAddress(&r, extraLevel: false)
            guard instrument.nodes[n].isSensitive else { throw .stateInvalid(offset: at) }
            revisit = NodeInstance(node: n, path: p)
        }
        // A longer history than this engine keeps loses its oldest entries.
        let historyCount = Int(try r.u16())
        var h = 0
        while h < historyCount {
            let at = r.offset
            let (n, p) = try readAddress(&r, extraLevel: false)
            guard isScreenNode(n) else { throw .stateInvalid(offset: at) }
            history.push(NodeInstance(node: n, path: p))
            h += 1
        }
        try loadCounts(&r)
        try loadSections(&r)
        try loadAnswers(&r)
        guard r.offset == state.count else { throw .stateInvalid(offset: r.offset) }
        // Positions and the revisit must name instances that exist.
        if let p = saved.node, !exists(Int(p), saved.instance.prefix(layout.depth(Int(p)))) {
            throw .stateInvalid(offset: kindAt)
        }
        if case .repeatPrompt(let n, let p) = saved, p.last >= Int(store.counters[layout.counter(Int(n), p.parent)]) {
            throw .stateInvalid(offset: kindAt)
        }
        if let v = revisit, !exists(v.node, v.path) { throw .stateInvalid(offset: kindAt) }

        // Everything saved was consistent: start from "relevant" so that
        // nothing counts as newly relevant (a default the enumerator cleared
        // must not come back), then let the update correct it.
        var n = 0
        while n < instrument.nodeCount {
            var index = 0
            let span = instanceSpan(n)
            while index < span {
                if let path = existingPath(n, linear: index) {
                    let s = layout.slot(n, path)
                    store.slots[s].isRelevant = true
                    store.slots[s].isActive = true
                }
                index += 1
            }
            n += 1
        }
        language = savedLanguage
        day = clock.today()
        update()
        position = saved
        refreshScreen()
    }

    /// u16 node, u8 depth, depth × u16: a node that exists, a depth equal to
    /// its repeat nesting (+1 for a repeat prompt), indices within capacity.
    func readAddress(_ r: inout StateReader, extraLevel: Bool) throws(InterviewError) -> (Int, InstancePath) {
        let at = r.offset
        let n = Int(try r.u16())
        let depth = Int(try r.u8())
        guard n < instrument.nodeCount, depth <= InstancePath.maxDepth else { throw .stateInvalid(offset: at) }
        var path = InstancePath()
        var k = 0
        while k < depth {
            path.append(Int(try r.u16()))
            k += 1
        }
        let own = extraLevel ? path.parent : path
        guard layout.fits(n, own), !extraLevel || (depth >= 1 && path.last < layout.capacity[n]) else {
            throw .stateInvalid(offset: at)
        }
        return (n, path)
    }

    func checkedPosition(_ kind: UInt8, _ n: Int, _ p: InstancePath, at: Int) throws(InterviewError) -> InterviewPosition {
        let node = instrument.nodes[n]
        switch kind {
        case 1:
            guard isScreenNode(n) else { throw .stateInvalid(offset: at) }
            return .question(node: UInt16(n), instance: p)
        case 2:
            guard node.isSensitive else { throw .stateInvalid(offset: at) }
            return .privacyCheck(node: UInt16(n), instance: p)
        default:
            guard node.kind == .repeat, node.repeatCount == InstrumentRef.none else { throw .stateInvalid(offset: at) }
            return .repeatPrompt(node: UInt16(n), instance: p)
        }
    }

    /// Entries must come in strictly increasing (node, instance) order: no
    /// duplicates, and outer repeats' counts before inner ones.
    static func ordered(_ n: Int, _ p: InstancePath, after previous: (Int, InstancePath)?) -> Bool {
        guard let (pn, pp) = previous else { return true }
        return n > pn || (n == pn && pp.precedes(p))
    }

    func loadCounts(_ r: inout StateReader) throws(InterviewError) {
        let count = Int(try r.u32())
        var previous: (Int, InstancePath)?
        var e = 0
        while e < count {
            let at = r.offset
            let (n, p) = try readAddress(&r, extraLevel: false)
            let value = Int(try r.u16())
            guard instrument.nodes[n].kind == .repeat, Self.ordered(n, p, after: previous), exists(n, p),
                  value >= 1, value <= layout.capacity[n] else { throw .stateInvalid(offset: at) }
            store.counters[layout.counter(n, p)] = UInt16(value)
            previous = (n, p)
            e += 1
        }
    }

    func loadSections(_ r: inout StateReader) throws(InterviewError) {
        let count = Int(try r.u32())
        var previous: (Int, InstancePath)?
        var e = 0
        while e < count {
            let at = r.offset
            let (n, p) = try readAddress(&r, extraLevel: false)
            let raw = try r.u8()
            guard instrument.nodes[n].isSensitive, Self.ordered(n, p, after: previous), exists(n, p),
                  raw >= 1, let privacy = SectionPrivacy(rawValue: raw) else { throw .stateInvalid(offset: at) }
            store.slots[layout.slot(n, p)].privacy = privacy
            previous = (n, p)
            e += 1
        }
    }

    func loadAnswers(_ r: inout StateReader) throws(InterviewError) {
        let count = Int(try r.u32())
        var previous: (Int, InstancePath)?
        var e = 0
        while e < count {
            let at = r.offset
            let (n, p) = try readAddress(&r, extraLevel: false)
            let node = instrument.nodes[n]
            guard node.kind.holdsValue, Self.ordered(n, p, after: previous), exists(n, p),
                  let tag = AnswerTag(rawValue: try r.u8()), tag == Self.storedTag(node.kind) else {
                throw .stateInvalid(offset: at)
            }
            let s = layout.slot(n, p)
            switch tag {
            case .empty:
                throw .stateInvalid(offset: at)
            case .text, .calculated:
                let length = Int(try r.u32())
                guard length >= 1, length <= limits.maxValueBytes else { throw .stateInvalid(offset: at) }
                let value = try r.take(length)
                guard UTF8Validation.isValid(value) else { throw .stateInvalid(offset: at) }
                guard store.setBytes(s, tag: tag, value) else { throw .stateTooLarge(offset: at) }
            case .choices:
                let length = Int(try r.u32())
                guard length >= 1, length <= limits.maxValueBytes else { throw .stateInvalid(offset: at) }
                let value = try r.take(length)
                // Rebuilt from the list: every value must be one of its items,
                // once, in list order, single spaces.
                guard storeSelection(n, slot: s, toggling: -1, from: value),
                      bytesEqual(store.bytes(s), value) else { throw .stateInvalid(offset: at) }
            case .integer:
                store.setScalar(s, tag: .integer, bits: try r.u64())
            case .decimal:
                let bits = try r.u64()
                guard Double(bitPattern: bits).isFinite else { throw .stateInvalid(offset: at) }
                store.setScalar(s, tag: .decimal, bits: bits)
            case .date:
                let days = Int32(bitPattern: try r.u32())
                store.setScalar(s, tag: .date, bits: UInt64(bitPattern: Int64(days)))
            case .choice:
                let item = Int(try r.u32())
                guard item < instrument.choiceLists[Int(node.choiceList)].itemCount else { throw .stateInvalid(offset: at) }
                store.setScalar(s, tag: .choice, bits: UInt64(item))
            }
            previous = (n, p)
            e += 1
        }
    }

    /// The tag a node of `kind` stores its value under.
    static func storedTag(_ kind: NodeKind) -> AnswerTag {
        switch kind {
        case .text, .preloadUID: return .text
        case .integer: return .integer
        case .decimal: return .decimal
        case .date: return .date
        case .selectOne: return .choice
        case .selectMultiple: return .choices
        case .calculate: return .calculated
        default: return .empty
        }
    }
}
