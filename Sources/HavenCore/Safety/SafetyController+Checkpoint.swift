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

    /// At unlock: retires every checkpoint record still owed except `keep`
    /// (the one resumed, 0 for none). Only the newest unretired record can
    /// ever be resumed, so any other checkpoint is dead: one left behind by a
    /// power cut between a checkpoint's append and the retirement of the one
    /// it superseded, or one whose epoch has moved on. The link never lists
    /// checkpoints, so no host can acknowledge them: without this they would
    /// pin the log's tail for good and, once the ring wraps, the store would
    /// stay full whatever is pulled (found by the field-week soak, issue 8).
    ///
    /// Walks the records not yet pulled (reading each one's type byte) and
    /// retires at most `deadCheckpointBatch` per unlock (a fixed stack list;
    /// the next unlock takes the rest). Never throws; allocates nothing.
    func retireDeadCheckpoints(_ store: LogStore<F, C>, keep: UInt64) {
        let record = memory.record
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: Self.deadCheckpointBatch) { dead in
            var count = 0
            do throws(StoreError) {
                var cursor = try store.makeCursor()
                while count < dead.count, let entry = try store.next(&cursor) {
                    guard case .record(let id, let length) = entry, id != keep, length >= 1, length <= record.count,
                          !store.isPulled(id) else { continue }
                    let n = try store.read(id, into: record)
                    let type = record[0]
                    C.zeroize(record.slice(0, n))
                    if type == SafetyRecordType.checkpoint.rawValue {
                        dead[count] = id
                        count += 1
                    }
                }
            } catch {
                noteStoreError(error)
            }
            var i = 0
            while i < count {
                retire(dead[i], dead[i] &+ 1)
                i += 1
            }
        }
    }

    static var deadCheckpointBatch: Int { 32 }
}
