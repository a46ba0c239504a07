/// Input events, quick exit, lock and auto-lock (Docs/safety.md §4, §6).
extension SafetyController {
    /// Feeds one platform input event. Fires the auto-lock if the device has
    /// been idle for the policy's timeout, then the quick exit when the
    /// event completes a configured gesture (on-screen control, N presses of
    /// the button within T ms, the key chord), or the lock on the lock key.
    /// Returns what fired. Never throws: hiding cannot wait for an error
    /// dialog; store failures go to `lastStoreError`.
    @discardableResult
    public func handle(_ event: InputEvent) -> QuickExitTrigger? {
        let now = clock.monotonicMilliseconds()
        var fired: QuickExitTrigger?
        if autoLockDue(now) {
            quickExit(.lock)
            fired = .autoLock
        }
        if event.isActivity { lastActivity = now }
        if let trigger = detector.feed(event, policy) {
            quickExit(policy.quickExitAction)
            return trigger
        }
        if event.kind == .lockRequest && phase != .locked && phase != .erased {
            quickExit(.lock)
            return .lockRequest
        }
        return fired
    }

    /// Locks now (the lock action, as the lock key does).
    public func lock() {
        quickExit(.lock)
    }

    func autoLockDue(_ now: UInt64) -> Bool {
        guard policy.autoLockMilliseconds > 0 else { return false }
        switch phase {
        case .unlocked, .hidden, .decoyOnly: return now &- lastActivity >= policy.autoLockMilliseconds
        case .locked, .erased: return false
        }
    }

    /// The quick exit, all in this call: when it returns, the screen model
    /// shows the decoy (or the lock screen), the real interview's answers
    /// and keys are gone from memory, and (hide, lock) its state is on flash
    /// under its interview key. The order puts memory first: the checkpoint
    /// is sealed in RAM, then the engine is wiped and the keys that are no
    /// longer needed are zeroized, and only then is the sealed record
    /// appended (a fixed number of flash writes: no scan, no read) and the
    /// store closed. Nothing allocates.
    func quickExit(_ action: QuickExitAction) {
        detector.clear()
        switch phase {
        case .unlocked:
            let length = realActive ? sealCheckpoint() : 0
            if action != .lock { matchDecoyLanguage() }
            real.wipe()
            C.zeroize(memory.interviewKey)
            realActive = false
            switch action {
            case .hide:
                phase = .hidden
                decoyActive = true
            case .lock:
                phase = .locked
                decoyActive = false
            case .wipe:
                phase = .decoyOnly
                decoyActive = true
            }
            // The screen model and the engine hold nothing sensitive now.
            if action != .wipe { persistCheckpoint(length: length) }
            C.zeroize(memory.record.slice(0, length))
            closeReal()
            if action == .wipe { eraseStore() }
            if action == .lock { decoy.wipe() }
        case .hidden:
            switch action {
            case .hide:
                break
            case .lock:
                decoy.wipe()
                decoyActive = false
                phase = .locked
            case .wipe:
                eraseStore()
                phase = .decoyOnly
            }
        case .decoyOnly:
            if action == .lock {
                decoy.wipe()
                decoyActive = false
                phase = .erased
            }
        case .locked:
            if action == .wipe {
                eraseStore()
                phase = .erased
            }
        case .erased:
            break
        }
    }

    /// Shows the decoy in the language the real interview was in, when the
    /// decoy has it (by name, e.g. "Kinyarwanda (rw)"): a questionnaire that
    /// switches language as someone walks in is a tell. Re-renders one
    /// screen; allocates nothing.
    func matchDecoyLanguage() {
        guard realActive else { return }
        let name = real.instrument.languageName(real.language)
        var j = 0
        while j < decoy.instrument.languageCount {
            if bytesEqual(decoy.instrument.languageName(j), name) {
                if j != decoy.language { try? decoy.setLanguage(j) }
                return
            }
            j += 1
        }
    }

    /// Closes the store (its keys and scratch are zeroized) and zeroizes
    /// the data, wrap and interview keys.
    func closeReal() {
        if let store {
            liveSuperblock = store.liveSuperblock
            store.close()
        }
        store = nil
        memory.zeroizeSessionKeys()
        checkpointFirst = 0
        checkpointRevision = 0
    }
}
