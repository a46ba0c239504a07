/// PIN attempts (Docs/safety.md §2–3).
extension SafetyController {
    /// One PIN attempt from the lock screen.
    ///
    /// Order, so that a power cut can never buy a free guess: (1) refuse
    /// without counting while the back-off runs; (2) write failures + 1 to
    /// the superblock header and wait until it is durable; (3) only then run
    /// Argon2id and try the slots and the duress tag (always both); (4) on
    /// the real PIN mount the store, resume the interview in progress and
    /// write failures = 0; on the duress PIN crypto-erase and open the decoy;
    /// on a wrong one start the back-off, and crypto-erase first if this was
    /// the policy's Nth failure. The duress PIN answers `.unlocked`, like the
    /// real one; a wrong PIN on an erased store answers like any wrong PIN.
    public func attemptUnlock(pin: UnsafeRawBufferPointer) throws(SafetyError) -> UnlockResult {
        guard phase == .locked || phase == .erased else { return .notLocked }
        let now = clock.monotonicMilliseconds()
        if now < nextAttemptAt { return .backingOff(remaining: nextAttemptAt - now) }
        lastActivity = now

        var slots: [KeySlot] = []
        if phase == .locked {
            do throws(StoreError) {
                var header = try Superblock<F, C>.inspect(flash)
                let counted = PinGuard(failures: header.pinGuard.failures == .max ? .max : header.pinGuard.failures + 1,
                                       flags: header.pinGuard.flags)
                try Superblock<F, C>.rewriteHeader(flash, &header, pinGuard: counted,
                                                   checkpointEpoch: header.checkpointEpoch)
                failures = counted.failures
                liveSuperblock = header.liveBlock
                slots = header.slots
            } catch {
                if error != .notFormatted { throw .store(error) }
                phase = .erased  // erased behind our back: nothing left to count on flash
            }
        }
        if phase == .erased { failures = failures == .max ? .max : failures + 1 }

        let verdict: PinVerdict
        do throws(CryptoError) {
            verdict = try PinCheck<C>.check(pin: pin, slots: slots, duress: policy.duress,
                                            deviceSecret: memory.secret, dataKey: memory.dataKey,
                                            scratch: memory.scratch)
        } catch {
            memory.zeroizeSessionKeys()
            throw .crypto(error)
        }
        switch verdict {
        case .duress:
            if phase == .locked { eraseStore() }
            failures = 0
            nextAttemptAt = 0
            enterDecoyOnly()
            return .unlocked
        case .real:
            try openReal()
            return .unlocked
        case .wrong:
            if phase == .locked && policy.maxFailures > 0 && failures >= policy.maxFailures {
                eraseStore()
                phase = .erased
            }
            nextAttemptAt = clock.monotonicMilliseconds() &+ policy.backoff(afterFailures: failures)
            return .wrongPIN(attemptsLeft: attemptsLeft)
        }
    }

    /// The real PIN: mount, resume the newest checkpoint, reset the count.
    /// The header rewrite that clears the count also draws a new checkpoint
    /// epoch when nothing is resumed, so a checkpoint left behind by a power
    /// cut after a finished interview becomes unreadable (§5).
    func openReal() throws(SafetyError) {
        let mounted: LogStore<F, C>
        do throws(StoreError) {
            mounted = try LogStore<F, C>(flash: flash, dataKey: UnsafeRawBufferPointer(memory.dataKey))
        } catch {
            memory.zeroizeSessionKeys()
            throw .store(error)
        }
        store = mounted
        // The wrap key of the epoch the checkpoint was written under…
        CheckpointCodec<C>.deriveWrapKey(dataKey: UnsafeRawBufferPointer(memory.dataKey), epoch: mounted.checkpointEpoch,
                                         into: memory.wrapKey)
        let resumed = resumeNewestCheckpoint(mounted)
        do throws(StoreError) {
            let epoch = resumed ? mounted.checkpointEpoch : CheckpointEpoch.random(C.self)
            try mounted.rewriteHeader(pinGuard: .clear, checkpointEpoch: epoch)
        } catch {
            real.wipe()
            realActive = false
            closeReal()
            throw .store(error)
        }
        // …and of the one the next checkpoints go under.
        CheckpointCodec<C>.deriveWrapKey(dataKey: UnsafeRawBufferPointer(memory.dataKey), epoch: mounted.checkpointEpoch,
                                         into: memory.wrapKey)
        retireDeadCheckpoints(mounted, keep: resumed ? checkpointFirst : 0)
        liveSuperblock = mounted.liveSuperblock
        failures = 0
        nextAttemptAt = 0
        phase = .unlocked
        decoyActive = false
        prepareDecoy()
    }

    /// Duress: the store is already erased; the device now behaves as a
    /// normal one whose only instrument is the decoy.
    func enterDecoyOnly() {
        memory.zeroizeSessionKeys()
        phase = .decoyOnly
        realActive = false
        decoyActive = false
        prepareDecoy()
    }

    /// Readies the decoy for a quick exit: a fresh decoy interview moved
    /// `decoyScreensIn` screens in, its defaults (the decoy form's plausible
    /// answers) filled on the way. Done at unlock, never on the quick-exit
    /// path, which then only has to switch engines.
    func prepareDecoy() {
        do throws(InterviewError) {
            try decoy.restart(randomSeed: randomSeed())
        } catch {
            return
        }
        var k = 0
        while k < policy.decoyScreensIn {
            if decoy.next() != .moved { break }
            k += 1
        }
    }

    /// Crypto-erase (two block erases, live header first). A failure is kept
    /// in `lastStoreError`; the caller's state change stands either way.
    func eraseStore() {
        do throws(StoreError) {
            try Superblock<F, C>.cryptoErase(flash, liveBlock: liveSuperblock)
        } catch {
            noteStoreError(error)
        }
    }
}
