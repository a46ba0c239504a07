@testable import HavenCore
import Testing

@Suite struct InterviewRecordTests {
    /// Every value type, a repeat, an irrelevant answer and a calculate,
    /// decoded field by field from the record bytes.
    @Test func recordHoldsRelevantAnswersInNodeThenInstanceOrder() throws {
        var b = InstrumentBuilder()
        b.formID = "hh_survey"
        b.formVersion = "v7"
        let yesNo = b.list([("yes", "Yes"), ("no", "No")])
        let fruit = b.list([("apple", "Apple"), ("pear", "Pear"), ("fig", "Fig")])
        b.node(.text, "name", label: "Name")                                                    // 0
        b.node(.integer, "size", label: "Size")                                                 // 1
        b.node(.repeat, "member", label: "Member") { n, b in
            n.repeatCount = b.expr(Asm.node(1) + Asm.end)
        }                                                                                       // 2
        b.node(.decimal, "weight", parent: 2, label: "Weight")                                  // 3
        b.node(.date, "dob", label: "Date of birth")                                            // 4
        b.node(.selectOne, "ok", label: "OK?") { n, _ in n.choiceList = yesNo }                 // 5
        b.node(.text, "why", label: "Why not?") { n, b in
            n.relevant = b.expr(Asm.node(5) + Asm.str(b.string("no")) + Asm.op(.equal) + Asm.end)
        }                                                                                       // 6
        b.node(.selectMultiple, "fruit", label: "Fruit") { n, _ in n.choiceList = fruit }       // 7
        b.node(.calculate, "greeting") { n, b in
            n.calculate = b.expr(Asm.str(b.string("hi ")) + Asm.node(0) + Asm.call(.concat, 2) + Asm.end)
        }                                                                                       // 8
        b.node(.preloadUID, "instanceID")                                                       // 9
        b.node(.text, "skipped", label: "Optional")                                             // 10
        let iv = try b.start()
        try iv.answer("Ama")
        iv.next()
        try iv.answer(integer: 2)
        iv.next()
        try iv.answer(decimal: 61.5)
        iv.next()
        try iv.answer(decimal: -0.25)
        iv.next()
        try iv.answer(date: -365)
        iv.next()
        try iv.answer(choiceAt: 1)  // no
        iv.next()
        try iv.answer("busy")
        iv.back()
        try iv.answer(choiceAt: 0)  // yes: "why" is no longer relevant
        iv.next()
        try iv.toggleChoice(at: 2)
        try iv.toggleChoice(at: 0)
        iv.next()
        iv.next()
        #expect(iv.screen.kind == .end)

        let bytes = try iv.finalize()
        let record = try #require(DecodedRecord(bytes))
        #expect(record.formID == "hh_survey")
        #expect(record.formVersion == "v7")
        #expect(record.instanceID == iv.instanceID.string)
        typealias A = DecodedRecord.Answer
        #expect(record.answers == [
            A(node: 0, instance: [], type: 1, value: .text("Ama")),
            A(node: 1, instance: [], type: 2, value: .integer(2)),
            A(node: 3, instance: [0], type: 3, value: .decimal(61.5)),
            A(node: 3, instance: [1], type: 3, value: .decimal(-0.25)),
            A(node: 4, instance: [], type: 4, value: .date(-365)),
            A(node: 5, instance: [], type: 5, value: .choice("yes")),
            A(node: 7, instance: [], type: 6, value: .choices(["apple", "fig"])),
            A(node: 8, instance: [], type: 7, value: .calculated("hi Ama")),
            A(node: 9, instance: [], type: 1, value: .text(iv.instanceID.string)),
        ])
        // The same bytes through the buffer entry point.
        var buffer = [UInt8](repeating: 0, count: bytes.count)
        let written = try buffer.withUnsafeMutableBytes { try iv.finalize(into: $0) }
        #expect(written == bytes.count && buffer == bytes)
        var small = [UInt8](repeating: 0, count: bytes.count - 1)
        #expect(throws: InterviewError.bufferTooSmall(needed: bytes.count)) {
            _ = try small.withUnsafeMutableBytes { try iv.finalize(into: $0) }
        }
    }

    @Test func finalizeRefusesWhileARequiredQuestionIsUnanswered() throws {
        var b = consentForm()
        let iv = try b.start()
        #expect(throws: InterviewError.requiredUnanswered(node: 0, instance: .root)) { _ = try iv.finalize() }
        try iv.answer(choiceAt: 0)
        #expect(throws: InterviewError.requiredUnanswered(node: 1, instance: .root)) { _ = try iv.finalize() }
        try iv.answer(choiceAt: 1)  // name no longer relevant, so no longer required
        _ = try iv.finalize()

        var r = countedRepeatForm()
        r.nodes[2].required = r.expr(Asm.yes + Asm.end)
        let rv = try r.start()
        try rv.answer(integer: 2)
        rv.next()
        try rv.answer("first")
        #expect(throws: InterviewError.requiredUnanswered(node: 2, instance: InstancePath([1]))) { _ = try rv.finalize() }
    }

    @Test func finalizeRefusesAnAnswerBreakingItsConstraint() throws {
        var b = consentForm()
        let iv = try b.start()
        try iv.answer(choiceAt: 1)
        iv.next()
        try iv.answer(integer: 200)
        #expect(throws: InterviewError.constraintViolated(node: 2, instance: .root)) { _ = try iv.finalize() }
    }
}
