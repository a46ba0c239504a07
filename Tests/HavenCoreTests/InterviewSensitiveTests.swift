@testable import HavenCore
import Testing

/// intro → violence (sensitive group; postpone when `postpone`) with
/// hit (default "no" to show defaults do not leak) and hurt → outro.
func sensitiveForm(postpone: Bool) -> InstrumentBuilder {
    var b = InstrumentBuilder()
    let yesNo = b.list([("yes", "Yes"), ("no", "No")])
    b.node(.text, "intro", label: "Intro")                                                    // 0
    b.node(.group, "violence", label: "Partner violence") { n, _ in n.flags = postpone ? 0x03 : 0x01 }  // 1
    b.node(.selectOne, "hit", parent: 1, label: "Has your partner hit you?") { n, b in
        n.choiceList = yesNo
        n.defaultValue = b.string("no")
        n.required = b.expr(Asm.yes + Asm.end)
    }                                                                                          // 2
    b.node(.text, "hurt", parent: 1, label: "Details")                                        // 3
    b.node(.text, "outro", label: "Outro")                                                    // 4
    return b
}

@Suite struct InterviewSensitiveTests {
    @Test func privacyCheckComesFirstAndHidesTheTopic() throws {
        var b = sensitiveForm(postpone: false)
        let iv = try b.start()
        try iv.answer("hello")
        iv.next()
        #expect(iv.screen.kind == .privacyCheck)
        #expect(iv.label == "Is the respondent alone and able to talk?")
        #expect(!iv.label.contains("violence"), "the section's title is not shown to a bystander")
        #expect(!iv.isInSensitiveSection)
        try iv.choose(yes: true)
        #expect(iv.at == 2 && iv.isInSensitiveSection && iv.screen.isSensitive)
        try iv.answer(choiceAt: 0)
        iv.next()
        #expect(iv.at == 3 && iv.isInSensitiveSection)
        iv.next()
        #expect(iv.at == 4 && !iv.isInSensitiveSection)
        // Back into the section: no second privacy check.
        iv.back()
        #expect(iv.at == 3)
    }

    @Test func notAloneSkipsTheSection() throws {
        var b = sensitiveForm(postpone: false)
        let iv = try b.start()
        iv.next()
        try iv.choose(yes: false)
        #expect(iv.at == 4)
        #expect(!iv.hasAnswer(2), "skipped: even the default is not kept")
        #expect(!iv.isRelevant(2))
        iv.next()
        #expect(iv.screen.kind == .end, "a skipped section is not offered again")
        let record = try #require(DecodedRecord(try iv.finalize()))
        #expect(!record.answers.contains { $0.node == 2 || $0.node == 3 })
    }

    @Test func postponedSectionIsOfferedAgainBeforeTheEnd() throws {
        var b = sensitiveForm(postpone: true)
        let iv = try b.start()
        try iv.answer("hello")
        iv.next()
        try iv.choose(yes: false)
        #expect(iv.at == 4, "postponed: the interview goes on")
        #expect(!iv.hasAnswer(2))
        try iv.answer("bye")
        iv.next()
        #expect(iv.position == .privacyCheck(node: 1, instance: .root), "offered again before the end")
        try iv.choose(yes: true)
        #expect(iv.at == 2)
        #expect(iv.textAnswer(2) == nil && iv.hasAnswer(2), "defaults come back with the section")
        try iv.answer(choiceAt: 0)
        iv.next()
        try iv.answer("details")
        iv.next()
        #expect(iv.screen.kind == .end, "after the postponed section: straight to the end")
        let record = try #require(DecodedRecord(try iv.finalize()))
        #expect(record.answers.map(\.node) == [0, 2, 3, 4])
    }

    @Test func postponedTwiceIsSkipped() throws {
        var b = sensitiveForm(postpone: true)
        let iv = try b.start()
        iv.next()
        try iv.choose(yes: false)
        iv.next()
        #expect(iv.screen.kind == .privacyCheck)
        try iv.choose(yes: false)
        #expect(iv.screen.kind == .end)
        _ = try iv.finalize()  // the required question in the skipped section does not block
    }

    @Test func goingBackFromTheFinalOfferDoesNotSkipQuestions() throws {
        var b = sensitiveForm(postpone: true)
        let iv = try b.start()
        iv.next()
        try iv.choose(yes: false)
        iv.next()
        #expect(iv.screen.kind == .privacyCheck)
        iv.back()
        #expect(iv.at == 4)
        iv.back()
        #expect(iv.at == 0)
        iv.next()
        #expect(iv.at == 4, "the postponed section is still skipped in order")
        iv.next()
        #expect(iv.screen.kind == .privacyCheck)
    }

    @Test func jumpToAPostponedSection() throws {
        var b = sensitiveForm(postpone: true)
        let iv = try b.start()
        iv.next()
        try iv.choose(yes: false)
        #expect(iv.at == 4)
        try iv.jump(toGroup: 1)
        #expect(iv.position == .privacyCheck(node: 1, instance: .root))
        try iv.choose(yes: false)
        #expect(iv.at == 4, "still postponed")
        iv.next()
        #expect(iv.position == .privacyCheck(node: 1, instance: .root))
        iv.back()
        try iv.jump(toGroup: 1)
        try iv.choose(yes: true)
        #expect(iv.at == 2)
        try iv.answer(choiceAt: 1)
        iv.next()
        iv.next()
        #expect(iv.at == 4, "after a section reached by a jump, the form goes on in order")
    }

    @Test func jumpingInsideASensitiveSectionAsksFirst() throws {
        var b = InstrumentBuilder()
        b.node(.text, "a", label: "A")                                       // 0
        b.node(.group, "s", label: "S") { n, _ in n.flags = 0x01 }           // 1
        b.node(.group, "inner", parent: 1, label: "Inner")                   // 2
        b.node(.text, "q", parent: 2, label: "Q")                            // 3
        let iv = try b.start()
        try iv.jump(toGroup: 2)
        #expect(iv.position == .privacyCheck(node: 1, instance: .root))
        try iv.choose(yes: true)
        #expect(iv.at == 3)
        iv.back()
        try iv.jump(toGroup: 2)
        #expect(iv.at == 3, "confirmed: straight in")
    }

    @Test func sensitiveRepeatAsksOnce() throws {
        var b = InstrumentBuilder()
        b.node(.repeat, "incident", label: "Incident") { n, _ in
            n.flags = 0x01
            n.repeatCapacity = 4
        }                                                      // 0
        b.node(.text, "what", parent: 0, label: "What happened")  // 1
        let iv = try b.start()
        #expect(iv.screen.kind == .privacyCheck)
        try iv.choose(yes: true)
        try iv.answer("x")
        iv.next()
        #expect(iv.screen.kind == .repeatPrompt && iv.isInSensitiveSection)
        try iv.choose(yes: true)
        #expect(iv.at == 1 && iv.screen.instance == InstancePath([1]))
    }
}
