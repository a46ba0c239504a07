import Foundation
import HavenCore
import HavenHost
import HavenSodium
import Testing

/// Scripted field sessions on the real fixture forms: dv_module (the
/// interview about violence at home) and decoy_savings (the household
/// savings questionnaire a partner who walks in sees).
@Suite struct SafetyScenarioTests {
    /// What the enumerator types before the interruption; none of it may
    /// survive a quick exit anywhere the core can reach.
    static let secrets: [[UInt8]] = [
        Array("KG0412".utf8),                    // respondent code
        Array("slap punch".utf8),                // acts, as stored
        withUnsafeBytes(of: Int64(317).littleEndian) { Array($0) },  // times slapped
    ]

    /// Consent, background, then into the sensitive section up to `injured`.
    static func interviewUpToInjured(_ s: SafetyScenario, language: Int = 0) throws {
        try s.c.startInterview(language: language)
        #expect(s.here == "note:intro")
        try s.next()
        try s.choose("yes")
        try s.next()
        #expect(s.here == "round")
        try s.next()
        try s.integer(37)
        try s.next()
        #expect(s.here == "note:age_note")
        try s.next()
        try s.choose("married")
        try s.next()
        try s.integer(3)
        try s.next()
        #expect(s.here == "resp_code")
        try s.type("KG0412")
        try s.next()
        try s.date(days(2024, 6, 9))
        try s.next()
        #expect(s.here == "privacy:violence")
        try s.yes()
        #expect(s.here == "ever_hurt")
        try s.choose("yes")
        try s.next()
        try s.toggle("slap")
        try s.toggle("punch")
        try s.next()
        #expect(s.here == "slap_freq")
        try s.integer(317)
        try s.next()
        #expect(s.here == "injured")
    }

    @Test func buttonHidesASensitiveScreenBehindTheDecoyInTheSameLanguageAndThePINBringsItBack() throws {
        let s = try SafetyScenario()
        #expect(try s.unlock(SafetyScenario.pin) == .unlocked)
        try Self.interviewUpToInjured(s, language: 1)  // Kinyarwanda
        #expect(s.label == "Waba warakomerekejwe n'ibyo yagukoreye?")
        let saved = try s.c.withInterview { $0.save() }
        for secret in Self.secrets { #expect(s.memoryHolds(secret)) }

        #expect(s.pressQuickExitButton() == .buttonPresses)

        #expect(s.c.state == .hidden)
        // The decoy, three screens in, in Kinyarwanda, with plausible answers.
        #expect(s.here == "where")
        #expect(s.label == "Urugo rubika he amafaranga yizigamiwe?")
        #expect(try s.value("members") == "5")
        #expect(try s.value("saves") == "yes")
        #expect(try s.value("where") != "")
        for secret in Self.secrets {
            #expect(!s.memoryHolds(secret))
            #expect(!s.flashHolds(secret))
        }
        #expect(s.c.sessionKeyMaterial.allSatisfy { $0 == 0 })
        #expect(!s.c.isStoreMounted)

        // Answered on while the partner watches.
        try s.next()
        #expect(s.here == "amount")
        #expect(try s.value("amount") == "5000")
        try s.integer(8_000)
        try s.next()
        try s.choose("no")
        try s.next()
        #expect(s.here == "goal")

        // Later: the lock key, the PIN, and the interview exactly as it was.
        s.c.handle(InputEvent(.lockRequest, at: s.clock.now))
        #expect(s.c.state == .locked)
        #expect(try s.unlock(SafetyScenario.pin) == .unlocked)
        #expect(s.here == "injured")
        #expect(s.label == "Waba warakomerekejwe n'ibyo yagukoreye?")
        #expect(try s.c.withInterview { $0.save() } == saved)
        #expect(try s.value("resp_code") == "KG0412")
        #expect(try s.value("acts") == "slap punch")
        try s.choose("yes")
        try s.next()
        #expect(s.here == "note:support")
    }

    @Test(arguments: [QuickExitAction.hide, .lock, .wipe], ["control", "button", "chord"])
    func everyTriggerAndActionOnTheRealForms(action: QuickExitAction, trigger: String) throws {
        let s = try SafetyScenario(action: action)
        try s.unlock(SafetyScenario.pin)
        try Self.interviewUpToInjured(s)
        let fired: QuickExitTrigger?
        switch trigger {
        case "control": fired = s.c.handle(InputEvent(.quickExitControl, at: s.clock.now))
        case "button": fired = s.pressQuickExitButton()
        default:
            _ = s.c.handle(InputEvent(.key(29, down: true), at: s.clock.now))
            _ = s.c.handle(InputEvent(.key(42, down: true), at: s.clock.now))
            fired = s.c.handle(InputEvent(.key(16, down: true), at: s.clock.now))
        }
        #expect(fired != nil)
        for secret in Self.secrets { #expect(!s.memoryHolds(secret), "\(trigger) \(action)") }
        #expect(s.c.sessionKeyMaterial.allSatisfy { $0 == 0 })
        switch action {
        case .hide:
            #expect(s.c.state == .hidden)
            #expect(s.here == "where")
        case .lock:
            #expect(s.c.state == .locked)
            #expect(s.here == "lock")
        case .wipe:
            #expect(s.c.state == .decoyOnly)
            #expect(s.here == "where")
            #expect(!s.flashHolds(Array("HAVNSTOR".utf8)))
        }
    }

    @Test func duressPINOnTheRealFormsErasesAndTheDeviceLooksNormal() throws {
        let s = try SafetyScenario()
        try s.unlock(SafetyScenario.pin)
        try Self.interviewUpToInjured(s)
        s.c.lock()
        // At a checkpoint, the enumerator is made to unlock.
        #expect(try s.unlock(SafetyScenario.duressPIN) == .unlocked)
        #expect(s.c.state == .decoyOnly)
        #expect(s.here == "home")
        #expect(s.label == "Household savings survey")
        #expect(!s.flashHolds(Array("HAVNSTOR".utf8)))
        #expect(throws: StoreError.notFormatted) {
            try s.dataKey.withUnsafeBytes { _ = try LogStore<RAMFlash, Sodium>(flash: s.flash, dataKey: $0) }
        }
        for secret in Self.secrets { #expect(!s.memoryHolds(secret)) }
        try s.c.startInterview()
        #expect(s.here == "note:intro")
        try s.next()
        #expect(s.here == "members")
        #expect(try s.value("members") == "5")
        // After a reboot, still a normal-looking device: the duress PIN opens
        // the decoy again, the real PIN opens nothing.
        try s.reboot()
        #expect(s.c.state == .erased)
        #expect(s.here == "lock")
        #expect(try s.unlock(SafetyScenario.pin) == .wrongPIN(attemptsLeft: nil))
        #expect(try s.unlock(SafetyScenario.duressPIN) == .unlocked)
        #expect(s.label == "Household savings survey")
    }

    @Test func theDecoyFormCompilesWithPlausibleDefaults() throws {
        let decoy = try compiledFixture("decoy_savings")
        #expect(decoy.languageCount == 2)
        let s = try SafetyScenario()
        try s.unlock(SafetyScenario.duressPIN)
        try s.c.startInterview()
        var screens: [String] = []
        while s.here != "end" && screens.count < 20 {
            screens.append(s.here)
            guard try s.next() == .moved else { break }
        }
        // Every question has a default or is optional: the decoy can be
        // walked through without typing anything.
        #expect(screens == ["note:intro", "members", "saves", "where", "amount", "borrowed", "goal", "note:thanks"])
        #expect(try s.c.finalizeInterview() == nil)
    }

    /// The whole life of one interview: hidden mid-section, resumed with the
    /// PIN, finished; the store record opens with the research identity —
    /// with Haven's reader and with Debian's `age` — and with nothing the
    /// device holds.
    @Test func aFinishedInterviewIsSealedToTheResearchTeamOnly() throws {
        let s = try SafetyScenario()
        try s.unlock(SafetyScenario.pin)
        try Self.interviewUpToInjured(s)
        #expect(s.pressQuickExitButton() == .buttonPresses)
        s.c.lock()
        try s.unlock(SafetyScenario.pin)
        #expect(s.here == "injured")
        try s.choose("yes")
        try s.next()
        #expect(s.here == "note:support")
        try s.next()
        #expect(s.here == "note:thanks")
        try s.next()
        #expect(s.here == "end")
        let expected = try s.c.withInterview { iv throws(InterviewError) in try iv.finalize() }
        let checkpointEpoch = s.c.mountedStore!.checkpointEpoch

        let id = try #require(try s.c.finalizeInterview())
        #expect(s.here == "home")
        let store = try #require(s.c.mountedStore)
        let record = try store.read(id)
        #expect(record.first == SafetyRecordType.sealedInterview.rawValue)
        let sealed = Array(record.dropFirst())
        #expect(sealed.starts(with: Array("age-encryption.org/v1\n".utf8)))
        #expect(try AgeFile.decrypt(sealed, identities: [s.identity]) == expected)
        #expect(throws: AgeError.self) { try AgeFile.decrypt(sealed, identities: [AgeIdentity.generate()]) }

        // Debian's age opens it with the team's identity file.
        let dir = try TempDir()
        let file = try dir.write("record.age", sealed)
        let key = try dir.write("identity.txt", s.identity.encoded + "\n")
        let result = try runTool("/usr/bin/age", ["-d", "-i", key, file])
        #expect(result.status == 0, "age -d failed: \(result.stderr)")
        #expect(result.stdout == expected)

        // The device keeps nothing that opens it or shows it: not the plain
        // record in memory, not the answers on flash, not the checkpoint
        // epoch its last checkpoint was wrapped under.
        #expect(!s.memoryHolds(Array(expected.prefix(64))))
        for secret in Self.secrets {
            #expect(!s.memoryHolds(secret))
            #expect(!s.flashHolds(secret))
        }
        #expect(store.checkpointEpoch != checkpointEpoch)
        #expect(!s.flashHolds(checkpointEpoch.withBytes { Array($0) }))
        // Only the sealed record is still owed to the host: every checkpoint is retired.
        #expect(store.unpulledCount == 1)
        #expect(store.newestUnretiredRecord() == id)
        // Locked and unlocked again: nothing to resume; a new interview starts clean.
        s.c.lock()
        try s.unlock(SafetyScenario.pin)
        #expect(s.here == "home")
        try s.c.startInterview()
        #expect(s.here == "note:intro")
        #expect(try s.value("resp_code") == "")
    }
}
