import HavenCore
import Testing

func pressed(_ w: inout ButtonPressWindow, _ at: UInt64, _ presses: Int, _ window: UInt64) -> Bool {
    w.press(at: at, presses: presses, window: window)
}

func keyed(_ d: inout KeyChordDetector, _ code: UInt16, _ down: Bool, _ chord: [UInt16]) -> Bool {
    d.key(code, down: down, chord: chord)
}

/// The gesture detectors on their own (Docs/safety.md §4.1).
@Suite struct SafetyTriggerTests {
    @Test func threePressesWithinTheWindowFireOnce() {
        var w = ButtonPressWindow()
        #expect(!pressed(&w, 100, 3, 1_500))
        #expect(!pressed(&w, 600, 3, 1_500))
        #expect(pressed(&w, 1_600, 3, 1_500))
        // The ring was emptied: a fourth press starts over.
        #expect(!pressed(&w, 1_700, 3, 1_500))
    }

    @Test func pressesSpreadWiderThanTheWindowDoNotFireButTheWindowSlides() {
        var w = ButtonPressWindow()
        #expect(!pressed(&w, 0, 3, 1_000))
        #expect(!pressed(&w, 900, 3, 1_000))
        #expect(!pressed(&w, 1_001, 3, 1_000))  // 0 … 1001: too slow
        #expect(pressed(&w, 1_850, 3, 1_000))   // 900 … 1850: in
    }

    @Test func aClockGoingBackwardsStartsOver() {
        var w = ButtonPressWindow()
        #expect(!pressed(&w, 5_000, 2, 1_000))
        #expect(!pressed(&w, 10, 2, 1_000))
        #expect(pressed(&w, 20, 2, 1_000))
    }

    @Test func theRingHoldsEightPresses() {
        var w = ButtonPressWindow()
        for i in 0..<7 { #expect(!pressed(&w, UInt64(i) * 10, 8, 100)) }
        #expect(pressed(&w, 70, 8, 100))
        for i in 0..<20 { #expect(!pressed(&w, 10_000 + UInt64(i) * 500, 8, 100)) }
    }

    @Test func aChordFiresWhenAllItsKeysAreDownOncePerPress() {
        var d = KeyChordDetector()
        let chord: [UInt16] = [29, 56, 14]  // Ctrl Alt Backspace
        #expect(!keyed(&d, 29, true, chord))
        #expect(!keyed(&d, 30, true, chord))  // an unrelated key may be down too
        #expect(!keyed(&d, 56, true, chord))
        #expect(keyed(&d, 14, true, chord))
        #expect(!keyed(&d, 14, true, chord))  // auto-repeat: still the same press
        #expect(!keyed(&d, 14, false, chord))
        #expect(keyed(&d, 14, true, chord))   // released and pressed again
        #expect(!keyed(&d, 29, false, chord))
        #expect(!keyed(&d, 14, true, chord))  // 29 is up
    }

    @Test func anEmptyChordNeverFires() {
        var d = KeyChordDetector()
        #expect(!keyed(&d, 1, true, []))
    }

    @Test func policiesTheControllerCannotHonourAreRefused() throws {
        let good = SafetyPolicy(recipients: [UInt8](repeating: 1, count: 32))
        try good.validate()
        var p = good
        p.recipients = [1, 2, 3]
        #expect(throws: SafetyError.invalidPolicy(.recipients)) { try p.validate() }
        p = good
        p.quickExitButton = ButtonTrigger(button: 1, presses: 9, windowMilliseconds: 10)
        #expect(throws: SafetyError.invalidPolicy(.buttonPresses)) { try p.validate() }
        p = good
        p.quickExitChord = Array(0..<9)
        #expect(throws: SafetyError.invalidPolicy(.chord)) { try p.validate() }
        p = good
        p.checkpointEveryAnswers = 0
        #expect(throws: SafetyError.invalidPolicy(.checkpointInterval)) { try p.validate() }
        p = good
        p.duress = DuressVerifier(salt: [1], iterations: 1, memoryKiB: 8, tag: [])
        #expect(throws: SafetyError.invalidPolicy(.duress)) { try p.validate() }
    }

    @Test func backoffScheduleRepeatsItsLastStep() {
        let p = SafetyPolicy(backoffMilliseconds: [0, 10, 20], recipients: [UInt8](repeating: 1, count: 32))
        #expect((0..<6).map { p.backoff(afterFailures: UInt32($0)) } == [0, 10, 20, 20, 20, 20])
        let none = SafetyPolicy(backoffMilliseconds: [], recipients: [UInt8](repeating: 1, count: 32))
        #expect(none.backoff(afterFailures: 99) == 0)
    }
}
