import Foundation
import Testing

/// Every quick-exit action, each fired by a different gesture, on the real
/// haven-sim: what was typed is absent from every screen model after it and
/// from the whole process's memory (the debug scan), and the interview
/// comes back with the PIN (hide, lock) or is gone (wipe).
@Suite struct QuickExitTests {
    static let code = "QX7731"

    /// Every model after the quick exit, on whatever the enumerator does next.
    static func modelsAfter(_ sim: SimProcess, _ firstAfter: [String: Any]) throws -> [[String: Any]] {
        var models = [firstAfter]
        for e in ["next", "back", "next", "screen"] { models.append(try sim.event(e)) }
        models.append(try sim.event("language", ["index": 1]))
        models.append(try sim.event("language", ["index": 0]))
        return models
    }

    @Test(arguments: ["hide", "lock", "wipe"], ["control", "key", "button"])
    func quickExitLeavesNothingTypedOnScreenOrInMemory(action: String, gesture: String) throws {
        let device = try SimDevice(action: action)
        let sim = try device.start(scan: true)
        try unlockAndAnswerUpToCode(sim, code: Self.code)
        let realQuestion = try sim.event("screen")
        // The scan sees the answer while it is legitimately on screen.
        #expect(try sim.event("debug-scan", ["needlesHex": [hex(Self.code)]])["scan"] as? [Bool] == [true])

        let after: [String: Any]
        switch gesture {
        case "control": after = try sim.event("quick-exit")  // the on-screen control
        case "key": after = try sim.event("key", ["key": "F12"])  // the board's quick-exit key
        default:  // the hardware button, three presses
            try sim.event("button", ["id": 1])
            try sim.event("button", ["id": 1])
            after = try sim.event("button", ["id": 1])
        }
        let models = try Self.modelsAfter(sim, after)
        for m in models {
            #expect(!SimProcess.strings(m).contains { $0.contains(Self.code) })
            #expect(!SimProcess.strings(m).contains { $0.contains("husband") || $0.contains("Respondent") })
        }
        // (Labels of the real instrument stay in memory: the instrument is
        // loaded. What was typed must not.)
        let scan = try sim.event("debug-scan", ["needlesHex": [hex(Self.code)]])
        #expect(scan["scan"] as? [Bool] == [false])

        switch action {
        case "hide", "wipe":
            // The decoy: a question screen shaped exactly like the real one.
            #expect(kind(after) == "question")
            #expect(Set(after.keys) == Set(realQuestion.keys))
            #expect(after["buttons"] as? [String] == realQuestion["buttons"] as? [String])
            #expect(after["languages"] as? [String] == ["English (en)", "Kinyarwanda (rw)"])
        default:
            #expect(kind(after) == "lock")
        }

        // Back with the PIN.
        if kind(try sim.event("screen")) != "lock" { #expect(kind(try sim.event("lock")) == "lock") }
        let back = try sim.event("pin", ["value": SimDevice.pin])
        if action == "wipe" {
            #expect(kind(back) == "lock")
            #expect(back["notice"] as? String == "wrong-pin")
        } else {
            #expect(label(back) == "Respondent code")
            #expect(back["answer"] as? String == Self.code)
        }
        #expect(sim.finish() == 0)
    }

    @Test func theDuressPINOpensOnlyTheDecoyAndErases() throws {
        let device = try SimDevice()
        let sim = try device.start()
        try unlockAndAnswerUpToCode(sim, code: Self.code)
        #expect(kind(try sim.event("lock")) == "lock")
        let home = try sim.event("pin", ["value": SimDevice.duressPIN])
        #expect(kind(home) == "home")
        #expect(home["title"] as? String == "Household savings survey")
        #expect(kind(try sim.event("lock")) == "lock")
        #expect(try sim.event("pin", ["value": SimDevice.pin])["notice"] as? String == "wrong-pin")
        #expect(sim.finish() == 0)
    }

    @Test func theDecoyRunsToTheEndLikeARealFormAndNothingOfItIsWritten() throws {
        let device = try SimDevice()
        let sim = try device.start()
        try unlockAndAnswerUpToCode(sim, code: Self.code)
        var m = try sim.event("quick-exit")
        var steps = 0
        while kind(m) != "review" && steps < 30 {
            if m["input"] as? String == "text" { try sim.event("answer", ["value": "Umutesi lender"]) }
            if m["input"] as? String == "select_one" && m["answer"] is NSNull { try sim.event("select", ["index": 0]) }
            if kind(m) == "privacy-check" || kind(m) == "repeat-prompt" { m = try sim.event("yes") } else { m = try sim.event("next") }
            steps += 1
        }
        #expect(kind(m) == "review")
        #expect((m["review"] as? [[String: Any]])?.isEmpty == false)
        let finished = try sim.event("finalize")
        #expect(kind(finished) == "finished")
        #expect(finished["notice"] as? String == "saved")
        #expect(finished["title"] as? String == "Household savings survey")
        try sim.event("lock")
        let back = try sim.event("pin", ["value": SimDevice.pin])
        #expect(label(back) == "Respondent code")
        #expect(sim.finish() == 0)
        #expect(try device.finishedRecords().isEmpty)
        // Nothing typed is on the image in the clear, real or decoy.
        let image = try Data(contentsOf: URL(fileURLWithPath: device.image))
        #expect(image.range(of: Data(Self.code.utf8)) == nil)
        #expect(image.range(of: Data("Umutesi".utf8)) == nil)
    }
}
