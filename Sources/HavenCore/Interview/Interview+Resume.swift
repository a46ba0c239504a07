/// Resuming a saved interview (Docs/instrument-format.md §5). The state is
/// only as trustworthy as the storage it came back from: every field is
/// checked against the instrument and the limits before it is used, and the
/// first bad one is refused with its offset.
extension Interview {

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

    /// Reads a u32 count, then that many entries, each starting with an
    /// address (§5). The shared rules — strictly increasing (node, instance)
    /// order and an instance that exists — are checked here; `entry` reads
    /// and checks the rest, given the node, instance and the entry's offset.
    func readAddressedTable(
        _ r: inout StateReader,
        _ entry: (inout StateReader, Int, InstancePath, Int) throws(InterviewError) -> Void
    ) throws(InterviewError) {
        let count = Int(try r.u32())
        var previous: (Int, InstancePath)?
        var e = 0
        while e < count {
            let at = r.offset
            let (n, p) = try readAddress(&r, extraLevel: false)
            guard Self.ordered(n, p, after: previous), exists(n, p) else { throw .stateInvalid(offset: at) }
            try entry(&r, n, p, at)
            previous = (n, p)
            e += 1
        }
    }

    func loadCounts(_ r: inout StateReader) throws(InterviewError) {
        try readAddressedTable(&r) { (r, n, p, at) throws(InterviewError) in
            let value = Int(try r.u16())
            guard instrument.nodes[n].kind == .repeat, value >= 1, value <= layout.capacity[n] else {
                throw .stateInvalid(offset: at)
            }
            store.counters[layout.counter(n, p)] = UInt16(value)
        }
    }

    func loadSections(_ r: inout StateReader) throws(InterviewError) {
        try readAddressedTable(&r) { (r, n, p, at) throws(InterviewError) in
            let raw = try r.u8()
            guard instrument.nodes[n].isSensitive, raw >= 1, let privacy = SectionPrivacy(rawValue: raw) else {
                throw .stateInvalid(offset: at)
            }
            store.slots[layout.slot(n, p)].privacy = privacy
        }
    }

    func loadAnswers(_ r: inout StateReader) throws(InterviewError) {
        try readAddressedTable(&r) { (r, n, p, at) throws(InterviewError) in
            try loadAnswer(&r, n, p, at)
        }
    }

    /// One answer entry after its address: tag, then the value (§5).
    private func loadAnswer(_ r: inout StateReader, _ n: Int, _ p: InstancePath, _ at: Int) throws(InterviewError) {
        let node = instrument.nodes[n]
        guard node.kind.holdsValue, let tag = AnswerTag(rawValue: try r.u8()), tag == Self.storedTag(node.kind) else {
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
