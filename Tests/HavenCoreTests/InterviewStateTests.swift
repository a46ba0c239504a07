import CAllocCounter
@testable import HavenCore
import Testing

extension Interview {
    /// Saves and resumes into a new interview on the same instrument.
    func roundTrip(seed: UInt64 = 99) throws -> Interview<Clock> {
        let state = save()
        return try state.withUnsafeBytes { s in
            try Interview(resuming: s, instrument: instrument, limits: limits, clock: clock, randomSeed: seed)
        }
    }
}

func resume(_ state: [UInt8], _ instrument: Instrument, limits: EngineLimits = .standard) throws -> TestInterview {
    try state.withUnsafeBytes { try TestInterview(resuming: $0, instrument: instrument, limits: limits, clock: testDay, randomSeed: 5) }
}

/// The state of an interview stopped mid-repeat, and the interview.
func midRepeatState() throws -> (TestInterview, [UInt8]) {
    var b = countedRepeatForm()
    b.node(.selectMultiple, "tags", label: "Tags") { n, b in n.choiceList = b.list([("a", "A"), ("b", "B"), ("c", "C")]) }  // 5
    b.node(.group, "private", label: "Private") { n, _ in n.flags = 0x03 }                                                   // 6
    b.node(.text, "secret", parent: 6, label: "Secret")                                                                       // 7
    b.node(.preloadUID, "instanceID")                                                                                         // 8
    let iv = try b.start()
    try iv.answer(integer: 3)
    iv.next()
    try iv.answer("Ana")
    iv.next()
    try iv.answer(integer: 31)
    iv.next()
    try iv.answer("Ben")
    iv.next()
    #expect(iv.position == .question(node: 3, instance: InstancePath([1])))
    return (iv, iv.save())
}

@Suite struct InterviewStateTests {
    @Test func saveAndResumeMidRepeat() throws {
        let (iv, state) = try midRepeatState()
        let resumed = try resume(state, iv.instrument)
        #expect(resumed.position == iv.position)
        #expect(resumed.label == "Age of Ben")
        #expect(resumed.instanceID.string == iv.instanceID.string)
        #expect(resumed.instanceCount(ofRepeat: 1) == 3)
        #expect(resumed.textAnswer(2, InstancePath([0])) == "Ana")
        #expect(resumed.intAnswer(3, InstancePath([0])) == 31)
        #expect(resumed.save() == state, "saving again gives the same bytes")
        // History survived: back walks the same screens.
        var trail: [Int] = []
        while resumed.back() == .moved { trail.append(resumed.at) }
        #expect(trail == [2, 3, 2, 0])

        // Both continue identically to the same record.
        for interview in [iv, try resume(state, iv.instrument)] {
            try interview.answer(integer: 29)
            interview.next()
            try interview.answer("Cy")
            interview.next()
            interview.next()
            interview.next()
            try interview.toggleChoice(at: 2)
            interview.next()
            #expect(interview.screen.kind == .privacyCheck)
        }
        let a = try iv.finalize()
        let b = try resume(state, iv.instrument)
        try b.answer(integer: 29)
        b.next()
        try b.answer("Cy")
        b.next(); b.next(); b.next()
        try b.toggleChoice(at: 2)
        b.next()
        #expect(try b.finalize() == a)
    }

    @Test func savesPrivacyOutcomesAndThePendingOffer() throws {
        var b = sensitiveForm(postpone: true)
        let iv = try b.start()
        iv.next()
        try iv.choose(yes: false)
        iv.next()
        #expect(iv.position == .privacyCheck(node: 1, instance: .root))
        let resumed = try iv.roundTrip()
        #expect(resumed.position == iv.position)
        try resumed.choose(yes: true)
        #expect(resumed.at == 2)
        try resumed.answer(choiceAt: 0)
        resumed.next()
        #expect(resumed.at == 3)
        resumed.next()
        #expect(resumed.screen.kind == .end, "the pending final offer survived")

        var d = sensitiveForm(postpone: false)
        let dv = try d.start()
        dv.next()
        try dv.choose(yes: false)
        let back = try dv.roundTrip()
        #expect(!back.isRelevant(2) && !back.hasAnswer(2), "declined stays declined, default not restored")
    }

    @Test func aClearedDefaultStaysCleared() throws {
        var b = InstrumentBuilder()
        b.node(.integer, "n", label: "N") { n, b in n.defaultValue = b.string("7") }
        let iv = try b.start()
        try iv.clearAnswer()
        let resumed = try iv.roundTrip()
        #expect(!resumed.hasAnswer(0))
    }

    @Test func refusesEveryTruncationAndCorruption() throws {
        let (iv, state) = try midRepeatState()
        for length in 0..<state.count {
            #expect(throws: InterviewError.self) { _ = try resume(Array(state[0..<length]), iv.instrument) }
        }
        var magic = state
        magic[0] = 0
        #expect(throws: InterviewError.stateBadMagic) { _ = try resume(magic, iv.instrument) }
        var version = state
        version[4] = 9
        #expect(throws: InterviewError.stateUnsupportedVersion(9)) { _ = try resume(version, iv.instrument) }
        var flipped = state
        flipped[state.count - 2] ^= 4
        #expect(throws: InterviewError.stateChecksumMismatch) { _ = try resume(flipped, iv.instrument) }
        var other = countedRepeatForm()
        other.title = "Another form"
        let otherInstrument = try Instrument(bytes: other.build())
        #expect(throws: InterviewError.stateWrongInstrument) { _ = try resume(state, otherInstrument) }
        var tiny = EngineLimits.standard
        tiny.textArenaBytes = 20
        #expect {
            _ = try resume(state, iv.instrument, limits: tiny)
        } throws: { error in
            if case InterviewError.stateTooLarge = error { return true }
            return false
        }
    }

    /// Hand-made states with one bad field each, CRC made valid.
    @Test func refusesInconsistentFields() throws {
        let (iv, _) = try midRepeatState()
        let instrument = iv.instrument
        let id = Array(iv.instanceID.string.utf8)
        func state(position: [UInt8] = [0], counts: [[UInt8]] = [], sections: [[UInt8]] = [],
                   answers: [[UInt8]] = []) -> [UInt8] {
            var s = Bytes()
            s.bytes += Array("HVNS".utf8)
            s.u16(1); s.u16(0); s.u32(0); s.u32(0)
            s.u32(instrument.checksum); s.u32(UInt32(instrument.byteCount))
            s.u16(0); s.u8(0); s.u8(UInt8(id.count)); s.bytes += id
            s.bytes += position
            s.u16(0)
            for table in [counts, sections, answers] {
                s.u32(UInt32(table.count))
                for e in table { s.bytes += e }
            }
            var bytes = s.bytes
            bytes.withUnsafeMutableBytes { TestInterview.sealState($0) }
            return bytes
        }
        func address(_ node: UInt16, _ path: [UInt16] = []) -> [UInt8] {
            var a = Bytes()
            a.u16(node); a.u8(UInt8(path.count))
            for p in path { a.u16(p) }
            return a.bytes
        }
        // The baseline is accepted.
        _ = try resume(state(counts: [address(1) + [2, 0]], answers: [address(0) + [2] + [2, 0, 0, 0, 0, 0, 0, 0]]), instrument)

        func refused(_ bytes: [UInt8], _ why: Comment) {
            #expect(throws: InterviewError.self, why) { _ = try resume(bytes, instrument) }
        }
        refused(state(position: [9]), "unknown position kind")
        refused(state(position: [1] + address(99)), "node out of range")
        refused(state(position: [1] + address(2)), "repeat child without its instance")
        refused(state(position: [1] + address(2, [0])), "instance that does not exist")
        refused(state(position: [1] + address(1)), "a repeat is not a question screen")
        refused(state(position: [3] + address(1, [0])), "prompt on a jr:count repeat")
        refused(state(counts: [address(1) + [6, 0]]), "count above the capacity")
        refused(state(counts: [address(0) + [1, 0]]), "count on a question")
        refused(state(counts: [address(1) + [2, 0], address(1) + [2, 0]]), "duplicate entry")
        refused(state(sections: [address(0) + [1]]), "privacy state on a question")
        refused(state(sections: [address(6) + [4]]), "unknown privacy state")
        refused(state(answers: [address(0) + [1, 1, 0, 0, 0, 0x41]]), "text on an integer")
        refused(state(answers: [address(2) + [1, 1, 0, 0, 0, 0x41]]), "answer in a missing instance")
        refused(state(answers: [address(5) + [6, 3, 0, 0, 0] + Array("a x".utf8)]), "unknown choice value")
        refused(state(answers: [address(5) + [6, 3, 0, 0, 0] + Array("b a".utf8)]), "values out of list order")
        refused(state(answers: [address(7) + [1, 2, 0, 0, 0, 0xC3, 0x28]]), "malformed UTF-8")
        refused(state(answers: [address(0) + [2] + [1, 0, 0, 0, 0, 0, 0, 0], address(0) + [2] + [1, 0, 0, 0, 0, 0, 0, 0]]),
                "duplicate answer")
    }

    @Test func survivesRandomMutations() throws {
        let (iv, state) = try midRepeatState()
        var rng = SplitMix64(seed: 11)
        var accepted = 0
        for _ in 0..<2000 {
            var bytes = state
            for _ in 0..<(1 + rng.next(below: 3)) {
                let at = 16 + rng.next(below: state.count - 16)
                bytes[at] ^= UInt8(1 << rng.next(below: 8))
            }
            bytes.withUnsafeMutableBytes { TestInterview.sealState($0) }
            if let resumed = try? resume(bytes, iv.instrument) {
                accepted += 1
                resumed.next()
                _ = resumed.back()
                _ = try? resumed.finalize()
            }
        }
        #expect(accepted < 2000)
    }

    @Test func savingIntoABufferAllocatesNothing() throws {
        let (iv, state) = try midRepeatState()
        var buffer = [UInt8](repeating: 0, count: 4096)
        try buffer.withUnsafeMutableBytes { out in
            _ = try iv.save(into: out)
            let before = haven_thread_allocations()
            let n = try iv.save(into: out)
            #expect(haven_thread_allocations() == before)
            #expect(Array(out[0..<n]) == state)
        }
    }
}
