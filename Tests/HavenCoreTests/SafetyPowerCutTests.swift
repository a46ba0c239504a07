@testable import HavenCore
import HavenSodium
import Testing

/// Power cuts inside the safety layer's own flash writes: a quick exit's
/// checkpoint and a finished interview's sealing (Docs/safety.md §4.3, §5.5).
@Suite struct SafetyPowerCutTests {
    typealias Faulty = SafetyController<FaultInjectingFlash<RAMFlash>, Sodium, ManualClock>

    /// A device with the secret interview typed and checkpointed (by a lock).
    func prepared(_ policy: SafetyPolicy) throws -> (RAMFlash, SafetyDevice, checkpointed: [UInt8]) {
        let ram = RAMFlash(geometry: TestGeometry.smallNOR)
        let device = try SafetyDevice.provision(ram)
        let c = try device.controller(ram, policy: policy, clock: ManualClock())
        try c.unlock(SafetyDevice.pin)
        try c.typeSecrets()
        let state = try c.savedState()
        c.lock()
        return (ram, device, state)
    }

    /// Cut at every program and erase of a hide: the screen and memory are
    /// clean whatever happened on flash, and after a reboot the PIN resumes
    /// the interview either exactly as hidden or at the checkpoint before.
    @Test func powerCutAtEveryOperationOfAHide() throws {
        let policy = try SafetyDevice.policy(checkpointEvery: 100)
        // Operations of one hide.
        let (probeRAM, probeDevice, _) = try prepared(policy)
        let probeFlash = FaultInjectingFlash(probeRAM)
        let probe = try probeDevice.controller(probeFlash, policy: policy, clock: ManualClock())
        try probe.unlock(SafetyDevice.pin)
        let start = probeFlash.operations
        probe.handle(InputEvent(.quickExitControl, at: 0))
        let total = probeFlash.operations - start
        #expect(total >= 2)

        var exact = 0, earlier = 0
        for cut in 1...total {
            let (ram, device, previous) = try prepared(policy)
            let flash = FaultInjectingFlash(ram)
            let clock = ManualClock()
            let c: Faulty = try device.controller(flash, policy: policy, clock: clock)
            try c.unlock(SafetyDevice.pin)
            #expect(try c.savedState() == previous)
            // One more answer since the last checkpoint: the hide must save it.
            try c.withInterview { iv throws(InterviewError) in try iv.answerText(Secrets.notes) }
            let state = try c.savedState()
            flash.powerCutAt = flash.operations + cut
            #expect(c.handle(InputEvent(.quickExitControl, at: clock.now)) == .screenControl)
            #expect(c.state == .hidden)
            #expect(c.lastStoreError == .flash(.powerLost), "cut \(cut)")
            for secret in Secrets.patterns { #expect(!c.memoryContains(secret), "cut \(cut)") }
            #expect(c.sessionKeyMaterial.allSatisfy { $0 == 0 })
            // Reboot.
            let rebooted = try device.controller(ram, policy: policy, clock: ManualClock())
            #expect(try rebooted.unlock(SafetyDevice.pin) == .unlocked, "cut \(cut)")
            let resumed = try rebooted.savedState()
            if resumed == state { exact += 1 } else if resumed == previous { earlier += 1 } else {
                Issue.record("cut \(cut): resumed neither the hidden state nor the previous checkpoint")
            }
        }
        #expect(exact + earlier == total)
        #expect(earlier >= 1)  // a cut before the checkpoint's commit
    }

    /// Cut at every program and erase of a hide, then reboot and unlock:
    /// exactly one checkpoint is left owed (the one resumed). A cut between
    /// the new checkpoint's append and the retirement of the one it
    /// supersedes used to leave the old one unretired for good — the link
    /// never lists checkpoints, so nothing could acknowledge it and it
    /// pinned the log's tail (found by the field-week soak).
    @Test func noDeadCheckpointIsLeftOwedAfterAnUnlock() throws {
        let policy = try SafetyDevice.policy(checkpointEvery: 100)
        let (probeRAM, probeDevice, _) = try prepared(policy)
        let probeFlash = FaultInjectingFlash(probeRAM)
        let probe = try probeDevice.controller(probeFlash, policy: policy, clock: ManualClock())
        try probe.unlock(SafetyDevice.pin)
        let start = probeFlash.operations
        probe.handle(InputEvent(.quickExitControl, at: 0))
        let total = probeFlash.operations - start
        for cut in 1...total {
            let (ram, device, _) = try prepared(policy)
            let flash = FaultInjectingFlash(ram)
            let clock = ManualClock()
            let c: Faulty = try device.controller(flash, policy: policy, clock: clock)
            try c.unlock(SafetyDevice.pin)
            try c.withInterview { iv throws(InterviewError) in try iv.answerText(Secrets.notes) }
            flash.powerCutAt = flash.operations + cut
            _ = c.handle(InputEvent(.quickExitControl, at: clock.now))
            let rebooted = try device.controller(ram, policy: policy, clock: ManualClock())
            #expect(try rebooted.unlock(SafetyDevice.pin) == .unlocked, "cut \(cut)")
            let store = try #require(rebooted.store)
            var cursor = try store.makeCursor()
            var checkpoints = 0
            while let entry = try store.next(&cursor) {
                guard case .record(let id, _) = entry, !store.isPulled(id) else { continue }
                if try store.read(id).first == SafetyRecordType.checkpoint.rawValue { checkpoints += 1 }
            }
            #expect(checkpoints == 1, "cut \(cut): \(checkpoints) checkpoints owed")
        }
        // Finishing: the sealed record appended, then the header move and the
        // retirement of the interview's checkpoints; after a cut anywhere,
        // either the interview is resumed (one checkpoint owed) or it is
        // sealed (none owed).
        let finishing = try SafetyDevice.policy(checkpointEvery: 2)
        func ready() throws -> (RAMFlash, SafetyDevice) {
            let ram = RAMFlash(geometry: TestGeometry.smallNOR)
            let device = try SafetyDevice.provision(ram)
            let c = try device.controller(ram, policy: finishing, clock: ManualClock())
            try c.unlock(SafetyDevice.pin)
            try c.typeSecrets(notes: true)
            #expect(c.withInterviewOutcome { $0.next() } == .moved)
            c.lock()
            return (ram, device)
        }
        let (finishRAM, finishDevice) = try ready()
        let finishFlash = FaultInjectingFlash(finishRAM)
        let finisher = try finishDevice.controller(finishFlash, policy: finishing, clock: ManualClock())
        try finisher.unlock(SafetyDevice.pin)
        let before = finishFlash.operations
        _ = try finisher.finalizeInterview()
        for cut in 1...(finishFlash.operations - before) {
            let (ram, device) = try ready()
            let flash = FaultInjectingFlash(ram)
            let c: Faulty = try device.controller(flash, policy: finishing, clock: ManualClock())
            try c.unlock(SafetyDevice.pin)
            flash.powerCutAt = flash.operations + cut
            _ = try? c.finalizeInterview()
            let rebooted = try device.controller(ram, policy: finishing, clock: ManualClock())
            #expect(try rebooted.unlock(SafetyDevice.pin) == .unlocked, "cut \(cut)")
            let store = try #require(rebooted.store)
            var cursor = try store.makeCursor()
            var checkpoints = 0
            while let entry = try store.next(&cursor) {
                guard case .record(let id, _) = entry, !store.isPulled(id) else { continue }
                if try store.read(id).first == SafetyRecordType.checkpoint.rawValue { checkpoints += 1 }
            }
            if case .interview = rebooted.screen {
                #expect(checkpoints == 1, "finishing, cut \(cut): resumed with \(checkpoints) checkpoints owed")
            } else {
                #expect(checkpoints == 0, "finishing, cut \(cut): sealed with \(checkpoints) dead checkpoints owed")
            }
        }
    }

    /// Cut at every program and erase of finishing: after a reboot the PIN
    /// gives either the interview to finish again (nothing sealed) or the
    /// home screen with exactly one sealed record — never both, never a
    /// checkpoint that still opens.
    @Test func powerCutAtEveryOperationOfFinishing() throws {
        let policy = try SafetyDevice.policy(checkpointEvery: 2)
        func ready() throws -> (RAMFlash, SafetyDevice) {
            let ram = RAMFlash(geometry: TestGeometry.smallNOR)
            let device = try SafetyDevice.provision(ram)
            let c = try device.controller(ram, policy: policy, clock: ManualClock())
            try c.unlock(SafetyDevice.pin)
            try c.typeSecrets(notes: true)
            #expect(c.withInterviewOutcome { $0.next() } == .moved)  // to the end
            c.lock()
            return (ram, device)
        }
        let (probeRAM, probeDevice) = try ready()
        let probeFlash = FaultInjectingFlash(probeRAM)
        let probe = try probeDevice.controller(probeFlash, policy: policy, clock: ManualClock())
        try probe.unlock(SafetyDevice.pin)
        let start = probeFlash.operations
        _ = try probe.finalizeInterview()
        let total = probeFlash.operations - start
        #expect(total >= 4)  // the append, the header move (2 erases, header, anchor), the retirement

        var resumedCount = 0, sealedCount = 0
        for cut in 1...total {
            let (ram, device) = try ready()
            let flash = FaultInjectingFlash(ram)
            let c: Faulty = try device.controller(flash, policy: policy, clock: ManualClock())
            try c.unlock(SafetyDevice.pin)
            let epoch = c.mountedStore!.checkpointEpoch
            flash.powerCutAt = flash.operations + cut
            do {
                _ = try c.finalizeInterview()
                #expect(c.lastStoreError == .flash(.powerLost), "cut \(cut)")
            } catch {
                #expect(error as? SafetyError == .store(.flash(.powerLost)), "cut \(cut)")
            }
            let rebooted = try device.controller(ram, policy: policy, clock: ManualClock())
            #expect(try rebooted.unlock(SafetyDevice.pin) == .unlocked, "cut \(cut)")
            let store = rebooted.mountedStore!
            let newest = store.newestUnretiredRecord()!
            let record = try store.read(newest)
            if case .interview = rebooted.screen {
                resumedCount += 1
                #expect(record.first == SafetyRecordType.checkpoint.rawValue, "cut \(cut)")
                #expect(rebooted.withInterviewOutcome { $0.textAnswer(2) } == Secrets.story)
            } else {
                sealedCount += 1
                #expect(record.first == SafetyRecordType.sealedInterview.rawValue, "cut \(cut)")
                #expect(store.checkpointEpoch != epoch, "cut \(cut): the old epoch survived")
                let old = epoch.withBytes { Array($0) }
                ram.withImage { #expect(!contains($0, old), "cut \(cut)") }
            }
        }
        #expect(resumedCount + sealedCount == total)
        #expect(resumedCount >= 1 && sealedCount >= 1)
    }
}
