/// Running interviews through the controller (Docs/safety.md §5): starting,
/// answering (with a checkpoint every K answers), finishing and discarding.
extension SafetyController {
    /// Starts an interview of the instrument on the home screen: the real
    /// one when unlocked (with a fresh random interview key), the decoy in
    /// hidden and decoy-only modes.
    public func startInterview(language: Int? = nil) throws(SafetyError) {
        try noteActivity()
        switch phase {
        case .unlocked:
            guard !realActive else { throw .interviewInProgress }
            do throws(InterviewError) { try real.restart(randomSeed: randomSeed(), language: language) } catch {
                throw .interview(error)
            }
            C.randomBytes(memory.interviewKey)
            realActive = true
            checkpointFirst = 0
            checkpointRevision = 0
        case .hidden, .decoyOnly:
            guard !decoyActive else { throw .interviewInProgress }
            do throws(InterviewError) { try decoy.restart(randomSeed: randomSeed(), language: language) } catch {
                throw .interview(error)
            }
            decoyActive = true
        case .locked, .erased:
            throw .locked
        }
    }

    /// Runs `body` on the interview on screen (real or decoy) — answering,
    /// navigating — and counts it as activity. After every K changes of the
    /// real interview's answers a checkpoint is written. Fails with
    /// `.locked` if the auto-lock fired first.
    public func withInterview<R>(_ body: (Interview<Clock>) throws(InterviewError) -> R) throws(SafetyError) -> R {
        try noteActivity()
        guard let interview = activeInterview else { throw .noInterview }
        let result: R
        do throws(InterviewError) { result = try body(interview) } catch { throw .interview(error) }
        if phase == .unlocked && realActive
            && real.answerRevision &- checkpointRevision >= UInt64(policy.checkpointEveryAnswers) {
            checkpointNow()
        }
        return result
    }

    /// Finishes the interview on screen. Real: the answer record is sealed
    /// to the research team's recipients (age v1) and appended (`u8 1 ‖ age
    /// file`), the checkpoint epoch is replaced (every checkpoint of this
    /// interview becomes undecryptable) and its checkpoints are retired;
    /// the device keeps no key that opens the result. Returns the record
    /// id. Decoy: the answers are dropped (they never reach flash); nil.
    @discardableResult
    public func finalizeInterview() throws(SafetyError) -> UInt64? {
        try noteActivity()
        switch phase {
        case .hidden, .decoyOnly:
            guard decoyActive else { throw .noInterview }
            // Checked like a real one (required questions, constraints), so the
            // decoy behaves as a normal form, then dropped.
            do throws(InterviewError) { try decoy.prepareFinalize() } catch { throw .interview(error) }
            decoy.wipe()
            decoyActive = false
            return nil
        case .locked, .erased:
            throw .locked
        case .unlocked:
            break
        }
        guard realActive, let store else { throw .noInterview }
        let plain = memory.plain
        let n: Int
        do throws(InterviewError) { n = try real.finalize(into: plain) } catch {
            C.zeroize(plain)
            throw .interview(error)
        }
        let sealed = policy.recipients.withUnsafeBytes { recipients -> Result<Int, SafetyError> in
            do throws(SafetyError) {
                return .success(try FinishedInterviewSealer<C>.seal(UnsafeRawBufferPointer(plain.slice(0, n)),
                                                                    recipients: recipients, into: memory.record))
            } catch {
                return .failure(error)
            }
        }
        C.zeroize(plain.slice(0, n))
        let length: Int
        switch sealed {
        case .success(let count): length = count
        case .failure(let error): throw error
        }
        let id: UInt64
        do throws(StoreError) {
            id = try store.append(UnsafeRawBufferPointer(memory.record.slice(0, length)))
        } catch {
            C.zeroize(memory.record.slice(0, length))
            throw .store(error)
        }
        C.zeroize(memory.record.slice(0, length))
        endRealInterview(upTo: id)
        return id
    }

    /// Abandons the real interview on screen (the respondent withdrew):
    /// nothing is sealed; its checkpoints are retired and made unreadable.
    public func discardInterview() throws(SafetyError) {
        try noteActivity()
        switch phase {
        case .unlocked:
            guard realActive, let store else { throw .noInterview }
            endRealInterview(upTo: store.nextRecordID)
        case .hidden, .decoyOnly:
            guard decoyActive else { throw .noInterview }
            decoy.wipe()
            decoyActive = false
        case .locked, .erased:
            throw .locked
        }
    }

    /// After a finished or discarded interview: a new checkpoint epoch (the
    /// old one is erased with its superblock block, so no key for this
    /// interview's checkpoints exists any more), its checkpoints retired
    /// below `upper`, the engine wiped, the interview key zeroized.
    func endRealInterview(upTo upper: UInt64) {
        real.wipe()
        C.zeroize(memory.interviewKey)
        realActive = false
        if let store {
            do throws(StoreError) {
                try store.rewriteHeader(pinGuard: store.pinGuard, checkpointEpoch: .random(C.self))
                liveSuperblock = store.liveSuperblock
            } catch {
                noteStoreError(error)
            }
            CheckpointCodec<C>.deriveWrapKey(dataKey: UnsafeRawBufferPointer(memory.dataKey),
                                             epoch: store.checkpointEpoch, into: memory.wrapKey)
            if checkpointFirst != 0 { retire(checkpointFirst, upper) }
        }
        checkpointFirst = 0
        checkpointRevision = 0
    }

    /// Every call from the enumerator: fires a due auto-lock first (then
    /// refuses), else counts as activity.
    func noteActivity() throws(SafetyError) {
        let now = clock.monotonicMilliseconds()
        if autoLockDue(now) {
            quickExit(.lock)
            throw .locked
        }
        lastActivity = now
    }
}
