@testable import HavenCore
import HavenSodium
import Testing

/// PIN unlock, back-off, the failure count on flash, the Nth-failure wipe
/// and the duress PIN (Docs/safety.md §2–3).
@Suite struct SafetyUnlockTests {
    let geometry = TestGeometry.smallNOR

    @Test func rightPINUnlocksAndClearsTheCount() throws {
        let flash = RAMFlash(geometry: geometry)
        let device = try SafetyDevice.provision(flash)
        let clock = ManualClock()
        let c = try device.controller(flash, policy: try SafetyDevice.policy(), clock: clock)
        #expect(c.state == .locked)
        #expect(!c.isStoreMounted)
        #expect(c.sessionKeyMaterial.allSatisfy { $0 == 0 })
        guard case .lock(let lock) = c.screen else { Issue.record("not the lock screen"); return }
        #expect(lock == LockScreen(backoffRemaining: 0, attemptsLeft: 5))

        #expect(try c.unlock(SafetyDevice.wrongPIN) == .wrongPIN(attemptsLeft: 4))
        #expect(try Superblock<RAMFlash, Sodium>.inspect(flash).pinGuard.failures == 1)
        #expect(try c.unlock(SafetyDevice.pin) == .unlocked)
        #expect(c.state == .unlocked)
        #expect(c.isStoreMounted)
        #expect(try Superblock<RAMFlash, Sodium>.inspect(flash).pinGuard.failures == 0)
        guard case .home(let title) = c.screen else { Issue.record("not home"); return }
        #expect(String(decoding: title, as: UTF8.self) == "Family life module")
        // Nothing to unlock any more.
        #expect(try c.unlock(SafetyDevice.pin) == .notLocked)
    }

    @Test func wrongPINsGrowTheBackoffAndRefuseEarlyAttemptsWithoutCounting() throws {
        let flash = RAMFlash(geometry: geometry)
        let device = try SafetyDevice.provision(flash)
        let clock = ManualClock()
        let c = try device.controller(flash, policy: try SafetyDevice.policy(maxFailures: 10), clock: clock)
        // Schedule [0, 0, 1000, 5000, 30000]: the 2nd failure waits 1 s, the 3rd 5 s, then 30 s.
        #expect(try c.unlock(SafetyDevice.wrongPIN) == .wrongPIN(attemptsLeft: 9))
        #expect(c.state == .locked)
        #expect(try c.unlock(SafetyDevice.wrongPIN) == .wrongPIN(attemptsLeft: 8))
        #expect(c.state == .unlocking(backoffRemaining: 1_000))
        clock.advance(400)
        #expect(try c.unlock(SafetyDevice.pin) == .backingOff(remaining: 600))  // even the right PIN waits
        #expect(try Superblock<RAMFlash, Sodium>.inspect(flash).pinGuard.failures == 2)  // not counted
        clock.advance(600)
        #expect(try c.unlock(SafetyDevice.wrongPIN) == .wrongPIN(attemptsLeft: 7))
        #expect(c.state == .unlocking(backoffRemaining: 5_000))
        clock.advance(5_000)
        #expect(try c.unlock(SafetyDevice.wrongPIN) == .wrongPIN(attemptsLeft: 6))
        #expect(c.state == .unlocking(backoffRemaining: 30_000))
        clock.advance(30_000)
        #expect(try c.unlock(SafetyDevice.wrongPIN) == .wrongPIN(attemptsLeft: 5))
        #expect(c.state == .unlocking(backoffRemaining: 30_000))  // the last step repeats
        guard case .lock(let lock) = c.screen else { Issue.record("not the lock screen"); return }
        #expect(lock == LockScreen(backoffRemaining: 30_000, attemptsLeft: 5))
        clock.advance(30_000)
        #expect(try c.unlock(SafetyDevice.pin) == .unlocked)
        #expect(try Superblock<RAMFlash, Sodium>.inspect(flash).pinGuard.failures == 0)
    }

    @Test func attemptsLeftAreHiddenUnlessThePolicyShowsThem() throws {
        let flash = RAMFlash(geometry: geometry)
        let device = try SafetyDevice.provision(flash)
        var policy = try SafetyDevice.policy()
        policy.showAttemptsLeft = false
        let c = try device.controller(flash, policy: policy, clock: ManualClock())
        #expect(try c.unlock(SafetyDevice.wrongPIN) == .wrongPIN(attemptsLeft: nil))
        guard case .lock(let lock) = c.screen else { Issue.record("not the lock screen"); return }
        #expect(lock.attemptsLeft == nil)
    }

    @Test func aRebootKeepsTheCountAndRestartsTheBackoffFromBoot() throws {
        let flash = RAMFlash(geometry: geometry)
        let device = try SafetyDevice.provision(flash)
        let clock = ManualClock()
        let policy = try SafetyDevice.policy(maxFailures: 10)
        let c = try device.controller(flash, policy: policy, clock: clock)
        _ = try c.unlock(SafetyDevice.wrongPIN)
        _ = try c.unlock(SafetyDevice.wrongPIN)
        clock.advance(1_000)
        _ = try c.unlock(SafetyDevice.wrongPIN)  // 3 failures: 5 s
        // Power off and on: the monotonic clock starts again near zero.
        let booted = ManualClock(now: 20)
        let again = try device.controller(flash, policy: policy, clock: booted)
        #expect(again.state == .unlocking(backoffRemaining: 5_000))
        #expect(try again.unlock(SafetyDevice.pin) == .backingOff(remaining: 5_000))
        booted.advance(5_000)
        #expect(try again.unlock(SafetyDevice.wrongPIN) == .wrongPIN(attemptsLeft: 6))
        #expect(again.state == .unlocking(backoffRemaining: 30_000))
    }

    /// A power cut at every program and erase of two wrong attempts: after
    /// each reboot the count on flash is at least the number of attempts
    /// whose "wrong" was seen (cutting power never buys a free guess), at
    /// most the number started, the back-off from boot follows it, and the
    /// right PIN still opens the store.
    /// A device provisioned and, when `withInterview`, used once: an
    /// interview in progress is on flash (so header moves carry an anchor).
    func device(_ ram: RAMFlash, withInterview: Bool, policy: SafetyPolicy) throws -> SafetyDevice {
        let device = try SafetyDevice.provision(ram)
        if withInterview {
            let c = try device.controller(ram, policy: policy, clock: ManualClock())
            try c.unlock(SafetyDevice.pin)
            try c.typeSecrets()
            c.lock()
        }
        return device
    }

    @Test(arguments: [false, true])
    func powerCutAtEveryOperationOfTwoWrongAttemptsNeverLosesTheCount(withInterview: Bool) throws {
        let policy = try SafetyDevice.policy(maxFailures: 10, backoff: [0, 2_000, 7_000, 9_000])
        // Count the operations of two wrong attempts.
        let probe = RAMFlash(geometry: geometry)
        let probeDevice = try device(probe, withInterview: withInterview, policy: policy)
        let counting = FaultInjectingFlash(probe)
        let clock = ManualClock()
        let p = try probeDevice.controller(counting, policy: policy, clock: clock)
        _ = try p.unlock(SafetyDevice.wrongPIN)
        clock.advance(2_000)
        _ = try p.unlock(SafetyDevice.wrongPIN)
        let total = counting.operations
        // Each attempt is one header move: erase twin, program header (and
        // the carried anchor, if any), erase the old block.
        #expect(total == (withInterview ? 8 : 6))

        var cutsSeen = 0
        for cut in 1...total {
            let ram = RAMFlash(geometry: geometry)
            let device = try device(ram, withInterview: withInterview, policy: policy)
            let flash = FaultInjectingFlash(ram, powerCutAt: cut, seed: UInt64(cut))
            let clock = ManualClock()
            let c = try device.controller(flash, policy: policy, clock: clock)
            var seen = 0
            var started = 0
            for _ in 0..<2 {
                started += 1
                do {
                    let result = try c.unlock(SafetyDevice.wrongPIN)
                    guard case .wrongPIN = result else { Issue.record("cut \(cut): \(result)"); break }
                    seen += 1
                    clock.advance(2_000)
                } catch let error as SafetyError {
                    #expect(error == .store(.flash(.powerLost)), "cut \(cut)")
                    cutsSeen += 1
                    break
                }
            }
            // Reboot on the same chip.
            let boot = ManualClock(now: 5)
            let rebooted = try device.controller(ram, policy: policy, clock: boot)
            let onFlash = try Superblock<RAMFlash, Sodium>.inspect(ram).pinGuard.failures
            #expect(Int(onFlash) >= seen, "cut \(cut): \(onFlash) on flash, \(seen) seen")
            #expect(Int(onFlash) <= started, "cut \(cut): \(onFlash) on flash, \(started) started")
            let wait = policy.backoff(afterFailures: onFlash)
            #expect(rebooted.state == (wait > 0 ? .unlocking(backoffRemaining: wait) : .locked), "cut \(cut)")
            boot.advance(wait)
            #expect(try rebooted.unlock(SafetyDevice.pin) == .unlocked, "cut \(cut)")
            #expect(try Superblock<RAMFlash, Sodium>.inspect(ram).pinGuard.failures == 0)
            if withInterview {
                // The interview in progress survived the cut intact.
                #expect(rebooted.label == "Notes", "cut \(cut)")
                #expect(rebooted.withInterviewOutcome { $0.textAnswer(2) } == Secrets.story)
            }
        }
        #expect(cutsSeen == total)
    }

    @Test func theNthFailureCryptoErasesBeforeReporting() throws {
        let flash = RAMFlash(geometry: geometry)
        let device = try SafetyDevice.provision(flash)
        let clock = ManualClock()
        let policy = try SafetyDevice.policy(maxFailures: 3, backoff: [])
        // Something worth protecting on flash first: an interview in progress.
        let c = try device.controller(flash, policy: policy, clock: clock)
        try c.unlock(SafetyDevice.pin)
        try c.typeSecrets()
        c.lock()
        #expect(try c.unlock(SafetyDevice.wrongPIN) == .wrongPIN(attemptsLeft: 2))
        #expect(try c.unlock(SafetyDevice.wrongPIN) == .wrongPIN(attemptsLeft: 1))
        #expect(!superblocksBlank(flash))
        #expect(try c.unlock(SafetyDevice.wrongPIN) == .wrongPIN(attemptsLeft: 0))
        #expect(c.state == .erased)
        // A scan of the whole chip finds no superblock and no key slot.
        #expect(superblocksBlank(flash))
        #expect(throws: StoreError.notFormatted) { try Superblock<RAMFlash, Sodium>.inspect(flash) }
        // Nothing decrypts, even with the data key itself.
        #expect(throws: StoreError.notFormatted) { try mount(flash, dataKey: device.dataKey) }
        flash.withImage { image in
            for secret in Secrets.patterns { #expect(!contains(image, secret)) }
        }
        // The right PIN opens nothing now; the lock screen looks as before.
        #expect(try c.unlock(SafetyDevice.pin) == .wrongPIN(attemptsLeft: 0))
        let rebooted = try device.controller(flash, policy: policy, clock: ManualClock())
        #expect(rebooted.state == .erased)
        #expect(try rebooted.unlock(SafetyDevice.pin) == .wrongPIN(attemptsLeft: 2))
    }

    @Test func duressPINErasesSilentlyAndOpensTheDecoyOnly() throws {
        let flash = RAMFlash(geometry: geometry)
        let device = try SafetyDevice.provision(flash)
        let clock = ManualClock()
        let policy = try SafetyDevice.policy()
        let c = try device.controller(flash, policy: policy, clock: clock)
        try c.unlock(SafetyDevice.pin)
        try c.typeSecrets(notes: true)
        c.lock()
        #expect(!superblocksBlank(flash))

        // Coerced: the duress PIN looks exactly like the real one…
        #expect(try c.unlock(SafetyDevice.duressPIN) == .unlocked)
        #expect(c.state == .decoyOnly)
        guard case .home(let title) = c.screen else { Issue.record("not home"); return }
        #expect(String(decoding: title, as: UTF8.self) == "Household savings")
        // …but the real data is gone.
        #expect(superblocksBlank(flash))
        #expect(throws: StoreError.notFormatted) { try mount(flash, dataKey: device.dataKey) }
        #expect(!c.isStoreMounted)
        #expect(c.sessionKeyMaterial.allSatisfy { $0 == 0 })
        for secret in Secrets.patterns { #expect(!c.memoryContains(secret)) }

        // The device behaves as a normal one with only the decoy.
        try c.startInterview()
        #expect(c.label == "How many people live in this household?")
        try c.withInterview { iv throws(InterviewError) in try iv.answer(integer: 6) }
        #expect(c.withInterviewOutcome { $0.next() } == .moved)
        #expect(c.label == "Does the household save money?")
        flash.withImage { image in #expect(image.allSatisfy { $0 == 0xFF } || !contains(image, Array("HAVNSTOR".utf8))) }
        #expect(try c.finalizeInterview() == nil)  // decoy answers are dropped, never stored
        #expect(superblocksBlank(flash))

        // Locked again (or rebooted), the duress PIN still opens the decoy;
        // the real PIN opens nothing.
        c.lock()
        #expect(c.state == .erased)
        #expect(try c.unlock(SafetyDevice.pin) == .wrongPIN(attemptsLeft: 4))
        let rebooted = try device.controller(flash, policy: policy, clock: ManualClock())
        #expect(try rebooted.unlock(SafetyDevice.duressPIN) == .unlocked)
        #expect(rebooted.state == .decoyOnly)
    }

    /// Also with the device-bound verifier a config install stores
    /// (Docs/config-format.md §5.3): the binding HMAC runs for every PIN.
    @Test(.serialized, arguments: [false, true])
    func duressRealAndWrongPINsDoTheSameCryptographicWork(bound: Bool) throws {
        var counts: [String: CryptoCounts] = [:]
        let verifier = try SafetyDevice.deviceSecret.withUnsafeBytes { secret in
            bound ? try SafetyDevice.duressVerifier().bound(Sodium.self, deviceSecret: secret)
                  : try SafetyDevice.duressVerifier()
        }
        for (name, pin) in [("real", SafetyDevice.pin), ("duress", SafetyDevice.duressPIN), ("wrong", SafetyDevice.wrongPIN)] {
            let flash = RAMFlash(geometry: geometry)
            let device = try SafetyDevice.provision(flash)
            let slots = try Superblock<RAMFlash, Sodium>.inspect(flash).slots
            var dataKey = [UInt8](repeating: 0, count: 32)
            var scratch = [UInt8](repeating: 0, count: 96)
            _ = device
            var tally = CryptoCounts()
            let verdict = try CountingSodium.counting(into: &tally) { () throws -> PinVerdict in
                try Array(pin.utf8).withUnsafeBytes { p in
                    try SafetyDevice.deviceSecret.withUnsafeBytes { secret in
                        try dataKey.withUnsafeMutableBytes { dk in
                            try scratch.withUnsafeMutableBytes { s in
                                try PinCheck<CountingSodium>.check(pin: p, slots: slots, duress: verifier,
                                                                   deviceSecret: secret, dataKey: dk, scratch: s)
                            }
                        }
                    }
                }
            }
            counts[name] = tally
            #expect(verdict == (name == "real" ? .real : name == "duress" ? .duress : .wrong))
            #expect(scratch.allSatisfy { $0 == 0 })
            if name != "real" { #expect(dataKey.allSatisfy { $0 == 0 }) }
        }
        #expect(counts["real"] == counts["duress"])
        #expect(counts["real"] == counts["wrong"])
        #expect(counts["real"]?.argon2id == 1)  // one Argon2id for slot and verifier (same salt and cost)
    }
}

extension SafetyController {
    /// `withInterview` for a non-throwing body, as a plain value (nil when refused).
    func withInterviewOutcome<R>(_ body: (Interview<Clock>) -> R) -> R? {
        do throws(SafetyError) { return try withInterview { iv throws(InterviewError) in body(iv) } } catch { return nil }
    }
}
