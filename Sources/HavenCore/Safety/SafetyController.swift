/// The device's safety layer: PIN unlock with a power-safe failure count,
/// back-off and wipe; the duress PIN; one-gesture quick exit to a decoy;
/// auto-lock; the interview in progress kept encrypted under its own key;
/// finished interviews sealed to the research team. `Docs/safety.md` is the
/// design, with every state transition and every byte it writes.
///
/// An explicit state machine (`SafetyState`): locked → (PIN) → unlocked,
/// decoy-only (duress) or erased (Nth failure); unlocked → (quick exit) →
/// hidden, locked or decoy-only; hidden → (lock, PIN) → unlocked with the
/// interview resumed exactly. The platform feeds it input events
/// (`handle`) and PIN attempts (`attemptUnlock`), drives the interview on
/// screen through `withInterview`, and draws `screen`.
///
/// Everything it needs is allocated in `init`: both interview engines (the
/// real instrument's and the decoy's), the key area and the record buffers.
/// Quick exit allocates nothing, reads no flash, and costs the same however
/// many records the store holds.
///
/// Generic over the flash, the crypto suite and the clock (time for back-off
/// and auto-lock; randomness comes from the suite's CSPRNG), so tests run it
/// on RAM flash with a manual clock.
public final class SafetyController<F: Flash, C: CryptoSuite, Clock: SafetyClock> {
    public let flash: F
    public let policy: SafetyPolicy
    let clock: Clock
    /// The real instrument's engine: one interview at a time, reused.
    let real: Interview<Clock>
    /// The decoy's engine. Its answers stay in RAM: nothing of the decoy is
    /// ever written to the store.
    let decoy: Interview<Clock>
    let memory: SafetyMemory<C>

    var phase: SafetyPhase
    /// Mounted only while unlocked with the real instrument.
    var store: LogStore<F, C>?
    /// The live superblock block as last seen (a wipe erases it first
    /// without reading anything).
    var liveSuperblock = 0
    /// Consecutive failures as last written (RAM only once erased).
    var failures: UInt32 = 0
    /// No PIN attempt is accepted before this time.
    var nextAttemptAt: UInt64 = 0
    var lastActivity: UInt64 = 0
    /// A real interview is running (unlocked) or the decoy is on screen
    /// (hidden, decoy-only).
    var realActive = false
    var decoyActive = false
    /// First checkpoint record of the interview in progress (0: none yet):
    /// superseded checkpoints are retired as one range from here.
    var checkpointFirst: UInt64 = 0
    /// `real.answerRevision` at the last checkpoint.
    var checkpointRevision: UInt64 = 0
    var detector = QuickExitDetector()

    /// The last store failure during a quick exit, lock or periodic
    /// checkpoint (these never throw: hiding must not fail because the
    /// flash did). The platform may show it after the next unlock.
    public internal(set) var lastStoreError: StoreError?

    /// Makes the controller and reads the superblock header: a valid store
    /// starts locked with its failure count and back-off; a blank one starts
    /// erased. `deviceSecret` is mixed into every PIN key (Docs/safety.md §3).
    public init(flash: F, policy: SafetyPolicy, deviceSecret: UnsafeRawBufferPointer, instrument: Instrument,
                decoy decoyInstrument: Instrument, limits: EngineLimits = .standard,
                decoyLimits: EngineLimits = .standard, clock: Clock) throws(SafetyError) {
        try policy.validate()
        self.flash = flash
        self.policy = policy
        self.clock = clock
        do throws(InterviewError) {
            real = try Interview(instrument: instrument, limits: limits, clock: clock, randomSeed: 0)
            decoy = try Interview(instrument: decoyInstrument, limits: decoyLimits, clock: clock, randomSeed: 0)
        } catch {
            throw .interview(error)
        }
        real.wipe()
        decoy.wipe()
        let plain = real.maxRecordBytes
        let recordCapacity = max(CheckpointCodec<C>.overhead + real.maxStateBytes,
                                 FinishedInterviewSealer<C>.recordSize(plaintextCount: plain,
                                                                        recipientCount: policy.recipientCount))
        memory = SafetyMemory(deviceSecret: deviceSecret, recordCapacity: recordCapacity, plainCapacity: plain)
        let now = clock.monotonicMilliseconds()
        lastActivity = now
        do throws(StoreError) {
            let state = try Superblock<F, C>.inspect(flash)
            phase = .locked
            liveSuperblock = state.liveBlock
            failures = state.pinGuard.failures
        } catch {
            guard error == .notFormatted else { throw .store(error) }
            phase = .erased
        }
        // A reboot does not reset the back-off: it runs again from boot.
        nextAttemptAt = now &+ policy.backoff(afterFailures: failures)
    }

    // MARK: What the platform reads

    public var state: SafetyState {
        switch phase {
        case .locked:
            let now = clock.monotonicMilliseconds()
            return now < nextAttemptAt ? .unlocking(backoffRemaining: nextAttemptAt - now) : .locked
        case .unlocked: return .unlocked
        case .decoyOnly: return .decoyOnly
        case .hidden: return .hidden
        case .erased: return .erased
        }
    }

    /// What to draw. In hidden and decoy-only modes it is built from the
    /// decoy engine only; on the lock screen from counters only.
    public var screen: SafetyScreen {
        switch phase {
        case .locked, .erased:
            return .lock(lockScreen)
        case .unlocked:
            return realActive ? .interview(real.screen) : .home(title: real.instrument.string(real.instrument.title))
        case .hidden, .decoyOnly:
            return decoyActive ? .interview(decoy.screen) : .home(title: decoy.instrument.string(decoy.instrument.title))
        }
    }

    var lockScreen: LockScreen {
        let now = clock.monotonicMilliseconds()
        return LockScreen(backoffRemaining: now < nextAttemptAt ? nextAttemptAt - now : 0, attemptsLeft: attemptsLeft)
    }

    var attemptsLeft: Int? {
        guard policy.showAttemptsLeft, policy.maxFailures > 0 else { return nil }
        return Int(policy.maxFailures) - Int(min(failures, policy.maxFailures))
    }

    /// The choice at `position` of the interview on screen (decoy or real).
    public func choice(at position: Int) -> ScreenChoice? {
        activeInterview?.choice(at: position)
    }

    /// The language of the interview on screen (nil when none), read
    /// without counting as activity (for the platform's screen model).
    public var interviewLanguage: Int? { activeInterview?.language }

    /// The instrument the home screen offers and the interview on screen
    /// belongs to: the real one when unlocked, the decoy in hidden and
    /// decoy-only modes, nil on the lock screen. For language names and
    /// choice values in the platform's screen model.
    public var visibleInstrument: Instrument? {
        switch phase {
        case .unlocked: return real.instrument
        case .hidden, .decoyOnly: return decoy.instrument
        case .locked, .erased: return nil
        }
    }

    /// The answer of question `node` (outside repeats) in the interview on
    /// screen when it is relevant and answered, for a review screen; nil
    /// otherwise. Not activity. Byte buffers are valid until the next call.
    public func reviewAnswer(of node: Int) -> AnswerValue? {
        guard let interview = activeInterview, interview.isRelevant(node) else { return nil }
        let value = interview.answer(of: node)
        if case .none = value { return nil }
        return value
    }

    /// The interview the enumerator is working on, if one is on screen.
    var activeInterview: Interview<Clock>? {
        switch phase {
        case .unlocked: return realActive ? real : nil
        case .hidden, .decoyOnly: return decoyActive ? decoy : nil
        case .locked, .erased: return nil
        }
    }

    // MARK: Debug access (tests and the simulator's memory scan)

    /// Every buffer the controller owns — keys, record buffers, both
    /// engines' answers, arenas and screen text — for scans that prove
    /// nothing sensitive stays in memory after a quick exit.
    public func forEachBuffer(_ body: (UnsafeRawBufferPointer) -> Void) {
        body(UnsafeRawBufferPointer(memory.keys))
        body(UnsafeRawBufferPointer(memory.record))
        body(UnsafeRawBufferPointer(memory.plain))
        real.forEachBuffer(body)
        decoy.forEachBuffer(body)
    }

    /// Data key, checkpoint wrap key, interview key and PIN scratch (all
    /// zero whenever the device is not unlocked with the real instrument).
    public var sessionKeyMaterial: UnsafeRawBufferPointer { UnsafeRawBufferPointer(memory.keys) }

    /// Whether the store is mounted (its keys exist in memory).
    public var isStoreMounted: Bool { store != nil }

    /// The mounted store (unlocked only), for host-side pulls and tests.
    public var mountedStore: LogStore<F, C>? { store }

    func randomSeed() -> UInt64 {
        withUnsafeTemporaryAllocation(byteCount: 8, alignment: 8) { buf in
            C.randomBytes(buf)
            let seed = UnsafeRawBufferPointer(buf).loadLE(UInt64.self, at: 0)
            C.zeroize(buf)
            return seed
        }
    }
}
