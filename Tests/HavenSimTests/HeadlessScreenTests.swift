import Foundation
import HavenHost
import Testing

/// Headless haven-sim over pipes: every screen kind of a whole dv_module
/// interview, finished and sealed, and refusals of malformed input.
@Suite struct HeadlessScreenTests {
    @Test func everyScreenKindOfAnInterviewUpToTheSealedRecord() throws {
        let device = try SimDevice()
        let sim = try device.start()
        #expect(kind(sim.first) == "lock")
        let wrong = try sim.event("pin", ["value": "0000"])
        #expect(kind(wrong) == "lock")
        #expect(wrong["notice"] as? String == "wrong-pin")
        // PIN typed digit by digit, shown masked (a count only).
        for d in SimDevice.pin { try sim.event("digit", ["value": String(d)]) }
        let masked = try sim.event("screen")
        #expect((masked["pin"] as? [String: Any])?["digits"] as? Int == 4)
        #expect(!SimProcess.strings(masked).contains { $0.contains(SimDevice.pin) })
        let home = try sim.event("submit")
        #expect(kind(home) == "home")
        #expect(home["title"] as? String == "Domestic violence module (Haven fixture)")
        #expect(home["languages"] as? [String] == ["English (en)", "Kinyarwanda (rw)"])

        #expect(kind(try sim.event("start")) == "note")
        let consent = try sim.event("next")
        #expect(kind(consent) == "question")
        #expect(consent["input"] as? String == "select_one")
        #expect((consent["choices"] as? [[String: Any]])?.map { $0["label"] as? String } == ["Yes", "No"])
        // Required: refused with the validation message.
        let refused = try sim.event("next")
        #expect(refused["validation"] as? String == "required")
        #expect((refused["message"] as? String)?.isEmpty == false)
        // Language switch on a question, and back.
        let rw = try sim.event("language", ["index": 1])
        #expect(label(rw) == "Wemeye kugira uruhare muri iki kiganiro?")
        #expect((rw["choices"] as? [[String: Any]])?.first?["label"] as? String == "Yego")
        #expect(label(try sim.event("language", ["index": 0])) == "Do you agree to take part in this interview?")
        let chosen = try sim.event("select", ["index": 0])
        #expect(chosen["answer"] as? String == "yes")

        let round = try sim.event("next")
        #expect(round["readonly"] as? Bool == true)
        #expect(label(try sim.event("next")) == "How old are you?")
        #expect(try sim.event("answer", ["value": "thirty"])["error"] as? String == "not a whole number")
        #expect(try sim.event("answer", ["value": 34])["answer"] as? Int == 34)
        let ageNote = try sim.event("next")
        #expect(kind(ageNote) == "note")
        try sim.event("next")
        try sim.event("answer", ["value": "married"])
        try sim.event("next")
        try sim.event("answer", ["value": "3"])
        #expect(label(try sim.event("next")) == "Respondent code")
        try sim.event("answer", ["value": "bad code"])
        let constraint = try sim.event("next")
        #expect(constraint["validation"] as? String == "constraint")
        #expect(constraint["message"] as? String == "Use two capital letters and four digits.")
        try sim.event("answer", ["value": "QX7731"])
        let date = try sim.event("next")
        #expect(date["input"] as? String == "date")
        #expect(try sim.event("answer", ["value": "2024-02-30"])["error"] as? String == "not a date (YYYY-MM-DD)")
        #expect(try sim.event("answer", ["value": "2024-06-01"])["answer"] as? String == "2024-06-01")
        let privacy = try sim.event("next")
        #expect(kind(privacy) == "privacy-check")
        #expect(privacy["buttons"] as? [String] == ["back", "yes", "no", "language", "lock", "quick-exit"])
        #expect(label(try sim.event("yes")) == "Has your husband or partner ever hurt you physically?")
        try sim.event("answer", ["value": "yes"])
        let acts = try sim.event("next")
        #expect(acts["input"] as? String == "select_multiple")
        let both = try sim.event("answer", ["value": "slap none"])
        #expect(both["answer"] as? String == "slap none")
        #expect(try sim.event("next")["validation"] as? String == "constraint")
        try sim.event("answer", ["value": "slap push"])
        #expect(label(try sim.event("next")) == "In the past 12 months, how many times did he slap you?")
        try sim.event("answer", ["value": 2])
        #expect(kind(try sim.event("next")) == "note")  // support (no injury question: no punch/kick/weapon)
        #expect(kind(try sim.event("next")) == "note")  // thanks
        let review = try sim.event("next")
        #expect(kind(review) == "review")
        #expect(review["buttons"] as? [String] == ["back", "finalize", "language", "lock", "quick-exit"])
        // The review lists the answers in form order, choices by their label.
        let entries = try #require(review["review"] as? [[String: Any]])
        let pairs = entries.map { ($0["label"] as? String ?? "", "\($0["answer"] ?? "")") }
        #expect(pairs.contains { $0 == ("Respondent code", "QX7731") })
        #expect(pairs.contains { $0 == ("Do you agree to take part in this interview?", "Yes") })
        #expect(pairs.contains { $0 == ("Date of the interview", "2024-06-01") })
        #expect(pairs.first?.0 == "Do you agree to take part in this interview?")
        let finished = try sim.event("finalize")
        #expect(kind(finished) == "finished")
        #expect(finished["notice"] as? String == "saved")
        #expect(kind(try sim.event("home")) == "home")
        #expect(sim.finish() == 0)

        // The sealed record is on the image and opens with the research identity only.
        let records = try device.finishedRecords()
        #expect(records.count == 1)
        let plain = try AgeFile.decrypt(try #require(records.first), identities: [device.identity])
        #expect(plain.count > 0)
        #expect(Data(plain).range(of: Data("QX7731".utf8)) != nil)
        #expect(throws: (any Error).self) { try AgeFile.decrypt(records[0], identities: [AgeIdentity.generate()]) }
    }

    @Test func malformedLinesAreRefusedAndTheDeviceCarriesOn() throws {
        let device = try SimDevice()
        let sim = try device.start()
        for line in ["not json", "{\"type\":\"nope\"}", "{\"value\":1}", "{\"type\":\"pin\"", "[1,2]",
                     "{\"type\":\"answer\",\"value\":\"\\ud800\"}", "{\"type\":\"select\",\"index\":1.5}",
                     String(repeating: "{", count: 5000)] {
            let m = try sim.sendRaw(line)
            #expect(kind(m) == "lock")
            #expect(m["notice"] as? String == "refused")
            #expect((m["error"] as? String)?.hasPrefix("bad event") == true || m["error"] as? String != nil)
        }
        #expect(kind(try sim.event("pin", ["value": SimDevice.pin])) == "home")
        #expect(sim.finish() == 0)
    }

    @Test func theMemoryScanIsRefusedUnlessEnabled() throws {
        let device = try SimDevice()
        let sim = try device.start()
        let m = try sim.event("debug-scan", ["needlesHex": [hex("anything")]])
        #expect(m["scan"] == nil)
        #expect(m["error"] as? String == "debug-scan needs haven-sim --debug-memory-scan")
        #expect(sim.finish() == 0)
    }

    @Test func refusesToStartOnAnImageWithoutItsSecretOrOfTheWrongSize() throws {
        let device = try SimDevice()
        let sim = try device.start()
        #expect(sim.finish() == 0)
        let attributes = try FileManager.default.attributesOfItem(atPath: device.secretPath)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect((attributes[.size] as? Int) == 32)

        try FileManager.default.removeItem(atPath: device.secretPath)
        let noSecret = try SimProcess(arguments: device.arguments())
        #expect(noSecret.first.isEmpty)
        #expect(noSecret.waitStatus() == 2)
        #expect(!FileManager.default.fileExists(atPath: device.secretPath))

        try Data(repeating: 0xFF, count: 4096).write(to: URL(fileURLWithPath: device.image))
        let shortImage = try SimProcess(arguments: device.arguments())
        #expect(shortImage.waitStatus() == 2)
    }

    @Test func twoSimulatorsCannotShareAnImage() throws {
        let device = try SimDevice()
        let first = try device.start()
        #expect(kind(first.first) == "lock")
        let second = try SimProcess(arguments: device.arguments())
        #expect(second.waitStatus() == 2)
        #expect(first.finish() == 0)
    }

    @Test func repeatsShowTheirPositionAndTheAddAnotherPrompt() throws {
        let device = try SimDevice(real: "household_roster")
        let sim = try device.start()
        #expect(kind(try sim.event("pin", ["value": SimDevice.pin])) == "home")
        var m = try sim.event("start")
        var sawPrompt = false
        var sawPosition = false
        var sawOutput = false
        var visits = 0
        for _ in 0..<40 where kind(m) != "review" {
            if kind(m) == "repeat-prompt" {
                sawPrompt = true
                visits += 1
                m = try sim.event(visits == 1 ? "yes" : "no")
                continue
            }
            if let r = m["repeat"] as? [String: Any], r["position"] as? Int == 1, (r["count"] as? Int ?? 0) >= 1 {
                sawPosition = true
            }
            if label(m) == "Is Alice male or female?" { sawOutput = true }
            if kind(m) == "question" && m["answer"] is NSNull && m["readonly"] as? Bool == false {
                switch m["input"] as? String {
                case "text": try sim.event("answer", ["value": "Alice"])
                case "integer": try sim.event("answer", ["value": 1])
                case "date": try sim.event("answer", ["value": "2024-06-01"])
                default: try sim.event("select", ["index": 0])
                }
            }
            m = try sim.event("next")
        }
        #expect(kind(m) == "review")
        #expect(sawPrompt)
        #expect(sawPosition)
        #expect(sawOutput)
        #expect(kind(try sim.event("finalize")) == "finished")
        #expect(sim.finish() == 0)
        #expect(try device.finishedRecords().count == 1)
    }
}
