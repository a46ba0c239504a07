@testable import HavenCore
import HavenSodium

/// A clock the test moves by hand: monotonic milliseconds and a fixed day.
final class ManualClock: SafetyClock {
    var now: UInt64
    let day: Int32

    init(now: UInt64 = 1_000, day: Int32 = FixedClock(year: 2024, month: 6, day: 10).today()) {
        self.now = now
        self.day = day
    }

    func monotonicMilliseconds() -> UInt64 { now }
    func today() -> Int32 { day }
    func advance(_ ms: UInt64) { now += ms }
}

typealias RAMSafety = SafetyController<RAMFlash, Sodium, ManualClock>

/// A provisioned test device: flash formatted with one PIN slot (cheap
/// Argon2id: t = 1, 8 KiB), the device secret, a duress verifier with the
/// same salt and cost, and the two instruments.
struct SafetyDevice {
    static let pin = "2468"
    static let duressPIN = "1357"
    static let wrongPIN = "0000"
    static let salt = [UInt8](repeating: 0x5A, count: 16)
    static let iterations: UInt32 = 1
    static let memoryKiB: UInt32 = 8
    static let deviceSecret = [UInt8]((0..<32).map { UInt8($0 &* 3 &+ 11) })
    static let recipients = [UInt8](repeating: 9, count: 32)

    var dataKey: [UInt8]
    let real: Instrument
    let decoy: Instrument

    /// Formats `flash` for `pin` and returns the device (with its data key,
    /// which a real device never exposes: tests use it to prove what can
    /// and cannot be opened).
    static func provision<F: Flash>(_ flash: F, pin: String = pin) throws -> SafetyDevice {
        var dataKey = [UInt8](repeating: 0, count: 32)
        dataKey.withUnsafeMutableBytes { Sodium.randomBytes($0) }
        var kek = [UInt8](repeating: 0, count: 32)
        try Array(pin.utf8).withUnsafeBytes { p in
            try salt.withUnsafeBytes { s in
                try deviceSecret.withUnsafeBytes { d in
                    try kek.withUnsafeMutableBytes { k in
                        try KeySlots<Sodium>.pinKEK(pin: p, salt: s, iterations: iterations, memoryKiB: memoryKiB,
                                                    deviceSecret: d, kek: k)
                    }
                }
            }
        }
        let slot = dataKey.withUnsafeBytes { dk in
            kek.withUnsafeBytes { k in
                KeySlots<Sodium>.wrap(dataKey: dk, kek: k, index: 0, kind: .pin, kdfIterations: iterations,
                                      kdfMemoryKiB: memoryKiB, salt: salt)
            }
        }
        try dataKey.withUnsafeBytes { try Superblock<F, Sodium>.format(flash, dataKey: $0, slots: [slot]) }
        return SafetyDevice(dataKey: dataKey, real: try realInstrument(), decoy: try decoyInstrument())
    }

    static func duressVerifier() throws -> DuressVerifier {
        try Array(duressPIN.utf8).withUnsafeBytes {
            try DuressVerifier.make(Sodium.self, pin: $0, salt: salt, iterations: iterations, memoryKiB: memoryKiB)
        }
    }

    static func policy(action: QuickExitAction = .hide, maxFailures: UInt32 = 5,
                       backoff: [UInt64] = [0, 0, 1_000, 5_000, 30_000],
                       autoLock: UInt64 = 60_000, checkpointEvery: Int = 3) throws -> SafetyPolicy {
        SafetyPolicy(maxFailures: maxFailures, backoffMilliseconds: backoff, showAttemptsLeft: true,
                     duress: try duressVerifier(), quickExitControl: true,
                     quickExitButton: ButtonTrigger(button: 7, presses: 3, windowMilliseconds: 1_500),
                     quickExitChord: [29, 56, 14], quickExitAction: action, autoLockMilliseconds: autoLock,
                     checkpointEveryAnswers: checkpointEvery, decoyScreensIn: 2, recipients: recipients)
    }

    func controller<F: Flash>(_ flash: F, policy: SafetyPolicy, clock: ManualClock) throws
        -> SafetyController<F, Sodium, ManualClock> {
        try Self.deviceSecret.withUnsafeBytes {
            try SafetyController<F, Sodium, ManualClock>(flash: flash, policy: policy, deviceSecret: $0,
                                                         instrument: real, decoy: decoy, clock: clock)
        }
    }

    /// The real interview: a consent question, a name, a sensitive story, a
    /// count of incidents, a select. Labels say nothing; answers are secret.
    static func realInstrument() throws -> Instrument {
        var b = InstrumentBuilder()
        b.formID = "ipv_core"
        b.title = "Family life module"
        b.node(.text, "name", label: "Respondent name")                                                         // 0
        b.node(.integer, "incidents", label: "How many times?")                                                 // 1
        b.node(.text, "story", label: "Tell me what happened")                                                  // 2
        b.node(.selectOne, "who", label: "Who did it?") { n, b in                                               // 3
            n.choiceList = b.list([("partner", "Partner"), ("other", "Someone else")])
        }
        b.node(.text, "notes", label: "Notes")                                                                  // 4
        return try Instrument(bytes: b.build())
    }

    /// The decoy: a household savings questionnaire with plausible defaults.
    static func decoyInstrument() throws -> Instrument {
        var b = InstrumentBuilder()
        b.formID = "household_savings"
        b.title = "Household savings"
        b.node(.integer, "members", label: "How many people live in this household?") { n, b in
            n.defaultValue = b.string("5")
        }
        b.node(.selectOne, "saves", label: "Does the household save money?") { n, b in
            n.choiceList = b.list([("yes", "Yes"), ("no", "No")])
            n.defaultValue = b.string("yes")
        }
        b.node(.text, "where", label: "Where are savings kept?") { n, b in n.defaultValue = b.string("savings group") }
        b.node(.integer, "amount", label: "Amount saved last month (RWF)")
        return try Instrument(bytes: b.build())
    }
}

/// Distinctive answers, and what a scan looks for.
enum Secrets {
    static let name = "Mukamana-Secret-Name"
    static let story = "He locked the door and hit me with the iron"
    static let notes = "Neighbour-heard-everything-0613"
    static let incidents: Int64 = 7_340_211

    /// Byte patterns that must not survive a quick exit.
    static var patterns: [[UInt8]] {
        [Array(name.utf8), Array(story.utf8), Array(notes.utf8),
         withUnsafeBytes(of: incidents.littleEndian) { Array($0) },
         Array("7340211".utf8)]
    }
}

extension SafetyController where C == Sodium, Clock == ManualClock {
    @discardableResult
    func unlock(_ pin: String) throws -> UnlockResult {
        try Array(pin.utf8).withUnsafeBytes { try attemptUnlock(pin: $0) }
    }

    /// Starts the real interview and types the secret answers (name,
    /// incidents, story, who = partner), leaving it on the notes screen.
    func typeSecrets(notes: Bool = false) throws {
        try startInterview()
        try withInterview { iv throws(InterviewError) in try iv.answerText(Secrets.name) }
        _ = try withInterview { $0.next() }
        try withInterview { iv throws(InterviewError) in try iv.answer(integer: Secrets.incidents) }
        _ = try withInterview { $0.next() }
        try withInterview { iv throws(InterviewError) in try iv.answerText(Secrets.story) }
        _ = try withInterview { $0.next() }
        try withInterview { iv throws(InterviewError) in try iv.answer(choiceAt: 0) }
        _ = try withInterview { $0.next() }
        if notes { try withInterview { iv throws(InterviewError) in try iv.answerText(Secrets.notes) } }
    }

    /// The interview's saved state (for exact-resume comparisons).
    func savedState() throws -> [UInt8] { try withInterview { $0.save() } }

    /// Every text the screen model holds now.
    var screenTexts: [[UInt8]] {
        switch screen {
        case .lock: return []
        case .home(let title): return [Array(title)]
        case .interview(let s):
            var out = [Array(s.label), Array(s.hint), Array(s.message)]
            if case .text(let b) = s.answer { out.append(Array(b)) }
            for i in 0..<s.choiceCount { if let c = choice(at: i) { out.append(Array(c.label)); out.append(Array(c.value)) } }
            return out
        }
    }

    /// Whether any buffer the controller owns, or the screen, holds `needle`.
    func memoryContains(_ needle: [UInt8]) -> Bool {
        var found = false
        forEachBuffer { if contains($0, needle) { found = true } }
        for text in screenTexts where text.withUnsafeBytes({ contains($0, needle) }) { found = true }
        return found
    }

    var label: String {
        if case .interview(let s) = screen { return String(decoding: s.label, as: UTF8.self) }
        return ""
    }
}

extension Interview {
    func answerText(_ text: String) throws(InterviewError) {
        let bytes = Array(text.utf8)
        let failure = bytes.withUnsafeBytes { b -> InterviewError? in
            do throws(InterviewError) { try answer(text: b); return nil } catch { return error }
        }
        if let failure { throw failure }
    }
}

/// A flash that counts reads (and forwards everything) to show quick exit
/// reads nothing whatever the store holds.
final class CountingFlash<Inner: Flash>: Flash {
    let inner: Inner
    var reads = 0
    var programs = 0
    var erases = 0
    var geometry: FlashGeometry { inner.geometry }
    init(_ inner: Inner) { self.inner = inner }
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

/// True when both superblock headers are erased: no key slot exists anywhere.
func superblocksBlank(_ flash: RAMFlash) -> Bool {
    flash.withImage { image in
        let block = flash.geometry.eraseBlockSize
        for b in 0..<2 {
            let header = UnsafeRawBufferPointer(rebasing: image[(b * block)..<(b * block + StoreLayout.superHeaderSize)])
            if !header.allSatisfy({ $0 == 0xFF }) { return false }
        }
        return !contains(image, Array("HAVNSTOR".utf8))
    }
}
