// `haven-bench safety`: quick exit (issue 4).
//
// Time from the trigger event (`SafetyController.handle` with the on-screen
// control) to the decoy on screen with the real interview's answers wiped
// and every key zeroized, with 10 and with 100,000 records in the store
// (target: under 50 µs, and no growth with the data). The device runs the
// real dv_module interview, stopped on a sensitive screen, with the
// household-savings decoy. Baseline: `Interview.wipe()` alone on the same
// instrument and limits with the same answers (the irreducible part: the
// engine's buffers zeroed). Also counted per quick exit: heap allocations
// (must be 0) and flash reads (at most the two copies of an old block
// header when a block is opened), and the lock and wipe actions.

import ArgumentParser
import CAllocCounter
import Foundation
import HavenCore
import HavenHost
import HavenSodium

struct SafetyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "safety",
        abstract: "Quick exit: trigger to decoy screen with keys zeroized, 10 vs 100,000 stored records."
    )

    @Option(help: "Folder of the fixture forms.")
    var fixtures = "Tests/Fixtures/forms"

    @Option(help: "Quick exits timed per store size and action (medians are reported).")
    var repetitions = 300

    @Option(help: "Store sizes (records already stored when the interview runs).")
    var sizes: [Int] = [10, 100_000]

    @Flag(help: "Print a Markdown section for BENCHMARKS.md.")
    var markdown = false

    static let pin = Array("482916".utf8)
    static let salt = [UInt8](repeating: 0x33, count: 16)
    static let deviceSecret = [UInt8](repeating: 0x42, count: 32)

    func run() throws {
        let real = try compile("dv_module")
        let decoy = try compile("decoy_savings")
        let recipient = AgeIdentity.generate().recipient.publicKey
        var rows: [Row] = []
        for size in sizes {
            note("safety: building a store with \(size) records")
            let bench = try Bench(records: size, real: real, decoy: decoy, recipient: recipient)
            for action in [QuickExitAction.hide, .lock, .wipe] {
                rows.append(try bench.measure(action, repetitions: action == .wipe ? min(repetitions, 40) : repetitions))
            }
        }
        let baseline = try baselineWipe(real)

        var table = Table(["records", "action", "quick exit µs (median)", "min–max µs", "baseline wipe() µs",
                           "ratio", "allocations (all runs)", "flash reads (max per exit)", "flash writes (max per exit)",
                           "target", "result"],
                          rightAligned: [true, false, true, true, true, true, true, true, true, false, false])
        for r in rows {
            let median = r.times.median * 1e6
            let ok = median < 50 && r.allocations == 0 && r.reads <= 2
            table.add([grouped(Double(r.records)), r.action, fixed(median, 2),
                       fixed(r.times.min * 1e6, 2) + "–" + fixed(r.times.max * 1e6, 2), fixed(baseline.median * 1e6, 2),
                       fixed(median / (baseline.median * 1e6), 2) + "×", String(r.allocations), String(r.reads),
                       r.writes, "< 50 µs, 0 alloc, ≤ 2 reads", verdict(ok)])
        }
        let hides = rows.filter { $0.action == "hide" }
        let growth = hides.count >= 2 ? hides.last!.times.median / hides.first!.times.median : 1
        let machine = MachineInfo.current()
        if markdown {
            print("""
                ## Safety: quick exit (issue 4)

                Command (from the repository root):

                ```sh
                swift run -c release haven-bench safety --markdown
                ```

                - Machine: \(machine.summary).
                - Device: `SafetyController<RAMFlash, Sodium, _>` on a 16-byte-unit, 64 KiB-block RAM flash, \
                real instrument `dv_module` (standard `EngineLimits`: 8,192 answer slots, 64 KiB text arena) \
                stopped on `injured` inside the sensitive section, decoy `decoy_savings` prepared three screens in. \
                The store holds N records of 301 bytes (type 1 ‖ 300 bytes, like sealed interviews) before the interview starts.
                - Timed: one `handle(InputEvent(.quickExitControl))` call, from the event to the return (decoy \
                screen model ready, the engine's buffers wiped, data/wrap/interview keys zeroized, store closed; \
                for hide and lock the checkpoint sealed and appended, the previous one retired; for wipe the two \
                superblock erases). \(repetitions) quick exits per row (40 for wipe, whose store image is restored \
                before each), each after an unlock that resumes the interview; median, min and max. \
                Allocations (`haven_thread_allocations()`, summed over all timed runs) and flash operations \
                (maximum over the runs) counted around the same call. The only reads are the old block header \
                (two copies at most) when the checkpoint opens a new block, to carry its erase count: a constant, \
                whatever the number of records.
                - Baseline: `Interview.wipe()` alone on an engine with the same instrument, limits and answers \
                (the zeroing of the engine's buffers, which every action must do), \(repetitions) runs, median.
                - No growth: median hide at \(grouped(Double(sizes.last ?? 0))) records / median hide at \
                \(grouped(Double(sizes.first ?? 0))) records = \(fixed(growth, 2)).

                \(table.markdown())
                """)
        } else {
            print(table.text())
            print("  hide median growth \(sizes.last ?? 0) / \(sizes.first ?? 0) records: \(fixed(growth, 2))")
        }
    }

    struct Row {
        var records: Int
        var action: String
        var times: Summary
        var allocations: UInt64
        var reads: Int
        var writes: String
    }

    func compile(_ name: String) throws -> Instrument {
        let xml = try Data(contentsOf: URL(fileURLWithPath: fixtures + "/" + name + ".xml"))
        return try Instrument(bytes: try FormCompiler.compile(xml: xml, sourceName: name,
                                                              limits: CompileLimits(repeatCapacity: 50)))
    }

    /// `Interview.wipe()` on the same instrument and answers, refilled from
    /// saved state between runs (not timed).
    func baselineWipe(_ instrument: Instrument) throws -> Summary {
        let interview = try Interview(instrument: instrument, clock: BenchClock(), randomSeed: 1)
        try Bench.answerUpToInjured(interview)
        let state = interview.save()
        var times: [Double] = []
        for _ in 0..<repetitions {
            try state.withUnsafeBytes { try interview.reload($0, randomSeed: 2) }
            times.append(timed { interview.wipe() })
        }
        return Summary(times)
    }
}

/// Monotonic milliseconds from the bench clock; 10 June 2024.
final class BenchClock: SafetyClock {
    func monotonicMilliseconds() -> UInt64 { monotonicNanoseconds() / 1_000_000 }
    func today() -> Int32 { 19_884 }
}

/// RAM flash that counts reads, programs and erases.
final class CountedFlash: Flash {
    let inner: RAMFlash
    var reads = 0, programs = 0, erases = 0
    var geometry: FlashGeometry { inner.geometry }
    init(_ inner: RAMFlash) { self.inner = inner }
    func read(block: Int, offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(FlashError) {
        reads += 1
        try inner.read(block: block, offset: offset, into: buffer)
    }
    func program(block: Int, offset: Int, from data: UnsafeRawBufferPointer) throws(FlashError) {
        programs += 1
        try inner.program(block: block, offset: offset, from: data)
    }
    func erase(block: Int) throws(FlashError) {
        erases += 1
        try inner.erase(block: block)
    }
    func sync() throws(FlashError) { try inner.sync() }
}

/// One provisioned device with `records` records stored.
final class Bench {
    typealias Controller = SafetyController<CountedFlash, Sodium, BenchClock>
    let ram: RAMFlash
    let flash: CountedFlash
    let records: Int
    let image: [UInt8]
    let real: Instrument, decoy: Instrument
    let recipient: [UInt8]

    init(records: Int, real: Instrument, decoy: Instrument, recipient: [UInt8]) throws {
        self.records = records
        self.real = real
        self.decoy = decoy
        self.recipient = recipient
        // 416 bytes of ring per 301-byte record, plus room for the checkpoints of the run.
        let blocks = 2 + (records * 416) / 65_000 + 48
        ram = RAMFlash(geometry: try FlashGeometry(programUnit: 16, eraseBlockSize: 65_536, blockCount: blocks))
        flash = CountedFlash(ram)
        var dataKey = [UInt8](repeating: 0, count: 32)
        dataKey.withUnsafeMutableBytes { Sodium.randomBytes($0) }
        var kek = [UInt8](repeating: 0, count: 32)
        try SafetyCommand.pin.withUnsafeBytes { p in
            try SafetyCommand.salt.withUnsafeBytes { s in
                try SafetyCommand.deviceSecret.withUnsafeBytes { d in
                    try kek.withUnsafeMutableBytes { k in
                        try KeySlots<Sodium>.pinKEK(pin: p, salt: s, iterations: 1, memoryKiB: 8, deviceSecret: d, kek: k)
                    }
                }
            }
        }
        let slot = dataKey.withUnsafeBytes { dk in
            kek.withUnsafeBytes { k in
                KeySlots<Sodium>.wrap(dataKey: dk, kek: k, index: 0, kind: .pin, kdfIterations: 1, kdfMemoryKiB: 8,
                                      salt: SafetyCommand.salt)
            }
        }
        let ram = self.ram
        try dataKey.withUnsafeBytes { dk in
            try Superblock<RAMFlash, Sodium>.format(ram, dataKey: dk, slots: [slot])
            let store = try LogStore<RAMFlash, Sodium>(flash: ram, dataKey: dk)
            var record = [UInt8](repeating: 0, count: 301)
            record[0] = SafetyRecordType.sealedInterview.rawValue
            try record.withUnsafeMutableBytes { r in
                Sodium.randomBytes(UnsafeMutableRawBufferPointer(rebasing: r[1...]))
                for _ in 0..<records { try store.append(UnsafeRawBufferPointer(r)) }
            }
            store.close()
        }
        image = ram.withImage { Array($0) }
    }

    func controller(_ action: QuickExitAction) throws -> Controller {
        let policy = SafetyPolicy(maxFailures: 10, backoffMilliseconds: [], quickExitControl: true,
                                  quickExitAction: action, autoLockMilliseconds: 0, checkpointEveryAnswers: 1_000,
                                  decoyScreensIn: 3, recipients: recipient)
        return try SafetyCommand.deviceSecret.withUnsafeBytes {
            try Controller(flash: flash, policy: policy, deviceSecret: $0, instrument: real, decoy: decoy,
                           clock: BenchClock())
        }
    }

    func unlock(_ c: Controller) throws {
        let result = try SafetyCommand.pin.withUnsafeBytes { try c.attemptUnlock(pin: $0) }
        guard result == .unlocked else { throw CommandFailure("unlock: \(result)") }
    }

    /// Restores the chip as built (after a wipe).
    func restore() {
        image.withUnsafeBytes { ram.overwrite(block: 0, offset: 0, with: $0) }
    }

    func measure(_ action: QuickExitAction, repetitions: Int) throws -> SafetyCommand.Row {
        restore()
        var times: [Double] = []
        var allocations: UInt64 = 0
        var reads = 0
        var programs = 0, erases = 0
        var c = try controller(action)
        for rep in 0..<(repetitions + 3) {
            if action == .wipe {
                restore()
                c = try controller(action)
            }
            try unlock(c)
            if case .home = c.screen {
                try c.startInterview()
                try c.withInterview { iv throws(InterviewError) in try Bench.answerUpToInjured(iv) }
            }
            guard case .interview(let s) = c.screen, s.isSensitive else { throw CommandFailure("not on a sensitive screen") }
            let event = InputEvent(.quickExitControl, at: monotonicNanoseconds() / 1_000_000)
            let r0 = flash.reads, p0 = flash.programs, e0 = flash.erases
            let a0 = haven_thread_allocations()
            let start = monotonicNanoseconds()
            c.handle(event)
            let elapsed = Double(monotonicNanoseconds() - start) / 1e9
            let a1 = haven_thread_allocations()
            guard c.sessionKeyMaterial.allSatisfy({ $0 == 0 }), !c.isStoreMounted else {
                throw CommandFailure("keys not zeroized")
            }
            switch action {
            case .hide, .wipe:
                guard case .interview(let d) = c.screen, !d.isSensitive, c.state == (action == .hide ? .hidden : .decoyOnly)
                else { throw CommandFailure("no decoy on screen") }
            case .lock:
                guard case .lock = c.screen else { throw CommandFailure("not locked") }
            }
            if rep >= 3 {  // warm-up
                times.append(elapsed)
                allocations += a1 - a0
                reads = max(reads, flash.reads - r0)
                programs = max(programs, flash.programs - p0)
                erases = max(erases, flash.erases - e0)
            }
            if action == .hide { c.lock() }
        }
        let name: String
        switch action {
        case .hide: name = "hide"
        case .lock: name = "lock"
        case .wipe: name = "wipe"
        }
        return SafetyCommand.Row(records: records, action: name, times: Summary(times), allocations: allocations,
                                 reads: reads, writes: "≤ \(programs) prog, ≤ \(erases) erase")
    }

    /// dv_module: consent, background, into the sensitive section, up to `injured`.
    static func answerUpToInjured(_ iv: Interview<BenchClock>) throws(InterviewError) {
        func pick(_ value: String) throws(InterviewError) {
            var i = 0
            while i < iv.screen.choiceCount {
                if String(decoding: iv.choice(at: i)!.value, as: UTF8.self) == value {
                    if iv.screen.questionType == .selectMultiple { try iv.toggleChoice(at: i) } else { try iv.answer(choiceAt: i) }
                    return
                }
                i += 1
            }
        }
        func text(_ s: String) throws(InterviewError) {
            let bytes = Array(s.utf8)
            let failure = bytes.withUnsafeBytes { b -> InterviewError? in
                do throws(InterviewError) { try iv.answer(text: b); return nil } catch { return error }
            }
            if let failure { throw failure }
        }
        _ = iv.next()                      // intro
        try pick("yes"); _ = iv.next()     // consent
        _ = iv.next()                      // round
        try iv.answer(integer: 37); _ = iv.next()
        _ = iv.next()                      // age note
        try pick("married"); _ = iv.next()
        try iv.answer(integer: 3); _ = iv.next()
        try text("KG0412"); _ = iv.next()
        try iv.answer(date: 19_883); _ = iv.next()
        _ = try iv.choose(yes: true)       // privacy check
        try pick("yes"); _ = iv.next()     // ever_hurt
        try pick("slap"); try pick("punch"); _ = iv.next()
        try iv.answer(integer: 317); _ = iv.next()
    }
}
