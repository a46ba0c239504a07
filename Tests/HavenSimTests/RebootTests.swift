import Foundation
import HavenDevice
import HavenHost
import Testing

/// The simulator stopped at random points (kill -9, and simulated power
/// cuts at the Nth flash operation) and restarted on the same image: it
/// always boots to the lock screen, the PIN opens it, and the interview
/// resumes where it was saved or the finished record is intact.
@Suite struct RebootTests {
    /// The whole interview as events, with the label each one leads to.
    static var script: [[String: Any]] { [
        ["type": "pin", "value": SimDevice.pin], ["type": "start"], ["type": "next"],
        ["type": "answer", "value": "yes"], ["type": "next"], ["type": "next"],
        ["type": "answer", "value": 34], ["type": "next"], ["type": "next"],
        ["type": "answer", "value": "married"], ["type": "next"], ["type": "answer", "value": "3"], ["type": "next"],
        ["type": "answer", "value": "QX7731"], ["type": "next"], ["type": "answer", "value": "2024-06-01"],
        ["type": "next"], ["type": "yes"], ["type": "answer", "value": "no"], ["type": "next"], ["type": "next"],
        ["type": "next"], ["type": "finalize"], ["type": "home"],
    ] }

    /// After a restart: unlock; the result must be the home screen (nothing
    /// saved yet, or finished) or one of the screens the run went through.
    static func checkAfterReboot(_ device: SimDevice, seen: Set<String>, finalized: Bool) throws {
        let sim = try device.start()
        #expect(kind(sim.first) == "lock")
        let m = try sim.event("pin", ["value": SimDevice.pin])
        if finalized {
            #expect(kind(m) == "home")
        } else if kind(m) != "home" {
            #expect(seen.contains(label(m)) || kind(m) == "review", "resumed on \(label(m))")
        }
        #expect(sim.finish() == 0)
        let records = try device.finishedRecords()
        if finalized { #expect(records.count == 1) }
        #expect(records.count <= 1)
        for r in records { #expect(try AgeFile.decrypt(r, identities: [device.identity]).count > 0) }
    }

    @Test func killedAtRandomPointsItResumesOrKeepsTheRecord() throws {
        var rng = SystemRandomNumberGenerator()
        let points = (0..<10).map { _ in Int.random(in: 2...Self.script.count, using: &rng) } + [Self.script.count - 1]
        for cut in points {
            let device = try SimDevice()
            let sim = try device.start()
            var seen: Set<String> = []
            var finalized = false
            for event in Self.script.prefix(cut) {
                let m = try sim.send(event)
                seen.insert(label(m))
                if kind(m) == "finished" { finalized = true }
            }
            sim.kill9()
            try Self.checkAfterReboot(device, seen: seen, finalized: finalized)
        }
    }

    @Test func aCheckpointedInterviewResumesExactlyAfterKill9() throws {
        let device = try SimDevice()
        let sim = try device.start()
        try unlockAndAnswerUpToCode(sim, code: "QX7731")
        try sim.event("next")  // the date screen: the code is answered and checkpointed (every 2 answers)
        try sim.event("answer", ["value": "2024-06-01"])
        sim.kill9()
        let again = try device.start()
        let m = try again.event("pin", ["value": SimDevice.pin])
        #expect(kind(m) == "question")
        #expect(["Respondent code", "Date of the interview"].contains(label(m)))
        if label(m) == "Respondent code" { #expect(m["answer"] as? String == "QX7731") }
        if label(m) == "Date of the interview" {
            #expect(m["answer"] as? String == "2024-06-01" || m["answer"] is NSNull)
            #expect(label(try again.event("back")) == "Respondent code")
            #expect(try again.event("screen")["answer"] as? String == "QX7731")
        }
        #expect(again.finish() == 0)
    }

    @Test func powerCutAtTheNthFlashOperation() throws {
        // A device with an interview in progress, made once and copied for every cut.
        let base = try SimDevice()
        do {
            let sim = try base.start()
            try unlockAndAnswerUpToCode(sim, code: "QX7731")
            #expect(kind(try sim.event("lock")) == "lock")  // checkpointed exactly here
            #expect(sim.finish() == 0)
        }
        let events: [[String: Any]] = [["type": "pin", "value": SimDevice.pin], ["type": "next"],
                                       ["type": "answer", "value": "2024-06-01"], ["type": "next"], ["type": "no"],
                                       ["type": "next"], ["type": "next"], ["type": "finalize"]]
        func copy() throws -> SimDevice {
            let device = try SimDevice()
            try? FileManager.default.removeItem(atPath: device.image)
            try? FileManager.default.removeItem(atPath: device.secretPath)
            try FileManager.default.copyItem(atPath: base.image, toPath: device.image)
            try FileManager.default.copyItem(atPath: base.secretPath, toPath: device.secretPath)
            return device
        }
        // Without a cut: the screen each event leads to (a cut inside event k
        // may leave a checkpoint of the screen k was moving to).
        let reference = try copy()
        let run = try reference.start()
        let labels = try events.map { label(try run.send($0)) }
        #expect(run.finish() == 0)

        var rng = SystemRandomNumberGenerator()
        let cuts = [1, 2, 3, 4, 6] + (0..<3).map { _ in Int.random(in: 7...40, using: &rng) }
        var powerCuts = 0
        defer { #expect(powerCuts >= 5, "the first cuts fall inside unlocking: they must end the process") }
        for n in cuts {
            let device = try copy()
            let sim = try SimProcess(arguments: device.arguments(powerCutAfter: n))
            var seen: Set<String> = ["Respondent code"]
            var finalized = false
            var cutSeen = false
            // Unlock (resume), finish the interview; the cut ends the process somewhere.
            for (k, event) in events.enumerated() {
                seen.insert(labels[k])
                guard let m = try? sim.send(event) else {
                    cutSeen = true
                    break
                }
                if kind(m) == "finished" { finalized = true }
            }
            if cutSeen {
                powerCuts += 1
                #expect(sim.waitStatus() == PowerCutFlash.exitCode, "cut at operation \(n)")
            } else {
                #expect(sim.finish() == 0)
            }
            try Self.checkAfterReboot(device, seen: seen, finalized: finalized)
        }
    }
}
