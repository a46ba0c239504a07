import CAllocCounter
@testable import HavenCore
import HavenSodium
import Testing

/// Checkpoints of the interview in progress (Docs/safety.md §5) and the
/// cost of quick exit.
@Suite struct SafetyCheckpointTests {
    @Test func aCheckpointEveryKAnswersSurvivesACrash() throws {
        let flash = RAMFlash(geometry: TestGeometry.smallNOR)
        let device = try SafetyDevice.provision(flash)
        let clock = ManualClock()
        let policy = try SafetyDevice.policy(checkpointEvery: 3)
        var c: RAMSafety? = try device.controller(flash, policy: policy, clock: clock)
        try c!.unlock(SafetyDevice.pin)
        let first = c!.mountedStore!.nextRecordID
        try c!.typeSecrets()  // 4 answers: one checkpoint after the third
        #expect(c!.mountedStore!.nextRecordID == first + 1)
        // The device dies (battery pulled): no lock, no quick exit.
        c = nil
        let rebooted = try device.controller(flash, policy: policy, clock: ManualClock())
        try rebooted.unlock(SafetyDevice.pin)
        // Resumed at the last checkpoint: written by the third answer, on its screen.
        #expect(rebooted.label == "Tell me what happened")
        #expect(rebooted.withInterviewOutcome { $0.textAnswer(2) } == Secrets.story)
        #expect(rebooted.withInterviewOutcome { $0.hasAnswer(3) } == false)
    }

    @Test func supersededCheckpointsAreRetiredAndTheNewestResumes() throws {
        let flash = RAMFlash(geometry: TestGeometry.smallNOR)
        let device = try SafetyDevice.provision(flash)
        let clock = ManualClock()
        let c = try device.controller(flash, policy: try SafetyDevice.policy(checkpointEvery: 1), clock: clock)
        try c.unlock(SafetyDevice.pin)
        try c.typeSecrets(notes: true)  // 5 answers: 5 checkpoints
        let store = c.mountedStore!
        let newest = store.nextRecordID - 1
        #expect(store.newestUnretiredRecord() == newest)
        #expect(store.unpulledCount == 1)  // the four before it are retired
        c.lock()
        try c.unlock(SafetyDevice.pin)
        #expect(c.label == "Notes")
        #expect(c.mountedStore!.unpulledCount == 1)
    }

    /// Discarding (like finishing) replaces the checkpoint epoch: the
    /// interview's checkpoints cannot be opened any more, even by someone
    /// who holds the data key (a coerced PIN) and reads the raw record: the
    /// epoch their wrap key came from is erased from the chip.
    @Test func afterAnInterviewEndsItsCheckpointsAreUnreadableEvenWithTheDataKey() throws {
        let flash = RAMFlash(geometry: TestGeometry.smallNOR)
        let device = try SafetyDevice.provision(flash)
        let clock = ManualClock()
        let c = try device.controller(flash, policy: try SafetyDevice.policy(checkpointEvery: 1), clock: clock)
        try c.unlock(SafetyDevice.pin)
        try c.typeSecrets(notes: true)
        let id = c.mountedStore!.nextRecordID - 1
        let record = try readRecord(flash, device, id)
        let oldEpoch = try Superblock<RAMFlash, Sodium>.inspect(flash).checkpointEpoch
        let state = open(record, device, oldEpoch)
        #expect(state.map { s in s.withUnsafeBytes { contains($0, Array(Secrets.story.utf8)) } } == true)  // readable while in progress

        try c.discardInterview()
        guard case .home = c.screen else { Issue.record("not home"); return }
        let newEpoch = try Superblock<RAMFlash, Sodium>.inspect(flash).checkpointEpoch
        #expect(newEpoch != oldEpoch)
        #expect(open(record, device, newEpoch) == nil)
        let oldBytes = oldEpoch.withBytes { Array($0) }
        flash.withImage { #expect(!contains($0, oldBytes)) }
        c.lock()
        try c.unlock(SafetyDevice.pin)
        guard case .home = c.screen else { Issue.record("resumed a discarded interview"); return }
    }

    func readRecord(_ flash: RAMFlash, _ device: SafetyDevice, _ id: UInt64) throws -> [UInt8] {
        let store = try mount(flash, dataKey: device.dataKey)
        defer { store.close() }
        return try store.read(id)
    }

    /// A checkpoint record opened as an adversary with the data key would.
    func open(_ record: [UInt8], _ device: SafetyDevice, _ epoch: CheckpointEpoch) -> [UInt8]? {
        var record = record
        var wrap = [UInt8](repeating: 0, count: 32)
        var key = [UInt8](repeating: 0, count: 32)
        device.dataKey.withUnsafeBytes { dk in
            wrap.withUnsafeMutableBytes { CheckpointCodec<Sodium>.deriveWrapKey(dataKey: dk, epoch: epoch, into: $0) }
        }
        let n = record.count
        return record.withUnsafeMutableBytes { r in
            wrap.withUnsafeBytes { w in
                key.withUnsafeMutableBytes { k in
                    CheckpointCodec<Sodium>.open(r, length: n, wrapKey: w, interviewKey: k).map { Array($0) }
                }
            }
        }
    }

    /// A record left live by a power cut (or pulled-set fragmentation) is
    /// dead ciphertext once the epoch moves: unlocking with nothing to
    /// resume always draws a new epoch.
    @Test func unlockWithoutAnInterviewDrawsANewEpoch() throws {
        let flash = RAMFlash(geometry: TestGeometry.smallNOR)
        let device = try SafetyDevice.provision(flash)
        let c = try device.controller(flash, policy: try SafetyDevice.policy(), clock: ManualClock())
        try c.unlock(SafetyDevice.pin)
        let first = c.mountedStore!.checkpointEpoch
        c.lock()
        try c.unlock(SafetyDevice.pin)
        #expect(c.mountedStore!.checkpointEpoch != first)
        try c.typeSecrets()
        c.lock()
        let during = try Superblock<RAMFlash, Sodium>.inspect(flash).checkpointEpoch
        try c.unlock(SafetyDevice.pin)
        #expect(c.mountedStore!.checkpointEpoch == during)  // resuming keeps it
    }

    /// Quick exit allocates nothing and scans no flash, with 10 or 2,000
    /// records in the store: 40 hide/lock/unlock cycles on 4 KiB blocks, so
    /// some quick exits open a new block for their checkpoint. The only reads
    /// are then that block's old header (its erase count): at most two.
    @Test(arguments: [10, 2_000])
    func quickExitAllocatesNothingAndScansNoFlash(records: Int) throws {
        // A first pass warms up what the runtime allocates once per process
        // (generic metadata on first use in debug builds); the second counts.
        try quickExitRun(records: 10, check: false)
        try quickExitRun(records: records, check: true)
    }

    func quickExitRun(records: Int, check: Bool) throws {
        let ram = RAMFlash(geometry: try FlashGeometry(programUnit: 16, eraseBlockSize: 4096, blockCount: 400))
        let flash = CountingFlash(ram)
        let device = try SafetyDevice.provision(ram)
        do {
            let store = try mount(ram, dataKey: device.dataKey)
            for n in 0..<records { try store.append(recordBytes(n, length: 200)) }
            store.close()
        }
        let clock = ManualClock()
        var maxReads = 0
        var maxAllocations: UInt64 = 0
        var blockOpenings = 0
        for action in [QuickExitAction.hide, .lock, .wipe] {
            let c = try device.controller(flash, policy: try SafetyDevice.policy(action: action), clock: clock)
            for _ in 0..<(action == .hide ? 40 : 1) {
                try c.unlock(SafetyDevice.pin)
                if case .home = c.screen { try c.typeSecrets(notes: true) }  // else resumed
                #expect(c.label == "Notes")
                let event = InputEvent(.quickExitControl, at: clock.now)
                let reads = flash.reads, erases = flash.erases
                let before = haven_thread_allocations()
                let fired = c.handle(event)
                maxAllocations = max(maxAllocations, haven_thread_allocations() - before)
                maxReads = max(maxReads, flash.reads - reads)
                #expect(fired == .screenControl)
                #expect(flash.erases - erases <= 3)  // a block opened, and its anchor moving the superblock
                if action != .wipe && flash.erases > erases { blockOpenings += 1 }
                if action == .hide { c.lock() }
            }
        }
        guard check else { return }
        #expect(maxAllocations == 0)
        #expect(maxReads <= 2)
        #expect(blockOpenings >= 3, "no quick exit opened a block: the read bound was not exercised")
    }
}
