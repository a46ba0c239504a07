/// Reusing one engine for interview after interview, and what the safety
/// layer needs to size and check its buffers.
///
/// A device runs at most one real interview at a time and keeps one engine
/// for it (and one for the decoy): allocated once when the device unlocks
/// for the first time, wiped on quick exit or lock, and refilled by
/// `restart` (a new interview) or `reload` (a saved one) without
/// allocating, so memory use stays flat however often the enumerator locks
/// and unlocks.
extension Interview {
    /// Starts a new interview in this engine's buffers: everything is wiped,
    /// a new instance id is drawn from `randomSeed`, defaults and calculates
    /// are applied and the first screen is shown, exactly as `init` does.
    /// Allocates nothing.
    public func restart(randomSeed: UInt64, language: Int? = nil) throws(InterviewError) {
        let chosen = language ?? instrument.defaultLanguage
        guard chosen >= 0, chosen < instrument.languageCount else { throw .noSuchLanguage(chosen) }
        wipe()
        closed = false
        answerRevision = 0
        lastExpressionError = nil
        storageExhausted = false
        self.language = chosen
        rng = SplitMix64(seed: randomSeed)
        day = clock.today()
        writeInstanceID()
        update()
        position = instrument.nodeCount == 0 ? .end : walk(.enter(0, .root))
        refreshScreen()
    }

    /// Resumes state written by `save()` into this engine (same checks as
    /// `init(resuming:)`). On any error the engine is left wiped and closed.
    /// Allocates nothing.
    public func reload(_ state: UnsafeRawBufferPointer, randomSeed: UInt64) throws(InterviewError) {
        wipe()
        closed = false
        answerRevision = 0
        lastExpressionError = nil
        storageExhausted = false
        rng = SplitMix64(seed: randomSeed)
        do throws(InterviewError) {
            try load(state)
        } catch {
            wipe()
            throw error
        }
    }

    /// An upper bound of `save()`'s length for this instrument and these
    /// limits, whatever the answers: what a caller allocates once to save
    /// without allocating (Docs/instrument-format.md §5).
    public var maxStateBytes: Int {
        let address = 3 + 2 * InstancePath.maxDepth
        let slots = layout.slotCount
        return Self.stateHeaderSize + Self.instanceIDLength
            + 1 + address  // position
            + address  // revisit
            + 2 + history.capacity * address
            + 4 + layout.counterCount * (address + 2)
            + 4 + slots * (address + 1)
            + 4 + slots * (address + 1 + 8)
            + store.arena.count
    }

    /// An upper bound of `finalize()`'s length (Docs/instrument-format.md §4).
    public var maxRecordBytes: Int {
        let address = 3 + 2 * InstancePath.maxDepth
        var longestChoice = 0
        var list = 0
        while list < instrument.choiceLists.count {
            var item = 0
            while item < instrument.choiceLists[list].itemCount {
                longestChoice = max(longestChoice, instrument.choiceValue(list: list, item: item).count)
                item += 1
            }
            list += 1
        }
        return 4 + 2
            + 2 + instrument.string(instrument.formID).count
            + 2 + instrument.string(instrument.formVersion).count
            + 2 + Self.instanceIDLength
            + 4
            + layout.slotCount * (address + 1 + 8 + 4 + longestChoice)
            + 3 * store.arena.count + 4
    }

    /// Every buffer the engine owns (answers, arena, screen text, choices,
    /// history, instance id, the VM's stack, arena and scratch), for memory
    /// scans in tests: after `wipe()` none of them may hold an answer.
    public func forEachBuffer(_ body: (UnsafeRawBufferPointer) -> Void) {
        body(UnsafeRawBufferPointer(store.arena))
        body(UnsafeRawBufferPointer(store.staging))
        body(UnsafeRawBufferPointer(start: UnsafeRawPointer(store.slots.baseAddress!),
                                    count: store.slots.count * MemoryLayout<AnswerSlot>.stride))
        body(UnsafeRawBufferPointer(start: UnsafeRawPointer(store.counters.baseAddress!),
                                    count: store.counters.count * 2))
        body(UnsafeRawBufferPointer(screenText))
        body(UnsafeRawBufferPointer(choiceText))
        body(UnsafeRawBufferPointer(instanceIDBuffer))
        body(UnsafeRawBufferPointer(start: UnsafeRawPointer(choiceBuffer.baseAddress!), count: choiceBuffer.count * 4))
        body(UnsafeRawBufferPointer(start: UnsafeRawPointer(history.entries.baseAddress!),
                                    count: history.entries.count * MemoryLayout<NodeInstance>.stride))
        vm.forEachBuffer(body)
    }
}
