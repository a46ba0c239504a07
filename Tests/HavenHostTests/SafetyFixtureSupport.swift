import Foundation
import HavenCore
import HavenHost
import HavenSodium

/// A clock the test moves by hand (monotonic ms; 10 June 2024).
final class ScenarioClock: SafetyClock {
    var now: UInt64 = 10_000
    func monotonicMilliseconds() -> UInt64 { now }
    func today() -> Int32 { FixtureSession.today.today() }
    func advance(_ ms: UInt64) { now += ms }
}

/// A compiled fixture form.
func compiledFixture(_ name: String) throws -> Instrument {
    let xml = try Data(contentsOf: FixtureSession.fixtures.appendingPathComponent(name + ".xml"))
    return try Instrument(bytes: try FormCompiler.compile(xml: xml, sourceName: name,
                                                          limits: CompileLimits(repeatCapacity: 50)))
}

/// A field device on RAM flash running the real dv_module interview with
/// the household-savings decoy, provisioned for a PIN, a duress PIN and the
/// research team's age identity; driven with names and strings as an
/// enumerator would drive it.
final class SafetyScenario {
    typealias Controller = SafetyController<RAMFlash, Sodium, ScenarioClock>

    static let pin = "482916"
    static let duressPIN = "111999"
    static let salt = [UInt8](repeating: 0x33, count: 16)
    static let deviceSecret = [UInt8]((0..<32).map { UInt8(255 - $0) })

    let flash: RAMFlash
    let clock = ScenarioClock()
    let identity = AgeIdentity.generate()
    let dataKey: [UInt8]
    let real: Instrument
    let decoy: Instrument
    var policy: SafetyPolicy
    var c: Controller

    init(action: QuickExitAction = .hide, geometry: FlashGeometry? = nil) throws {
        flash = RAMFlash(geometry: try geometry ?? FlashGeometry(programUnit: 16, eraseBlockSize: 65536, blockCount: 16))
        let real = try compiledFixture("dv_module")
        let decoy = try compiledFixture("decoy_savings")
        self.real = real
        self.decoy = decoy
        var dataKey = [UInt8](repeating: 0, count: 32)
        dataKey.withUnsafeMutableBytes { Sodium.randomBytes($0) }
        var kek = [UInt8](repeating: 0, count: 32)
        try Array(Self.pin.utf8).withUnsafeBytes { p in
            try Self.salt.withUnsafeBytes { s in
                try Self.deviceSecret.withUnsafeBytes { d in
                    try kek.withUnsafeMutableBytes { k in
                        try KeySlots<Sodium>.pinKEK(pin: p, salt: s, iterations: 1, memoryKiB: 8, deviceSecret: d, kek: k)
                    }
                }
            }
        }
        let slot = dataKey.withUnsafeBytes { dk in
            kek.withUnsafeBytes { k in
                KeySlots<Sodium>.wrap(dataKey: dk, kek: k, index: 0, kind: .pin, kdfIterations: 1, kdfMemoryKiB: 8,
                                      salt: Self.salt)
            }
        }
        let flash = self.flash
        try dataKey.withUnsafeBytes { try Superblock<RAMFlash, Sodium>.format(flash, dataKey: $0, slots: [slot]) }
        self.dataKey = dataKey
        let duress = try Array(Self.duressPIN.utf8).withUnsafeBytes {
            try DuressVerifier.make(Sodium.self, pin: $0, salt: Self.salt, iterations: 1, memoryKiB: 8)
        }
        let policy = SafetyPolicy(maxFailures: 5, backoffMilliseconds: [0, 0, 2_000, 10_000], showAttemptsLeft: false,
                              duress: duress, quickExitControl: true,
                              quickExitButton: ButtonTrigger(button: 115, presses: 3, windowMilliseconds: 1_500),
                              quickExitChord: [29, 42, 16], quickExitAction: action, autoLockMilliseconds: 300_000,
                              checkpointEveryAnswers: 4, decoyScreensIn: 3, recipients: identity.recipient.publicKey)
        let clock = self.clock
        self.policy = policy
        c = try Self.makeController(flash, policy, real, decoy, clock)
    }

    static func makeController(_ flash: RAMFlash, _ policy: SafetyPolicy, _ real: Instrument, _ decoy: Instrument,
                               _ clock: ScenarioClock) throws -> Controller {
        try deviceSecret.withUnsafeBytes {
            try Controller(flash: flash, policy: policy, deviceSecret: $0, instrument: real, decoy: decoy, clock: clock)
        }
    }

    /// Power off and on: a new controller on the same chip.
    func reboot() throws {
        clock.now = 50
        c = try Self.makeController(flash, policy, real, decoy, clock)
    }

    @discardableResult
    func unlock(_ pin: String) throws -> UnlockResult {
        try Array(pin.utf8).withUnsafeBytes { try c.attemptUnlock(pin: $0) }
    }

    // MARK: Driving the interview on screen

    var instrument: Instrument? {
        guard case .interview = c.screen else { return nil }
        return c.state == .unlocked ? real : decoy
    }

    /// "kind:name" of the screen, as FixtureSession spells it.
    var here: String {
        switch c.screen {
        case .lock: return "lock"
        case .home: return "home"
        case .interview(let s):
            let name = { (n: UInt16) in String(decoding: self.instrument!.string(self.instrument!.nodes[Int(n)].name), as: UTF8.self) }
            switch s.kind {
            case .end: return "end"
            case .privacyCheck: return "privacy:" + name(s.node!)
            case .repeatPrompt: return "add-another:" + name(s.node!)
            case .note: return "note:" + name(s.node!)
            case .question: return name(s.node!)
            }
        }
    }

    var label: String {
        if case .interview(let s) = c.screen { return String(decoding: s.label, as: UTF8.self) }
        if case .home(let t) = c.screen { return String(decoding: t, as: UTF8.self) }
        return ""
    }

    var choices: [String] {
        guard case .interview(let s) = c.screen else { return [] }
        return (0..<s.choiceCount).map { String(decoding: c.choice(at: $0)!.value, as: UTF8.self) }
    }

    func choose(_ value: String) throws {
        let i = choices.firstIndex(of: value)!
        try c.withInterview { iv throws(InterviewError) in try iv.answer(choiceAt: i) }
    }

    func toggle(_ value: String) throws {
        let i = choices.firstIndex(of: value)!
        try c.withInterview { iv throws(InterviewError) in try iv.toggleChoice(at: i) }
    }

    func type(_ text: String) throws {
        let bytes = Array(text.utf8)
        try c.withInterview { iv throws(InterviewError) in
            let failure = bytes.withUnsafeBytes { b -> InterviewError? in
                do throws(InterviewError) { try iv.answer(text: b); return nil } catch { return error }
            }
            if let failure { throw failure }
        }
    }

    func integer(_ value: Int64) throws { try c.withInterview { iv throws(InterviewError) in try iv.answer(integer: value) } }
    func date(_ value: Int32) throws { try c.withInterview { iv throws(InterviewError) in try iv.answer(date: value) } }
    func yes(_ yes: Bool = true) throws { _ = try c.withInterview { iv throws(InterviewError) in try iv.choose(yes: yes) } }

    @discardableResult
    func next() throws -> NavigationOutcome { try c.withInterview { $0.next() } }

    /// The value of node `name` of the interview on screen, as text.
    func value(_ name: String) throws -> String {
        let inst = instrument!
        let n = (0..<inst.nodeCount).first { String(decoding: inst.string(inst.nodes[$0].name), as: UTF8.self) == name }!
        return try c.withInterview { iv -> String in
            switch iv.answer(of: n) {
            case .none: return ""
            case .text(let b), .calculated(let b), .choices(let b): return String(decoding: b, as: UTF8.self)
            case .integer(let v): return String(v)
            case .decimal(let v): return String(v)
            case .date(let d): return String(d)
            case .choice(let i): return String(decoding: inst.choiceValue(list: Int(inst.nodes[n].choiceList), item: i), as: UTF8.self)
            }
        }
    }

    /// Presses the hardware quick-exit button three times in 400 ms.
    func pressQuickExitButton() -> QuickExitTrigger? {
        var fired: QuickExitTrigger?
        for _ in 0..<3 {
            fired = c.handle(InputEvent(.button(115, pressed: true), at: clock.now))
            clock.advance(150)
            _ = c.handle(InputEvent(.button(115, pressed: false), at: clock.now))
        }
        return fired
    }

    /// Whether any buffer of the controller, or the screen's text, holds `needle`.
    func memoryHolds(_ needle: [UInt8]) -> Bool {
        var found = false
        c.forEachBuffer { if Self.contains($0, needle) { found = true } }
        if case .interview(let s) = c.screen {
            for b in [s.label, s.hint, s.message] where Self.contains(b, needle) { found = true }
        }
        return found
    }

    func flashHolds(_ needle: [UInt8]) -> Bool { flash.withImage { Self.contains($0, needle) } }

    static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        var i = 0
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0] {
                var j = 1
                while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return true }
            }
            i += 1
        }
        return false
    }
}
