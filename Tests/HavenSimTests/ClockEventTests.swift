import Foundation
import Testing

/// Simulated time (`tick` events): auto-lock on an idle device, and the PIN
/// back-off, which a restart does not shorten.
@Suite struct ClockEventTests {
    @Test func autoLockFiresOnTicksAndTheInterviewResumes() throws {
        let device = try SimDevice()
        let sim = try device.start()
        try unlockAndAnswerUpToCode(sim, code: "QX7731")
        #expect(kind(try sim.event("tick", ["ms": 1_000])) == "question")
        let locked = try sim.event("tick", ["ms": 600_000])
        #expect(kind(locked) == "lock")
        #expect(!SimProcess.strings(locked).contains { $0.contains("QX7731") })
        let back = try sim.event("pin", ["value": SimDevice.pin])
        #expect(label(back) == "Respondent code")
        #expect(back["answer"] as? String == "QX7731")
        #expect(sim.finish() == 0)
    }

    @Test func backoffIsShownCountedDownAndSurvivesARestart() throws {
        let device = try SimDevice()
        let sim = try device.start()
        for _ in 0..<3 { #expect(try sim.event("pin", ["value": "0000"])["notice"] as? String == "wrong-pin") }
        let waiting = try sim.event("pin", ["value": SimDevice.pin])
        #expect(waiting["notice"] as? String == "try-later")
        let backoff = (waiting["pin"] as? [String: Any])?["backoffMs"] as? Int ?? 0
        #expect(backoff > 0 && backoff <= 1_000)
        #expect((waiting["pin"] as? [String: Any])?["attemptsLeft"] as? Int == 7)
        sim.kill9()

        // A reboot runs the back-off again from boot.
        let again = try device.start()
        #expect(((again.first["pin"] as? [String: Any])?["backoffMs"] as? Int ?? 0) > 0)
        #expect(try again.event("pin", ["value": SimDevice.pin])["notice"] as? String == "try-later")
        try again.event("tick", ["ms": 1_000])
        #expect(kind(try again.event("pin", ["value": SimDevice.pin])) == "home")
        #expect(again.finish() == 0)
    }
}
