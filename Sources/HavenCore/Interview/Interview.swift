/// One interview in progress: the engine a renderer drives.
///
/// Built once from a checked `Instrument` and the board's `EngineLimits`:
/// every buffer (answer slots, text arena, history, screen text, the
/// expression VM) is allocated in `init`, so answering and navigating
/// allocate nothing. The state machine is explicit: `position` is one of
/// question / privacy check / repeat prompt / end, and `next()`, `back()`,
/// `choose(yes:)` and `jump(toGroup:)` are its transitions. After every
/// change of answers the engine re-evaluates relevance and calculates in
/// document order until they settle, clearing the answers of nodes that
/// stop being relevant (ODK's rule), then rebuilds the `screen`.
///
/// Generic over the clock; randomness (instance ids, `random()`) comes from
/// a seed the caller draws from its CSPRNG.
public final class Interview<Clock: InterviewClock> {
    public let instrument: Instrument
    public let limits: EngineLimits
    let layout: AnswerLayout
    let store: AnswerStore
    /// Runs every expression; allocated once with `limits`' stack, arena and
    /// regex sizes.
    let vm: ExpressionVM
    let clock: Clock
    var rng: SplitMix64
    /// `clock.today()`, read at the start of each public operation.
    var day: Int32

    public internal(set) var language: Int
    public internal(set) var position: InterviewPosition = .end
    /// A postponed sensitive section being offered again at the end: when
    /// it is finished the interview returns to the end check.
    var revisit: NodeInstance?
    /// Why `next()` refused the current answer (cleared by any change).
    var validation: ValidationFailure?
    var history: PositionHistory

    /// `uuid:` + a random UUID v4: the record's instance id and the value of
    /// `jr:preload="uid"` nodes.
    let instanceIDBuffer: UnsafeMutableRawBufferPointer
    static var instanceIDLength: Int { 41 }

    // The current screen, rendered into buffers allocated at start.
    let screenText: UnsafeMutableRawBufferPointer
    var labelRange = (0, 0)
    var hintRange = (0, 0)
    var messageRange = (0, 0)
    let choiceBuffer: UnsafeMutableBufferPointer<UInt32>
    /// The label of the choice last read with `choice(at:)` when it has outputs.
    let choiceText: UnsafeMutableRawBufferPointer
    var choiceCount = 0
    var screenReadonly = false
    var screenRequired = false

    /// The last runtime expression failure (only `arenaFull` can happen to a
    /// validated program); the expression evaluated as empty.
    public internal(set) var lastExpressionError: ExpressionError?
    /// Set when a calculate result could not be stored (arena full).
    public internal(set) var storageExhausted = false
    var closed = false
    /// Counts changes of answers and privacy-check outcomes since the
    /// interview started or was resumed: the safety layer writes a
    /// checkpoint every K of them (Docs/safety.md §5).
    public internal(set) var answerRevision: UInt64 = 0

    /// Starts an interview: lays out and allocates storage, draws the
    /// instance id, applies defaults and calculates, and moves to the first
    /// screen. Refuses an instrument whose layout or expressions do not fit
    /// `limits`.
    public init(instrument: Instrument, limits: EngineLimits = .standard, language: Int? = nil,
                clock: Clock, randomSeed: UInt64) throws(InterviewError) {
        let layout = AnswerLayout(instrument: instrument, repeatCapacity: limits.repeatCapacity)
        guard layout.slotCount <= limits.answerSlots else {
            throw .instrumentTooLarge(neededSlots: layout.slotCount, availableSlots: limits.answerSlots)
        }
        var e: UInt32 = 0
        while e < instrument.expressionCount {
            if let expr = instrument.expression(e), expr.maxStack > limits.expressionStack {
                throw .expressionTooDeep(index: e, maxStack: expr.maxStack, capacity: limits.expressionStack)
            }
            e += 1
        }
        let chosen = language ?? instrument.defaultLanguage
        guard chosen >= 0, chosen < instrument.languageCount else { throw .noSuchLanguage(chosen) }
        var longestList = 1
        for list in instrument.choiceLists { longestList = max(longestList, list.itemCount) }

        self.instrument = instrument
        self.limits = limits
        self.layout = layout
        self.language = chosen
        self.clock = clock
        rng = SplitMix64(seed: randomSeed)
        day = clock.today()
        store = AnswerStore(slotCount: layout.slotCount, counterCount: layout.counterCount,
                            arenaBytes: limits.textArenaBytes, stagingBytes: max(limits.maxValueBytes, 64))
        vm = ExpressionVM(stackCapacity: limits.expressionStack, arenaCapacity: limits.expressionArena,
                          regexCapacity: limits.expressionRegex)
        history = PositionHistory(capacity: limits.historyCapacity)
        instanceIDBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.instanceIDLength, alignment: 1)
        screenText = UnsafeMutableRawBufferPointer.allocate(byteCount: max(limits.screenTextBytes, 64), alignment: 1)
        screenText.fill(0)
        choiceBuffer = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: longestList)
        choiceBuffer.initialize(repeating: 0)
        choiceText = UnsafeMutableRawBufferPointer.allocate(byteCount: max(limits.screenTextBytes / 4, 256), alignment: 1)
        choiceText.fill(0)
        writeInstanceID()
        update()
        position = instrument.nodeCount == 0 ? .end : walk(.enter(0, .root))
        refreshScreen()
    }

    deinit {
        wipe()
        history.free()
        instanceIDBuffer.deallocate()
        screenText.deallocate()
        choiceBuffer.deallocate()
        choiceText.deallocate()
    }

    /// Zeroes every answer, the screen, the instance id and the expression
    /// VM's buffers, and closes the interview: nothing of it stays in memory
    /// (quick exit, lock). Every later call fails with `.closed` until
    /// `restart` or `reload` reuses the engine.
    public func wipe() {
        store.wipe()
        vm.wipe()
        screenText.fill(0)
        choiceText.fill(0)
        instanceIDBuffer.fill(0)
        choiceBuffer.update(repeating: 0)
        history.removeAll()
        history.entries.update(repeating: NodeInstance(node: 0, path: .root))
        labelRange = (0, 0)
        hintRange = (0, 0)
        messageRange = (0, 0)
        choiceCount = 0
        position = .end
        revisit = nil
        validation = nil
        closed = true
    }

    public var isClosed: Bool { closed }

    /// The interview's instance id (`uuid:…`).
    public var instanceID: UnsafeRawBufferPointer { UnsafeRawBufferPointer(instanceIDBuffer) }

    /// True while the current screen belongs to a group or repeat marked
    /// sensitive: what quick exit must hide first.
    public var isInSensitiveSection: Bool {
        switch position {
        case .question(let n, _), .repeatPrompt(let n, _): return inSensitiveSection(Int(n))
        case .privacyCheck, .end: return false
        }
    }

    func inSensitiveSection(_ node: Int) -> Bool {
        var n = node
        while true {
            let record = instrument.nodes[n]
            if record.isSensitive { return true }
            guard record.hasParent else { return false }
            n = Int(record.parent)
        }
    }

    /// Instances of repeat `node` under its parent's instance `path`.
    public func instanceCount(ofRepeat node: Int, parent path: InstancePath = .root) -> Int {
        guard node >= 0, node < instrument.nodeCount, instrument.nodes[node].kind == .repeat,
              layout.fits(node, path), exists(node, path) else { return 0 }
        return Int(store.counters[layout.counter(node, path)])
    }

    /// The stored answer of `node` in `instance` (`.none` when unanswered,
    /// not relevant, or the instance does not exist).
    public func answer(of node: Int, instance: InstancePath = .root) -> AnswerValue {
        guard node >= 0, node < instrument.nodeCount, layout.fits(node, instance), exists(node, instance) else {
            return .none
        }
        return answerValue(slot: layout.slot(node, instance))
    }

    /// Whether `node` in `instance` is relevant now (and not held back by a
    /// privacy check).
    public func isRelevant(_ node: Int, instance: InstancePath = .root) -> Bool {
        guard node >= 0, node < instrument.nodeCount, layout.fits(node, instance), exists(node, instance) else {
            return false
        }
        return store.slots[layout.slot(node, instance)].isActive
    }

    func answerValue(slot: Int) -> AnswerValue {
        let s = store.slots[slot]
        switch s.tag {
        case .empty: return .none
        case .text: return .text(store.bytes(slot))
        case .integer: return .integer(Int64(bitPattern: s.bits))
        case .decimal: return .decimal(Double(bitPattern: s.bits))
        case .date: return .date(Int32(truncatingIfNeeded: Int64(bitPattern: s.bits)))
        case .choice: return .choice(Int(s.bits))
        case .choices: return .choices(store.bytes(slot))
        case .calculated: return .calculated(store.bytes(slot))
        }
    }

    /// Does instance `path` of `node` exist (every index below its repeat's
    /// instance count)?
    func exists(_ node: Int, _ path: InstancePath) -> Bool {
        var prefix = InstancePath()
        var k = 0
        while k < path.depth {
            let r = layout.ancestor(node, level: k)
            if path[k] >= Int(store.counters[layout.counter(r, prefix)]) { return false }
            prefix.append(path[k])
            k += 1
        }
        return true
    }

    @inline(__always)
    func slotIndex(_ node: Int, _ path: InstancePath) -> Int { layout.slot(node, path) }

    /// The slot of `node`'s parent for a node in `path`.
    @inline(__always)
    func parentSlot(_ node: Int, _ path: InstancePath) -> Int? {
        let record = instrument.nodes[node]
        guard record.hasParent else { return nil }
        let p = Int(record.parent)
        return layout.slot(p, path.prefix(layout.depth(p)))
    }

    /// `uuid:` + 32 random hex digits in UUID v4 form.
    func writeInstanceID() {
        var w = ByteWriter(instanceIDBuffer)
        w.append("uuid:")
        let hi = rng.next()
        let lo = rng.next()
        var i = 0
        while i < 16 {
            var byte = UInt8(truncatingIfNeeded: (i < 8 ? hi : lo) >> (UInt64(7 - i % 8) * 8))
            if i == 6 { byte = byte & 0x0F | 0x40 }  // version 4
            if i == 8 { byte = byte & 0x3F | 0x80 }  // RFC 4122 variant
            if i == 4 || i == 6 || i == 8 || i == 10 { w.append(45) }
            w.append(Self.hexDigit(byte >> 4))
            w.append(Self.hexDigit(byte & 0x0F))
            i += 1
        }
    }

    static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 48 + v : 87 + v }

    /// Reads the clock; every public operation starts here.
    func begin() throws(InterviewError) {
        guard !closed else { throw .closed }
        day = clock.today()
    }

    /// `begin()` for the non-throwing navigation calls: false when closed.
    func beginNavigation() -> Bool {
        guard !closed else { return false }
        day = clock.today()
        return true
    }
}
