@testable import HavenCore
import HavenSodium
import Testing

/// The three gestures as event sequences (timestamps from the clock).
enum Gesture: String, CaseIterable, CustomStringConvertible {
    case screenControl, buttonPresses, keyChord

    var description: String { rawValue }

    var trigger: QuickExitTrigger {
        switch self {
        case .screenControl: return .screenControl
        case .buttonPresses: return .buttonPresses
        case .keyChord: return .keyChord
        }
    }

    /// Feeds the gesture; returns what the last event fired.
    func perform<F: Flash>(on c: SafetyController<F, Sodium, ManualClock>, clock: ManualClock) -> QuickExitTrigger? {
        switch self {
        case .screenControl:
            return c.handle(InputEvent(.quickExitControl, at: clock.now))
        case .buttonPresses:
            var fired: QuickExitTrigger?
            for i in 0..<3 {
                #expect(fired == nil)
                fired = c.handle(InputEvent(.button(7, pressed: true), at: clock.now))
                clock.advance(200)
                if i < 2 { _ = c.handle(InputEvent(.button(7, pressed: false), at: clock.now)) }
            }
            return fired
        case .keyChord:
            #expect(c.handle(InputEvent(.key(29, down: true), at: clock.now)) == nil)
            #expect(c.handle(InputEvent(.key(56, down: true), at: clock.now)) == nil)
            return c.handle(InputEvent(.key(14, down: true), at: clock.now))
        }
    }
}

/// Quick exit: every gesture × every action, what stays in memory, on
/// screen and on flash, and resuming afterwards (Docs/safety.md §4).
@Suite struct SafetyQuickExitTests {
    static let actions: [QuickExitAction] = [.hide, .lock, .wipe]

    @Test(arguments: Gesture.allCases, actions)
    func everyGestureAndActionLeavesNothingBehind(gesture: Gesture, action: QuickExitAction) throws {
        let flash = RAMFlash(geometry: TestGeometry.smallNOR)
        let device = try SafetyDevice.provision(flash)
        let clock = ManualClock()
        let c = try device.controller(flash, policy: try SafetyDevice.policy(action: action), clock: clock)
        try c.unlock(SafetyDevice.pin)
        try c.typeSecrets(notes: true)
        let before = try c.savedState()
        // The secrets are really there before (so the scans below mean something).
        for secret in Secrets.patterns.prefix(4) { #expect(c.memoryContains(secret)) }
        let interviewKey = Array(c.sessionKeyMaterial[64..<96])
        let dataKey = Array(c.sessionKeyMaterial[0..<32])
        #expect(dataKey == device.dataKey)
        #expect(!interviewKey.allSatisfy { $0 == 0 })

        #expect(gesture.perform(on: c, clock: clock) == gesture.trigger)

        // Within that one call: screen, engine buffers and keys are clean.
        for secret in Secrets.patterns { #expect(!c.memoryContains(secret), "\(gesture) \(action)") }
        #expect(c.sessionKeyMaterial.allSatisfy { $0 == 0 })
        #expect(!c.memoryContains(interviewKey))
        #expect(!c.memoryContains(dataKey))
        #expect(!c.isStoreMounted)
        flash.withImage { image in
            for secret in Secrets.patterns.prefix(3) { #expect(!contains(image, secret)) }
            #expect(!contains(image, interviewKey))
        }
        switch action {
        case .hide:
            #expect(c.state == .hidden)
            // The decoy, two screens in, with its plausible answers.
            #expect(c.label == "Where are savings kept?")
            #expect(c.withInterviewOutcome { $0.textAnswer(2) } == "savings group")
            #expect(c.withInterviewOutcome { $0.intAnswer(0) } == 5)
        case .lock:
            #expect(c.state == .locked)
            guard case .lock = c.screen else { Issue.record("not locked"); return }
        case .wipe:
            #expect(c.state == .decoyOnly)
            #expect(c.label == "Where are savings kept?")
            #expect(superblocksBlank(flash))
        }

        // Back to the real interview: only with the PIN, and exactly where it was.
        if action == .hide {
            c.lock()
            #expect(c.state == .locked)
        }
        let result = try c.unlock(SafetyDevice.pin)
        if action == .wipe {
            #expect(result == .notLocked)
            c.lock()
            #expect(try c.unlock(SafetyDevice.pin) == .wrongPIN(attemptsLeft: 4))
            #expect(throws: StoreError.notFormatted) { try mount(flash, dataKey: device.dataKey) }
            return
        }
        #expect(result == .unlocked)
        #expect(c.state == .unlocked)
        #expect(try c.savedState() == before)
        #expect(c.label == "Notes")
        #expect(c.withInterviewOutcome { $0.textAnswer(4) } == Secrets.notes)
        #expect(c.withInterviewOutcome { $0.intAnswer(1) } == Secrets.incidents)
        // And on: back() walks the same history.
        #expect(c.withInterviewOutcome { $0.back() } == .moved)
        #expect(c.label == "Who did it?")
    }

    @Test func theDecoyCanBeAnsweredOnAndNeverReachesFlash() throws {
        let ram = RAMFlash(geometry: TestGeometry.smallNOR)
        let flash = CountingFlash(ram)
        let device = try SafetyDevice.provision(ram)
        let clock = ManualClock()
        let c = try device.controller(flash, policy: try SafetyDevice.policy(), clock: clock)
        try c.unlock(SafetyDevice.pin)
        try c.typeSecrets()
        c.handle(InputEvent(.quickExitControl, at: clock.now))
        #expect(c.state == .hidden)
        let writes = (flash.programs, flash.erases)
        try c.withInterview { iv throws(InterviewError) in try iv.answerText("under the mattress") }
        #expect(c.withInterviewOutcome { $0.next() } == .moved)
        #expect(c.label == "Amount saved last month (RWF)")
        try c.withInterview { iv throws(InterviewError) in try iv.answer(integer: 12_000) }
        #expect(c.withInterviewOutcome { $0.next() } == .moved)
        #expect(try c.finalizeInterview() == nil)
        guard case .home(let title) = c.screen else { Issue.record("not home"); return }
        #expect(String(decoding: title, as: UTF8.self) == "Household savings")
        try c.startInterview()  // another decoy, from its first screen
        #expect(c.label == "How many people live in this household?")
        #expect(flash.programs == writes.0 && flash.erases == writes.1, "the decoy wrote to flash")
        // A second quick exit while hidden changes nothing.
        #expect(c.handle(InputEvent(.quickExitControl, at: clock.now)) == .screenControl)
        #expect(c.state == .hidden)
        // The lock key, then the PIN: the real interview, decoy answers gone.
        #expect(c.handle(InputEvent(.lockRequest, at: clock.now)) == .lockRequest)
        #expect(c.state == .locked)
        #expect(!c.memoryContains(Array("under the mattress".utf8)))
        #expect(try c.unlock(SafetyDevice.pin) == .unlocked)
        #expect(c.label == "Notes")
        #expect(c.withInterviewOutcome { $0.textAnswer(0) } == Secrets.name)
    }

    @Test func quickExitWhileLockedOnlyActsForWipe() throws {
        for action in Self.actions {
            let flash = RAMFlash(geometry: TestGeometry.smallNOR)
            let device = try SafetyDevice.provision(flash)
            let clock = ManualClock()
            let c = try device.controller(flash, policy: try SafetyDevice.policy(action: action), clock: clock)
            #expect(c.handle(InputEvent(.quickExitControl, at: clock.now)) == .screenControl)
            #expect(c.state == (action == .wipe ? .erased : .locked))
            #expect(superblocksBlank(flash) == (action == .wipe))
        }
    }

    @Test func quickExitFromTheHomeScreenHidesTheInstrumentTitle() throws {
        let flash = RAMFlash(geometry: TestGeometry.smallNOR)
        let device = try SafetyDevice.provision(flash)
        let clock = ManualClock()
        let c = try device.controller(flash, policy: try SafetyDevice.policy(), clock: clock)
        try c.unlock(SafetyDevice.pin)
        let recordsBefore = c.mountedStore!.nextRecordID
        c.handle(InputEvent(.quickExitControl, at: clock.now))
        #expect(c.state == .hidden)
        for text in c.screenTexts { #expect(!text.elementsEqual("Family life module".utf8)) }
        #expect(c.label == "Where are savings kept?")
        c.lock()
        try c.unlock(SafetyDevice.pin)
        #expect(c.mountedStore!.nextRecordID == recordsBefore)  // no interview, nothing written
    }

    @Test func autoLockAfterInactivitySavesAndLocks() throws {
        let flash = RAMFlash(geometry: TestGeometry.smallNOR)
        let device = try SafetyDevice.provision(flash)
        let clock = ManualClock()
        let c = try device.controller(flash, policy: try SafetyDevice.policy(autoLock: 60_000), clock: clock)
        try c.unlock(SafetyDevice.pin)
        try c.typeSecrets(notes: true)
        let before = try c.savedState()
        clock.advance(59_999)
        #expect(c.handle(InputEvent(.tick, at: clock.now)) == nil)
        #expect(c.state == .unlocked)
        clock.advance(1)
        #expect(c.handle(InputEvent(.tick, at: clock.now)) == .autoLock)
        #expect(c.state == .locked)
        for secret in Secrets.patterns { #expect(!c.memoryContains(secret)) }
        #expect(c.sessionKeyMaterial.allSatisfy { $0 == 0 })
        try c.unlock(SafetyDevice.pin)
        #expect(try c.savedState() == before)
        // Any enumerator call after the timeout also finds the device locked.
        clock.advance(60_000)
        #expect(throws: SafetyError.locked) { try c.withInterview { $0.next() } }
        #expect(c.state == .locked)
        // Ticks do not count as activity; touches do.
        try c.unlock(SafetyDevice.pin)
        clock.advance(40_000)
        c.handle(InputEvent(.touch, at: clock.now))
        clock.advance(40_000)
        #expect(c.handle(InputEvent(.tick, at: clock.now)) == nil)
        #expect(c.state == .unlocked)
    }

    @Test func autoLockAlsoLocksTheDecoy() throws {
        let flash = RAMFlash(geometry: TestGeometry.smallNOR)
        let device = try SafetyDevice.provision(flash)
        let clock = ManualClock()
        let c = try device.controller(flash, policy: try SafetyDevice.policy(autoLock: 1_000), clock: clock)
        try c.unlock(SafetyDevice.pin)
        try c.typeSecrets()
        c.handle(InputEvent(.quickExitControl, at: clock.now))
        clock.advance(1_000)
        #expect(c.handle(InputEvent(.tick, at: clock.now)) == .autoLock)
        #expect(c.state == .locked)
        try c.unlock(SafetyDevice.pin)
        #expect(c.withInterviewOutcome { $0.textAnswer(2) } == Secrets.story)
    }
}
