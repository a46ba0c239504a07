/// The interview in progress on flash: checkpoint records (Docs/safety.md §5).
extension SafetyController {
    /// Saves the real interview straight into the record buffer and seals it
    /// there under the interview key; returns the record length (0 if the
    /// engine could not save — it cannot with a buffer from `maxStateBytes`).
    /// No flash, no allocation: the first half of a quick exit.
    func sealCheckpoint() -> Int {
        let stateArea = CheckpointCodec<C>.statePlaintext(memory.record)
        let n: Int
        do throws(InterviewError) {
            n = try real.save(into: stateArea)
        } catch {
            C.zeroize(stateArea)
            return 0
        }
        return CheckpointCodec<C>.seal(memory.record, stateLength: n,
                                       interviewKey: UnsafeRawBufferPointer(memory.interviewKey),
                                       wrapKey: UnsafeRawBufferPointer(memory.wrapKey))
    }

    /// Appends a sealed checkpoint and retires the ones it supersedes (one
    /// id range from the interview's first checkpoint). Never throws: a
    /// failure is kept in `lastStoreError` (the interview is then only as
    /// recent as the previous checkpoint).
    func persistCheckpoint(length: Int) {
        defer { C.zeroize(memory.record.slice(0, length)) }
        guard length > 0, let store else { return }
        do throws(StoreError) {
            let id = try store.append(UnsafeRawBufferPointer(memory.record.slice(0, length)))
            if checkpointFirst == 0 {
                checkpointFirst = id
            } else if checkpointFirst < id {
                retire(checkpointFirst, id)
            }
            checkpointRevision = real.answerRevision
        } catch {
            noteStoreError(error)
        }
    }

    /// Keeps a store failure for the platform. After a power cut every later
    /// call on the closed store says `.closed`, which is no news: the first
    /// failure is the one worth keeping.
    func noteStoreError(_ error: StoreError) {
        if error == .closed && lastStoreError != nil { return }
        lastStoreError = error
    }

    /// Marks superseded checkpoints pulled so a host never receives them and
    /// garbage collection can reclaim them. Best effort: with more than 64
    /// unpulled finished interviews between them the retired set is too
    /// fragmented, and they stay for the host to pull (dead ciphertext once
    /// the epoch has moved on).
    func retire(_ lower: UInt64, _ upper: UInt64) {
        guard let store, lower < upper else { return }
        do throws(StoreError) {
            try store.markPulled(lower, upper)
        } catch {
            if error != .pulledSetTooFragmented { noteStoreError(error) }
        }
    }

    /// A periodic checkpoint (every K answers) while the interview runs.
    func checkpointNow() {
        guard phase == .unlocked, realActive else { return }
        persistCheckpoint(length: sealCheckpoint())
    }

    /// At unlock: if the newest record still owed is a checkpoint that opens
    /// under the current epoch, resume it exactly (answers, position,
    /// history). Reads one record: O(log blocks), whatever the data.
    func resumeNewestCheckpoint(_ store: LogStore<F, C>) -> Bool {
        guard let id = store.newestUnretiredRecord() else { return false }
        let record = memory.record
        let length: Int
        do throws(StoreError) {
            let n = try store.recordLength(id)
            guard n <= record.count else { return false }
            length = try store.read(id, into: record)
        } catch {
            noteStoreError(error)
            return false
        }
        defer { C.zeroize(record.slice(0, length)) }
        guard let state = CheckpointCodec<C>.open(record, length: length, wrapKey: UnsafeRawBufferPointer(memory.wrapKey),
                                                  interviewKey: memory.interviewKey) else {
            return false
        }
        do throws(InterviewError) {
            try real.reload(UnsafeRawBufferPointer(state), randomSeed: randomSeed())
        } catch {
            C.zeroize(memory.interviewKey)
            return false
        }
        realActive = true
        checkpointFirst = id
        checkpointRevision = real.answerRevision
        return true
    }
}
