@testable import HavenCore
import Testing

/// consent (select yes/no, required) → name (relevant: consent = yes,
/// required with a message) → age (constraint 15 ≤ . ≤ 120 with a message)
/// → greeting note with an output → end.
func consentForm(languages: [String] = ["default"]) -> InstrumentBuilder {
    var b = InstrumentBuilder(languages: languages)
    let yesNo = b.list([("yes", "Yes"), ("no", "No")])
    let yes = b.string("yes")
    b.node(.selectOne, "consent", label: "Do you consent?") { n, b in
        n.choiceList = yesNo
        n.required = b.expr(Asm.yes + Asm.end)
    }                                                                                       // 0
    b.node(.text, "name", label: "Name") { n, b in
        n.relevant = b.expr(Asm.node(0) + Asm.str(yes) + Asm.op(.equal) + Asm.end)
        n.required = b.expr(Asm.yes + Asm.end)
        n.requiredMessage = b.text("Please give a name")
        n.hint = b.text("First name only")
    }                                                                                       // 1
    b.node(.integer, "age", label: "Age") { n, b in
        n.constraint = b.expr(Asm.dot + Asm.num(15) + Asm.op(.greaterOrEqual)
                              + Asm.dot + Asm.num(120) + Asm.op(.lessOrEqual) + Asm.op(.and) + Asm.end)
        n.constraintMessage = b.text("Age must be 15 to 120")
    }                                                                                       // 2
    b.node(.note, "greeting") { n, b in
        let name = b.expr(Asm.node(1) + Asm.end)
        let age = b.expr(Asm.node(2) + Asm.end)
        n.label = b.text("Thank you \(InstrumentBuilder.output(name)), age \(InstrumentBuilder.output(age)).",
                         "Merci \(InstrumentBuilder.output(name)), âge \(InstrumentBuilder.output(age)).")
    }                                                                                       // 3
    return b
}

@Suite struct InterviewNavigationTests {
    @Test func skipLogicFollowsRelevance() throws {
        var b = consentForm()
        let iv = try b.start()
        #expect(iv.at == 0)
        #expect(iv.screen.kind == .question && iv.screen.questionType == .selectOne)
        #expect(iv.choiceLabels == ["Yes", "No"])
        try iv.answer(choiceAt: 1)  // no
        #expect(iv.next() == .moved)
        #expect(iv.at == 2, "name is skipped when consent is no")
        #expect(iv.back() == .moved)
        try iv.answer(choiceAt: 0)  // yes
        #expect(iv.next() == .moved)
        #expect(iv.at == 1)
        #expect(iv.label == "Name" && iv.hint == "First name only")
    }

    @Test func irrelevantAnswersAreCleared() throws {
        var b = consentForm()
        let iv = try b.start()
        try iv.answer(choiceAt: 0)
        iv.next()
        try iv.answer("Ana")
        #expect(iv.textAnswer(1) == "Ana")
        iv.back()
        try iv.answer(choiceAt: 1)
        #expect(!iv.isRelevant(1))
        #expect(!iv.hasAnswer(1), "ODK: a node that stops being relevant loses its value")
        try iv.answer(choiceAt: 0)
        #expect(iv.isRelevant(1) && !iv.hasAnswer(1))
    }

    @Test func requiredAndConstraintKeepTheUserOnTheScreen() throws {
        var b = consentForm()
        let iv = try b.start()
        // Required without a form message: the generic one.
        #expect(iv.next() == .blocked(.required))
        #expect(iv.at == 0 && iv.screen.validation == .required)
        #expect(iv.message == "This question requires an answer.")
        try iv.answer(choiceAt: 0)
        #expect(iv.screen.validation == nil, "a new answer clears the message")
        iv.next()
        // Required with the form's message.
        #expect(iv.next() == .blocked(.required))
        #expect(iv.message == "Please give a name")
        try iv.answer("Ana")
        #expect(iv.next() == .moved)
        // Constraint: not checked while unanswered (age is not required)...
        #expect(iv.at == 2)
        try iv.answer(integer: 12)
        #expect(iv.next() == .blocked(.constraint))
        #expect(iv.message == "Age must be 15 to 120")
        #expect(iv.at == 2)
        try iv.answer(integer: 34)
        #expect(iv.next() == .moved)
        #expect(iv.at == 3)
        #expect(iv.screen.kind == .note)
        #expect(iv.label == "Thank you Ana, age 34.")
        #expect(iv.next() == .moved)
        #expect(iv.screen.kind == .end)
        #expect(iv.next() == .atBoundary)
    }

    @Test func constraintWithoutMessageUsesTheGenericOne() throws {
        var b = InstrumentBuilder()
        b.node(.integer, "n", label: "N") { n, b in n.constraint = b.expr(Asm.dot + Asm.num(0) + Asm.op(.greater) + Asm.end) }
        let iv = try b.start()
        try iv.answer(integer: -1)
        #expect(iv.next() == .blocked(.constraint))
        #expect(iv.message == "This answer is not allowed.")
        try iv.clearAnswer()
        #expect(iv.next() == .moved, "an unanswered optional question passes its constraint")
    }

    @Test func backAndNextRetraceTheSameScreens() throws {
        var b = consentForm()
        let iv = try b.start()
        try iv.answer(choiceAt: 0)
        iv.next()
        try iv.answer("Ana")
        iv.next()
        try iv.answer(integer: 40)
        iv.next()
        var forward: [Int] = [iv.at]
        while iv.back() == .moved { forward.append(iv.at) }
        #expect(forward == [3, 2, 1, 0])
        #expect(iv.back() == .atBoundary)
        var again: [Int] = [iv.at]
        while iv.next() == .moved { again.append(iv.at) }
        #expect(again == [0, 1, 2, 3, -1])
        #expect(iv.intAnswer(2) == 40 && iv.textAnswer(1) == "Ana")
    }

    @Test func languageSwitchMidInterview() throws {
        var b = consentForm(languages: ["English (en)", "Français (fr)"])
        let iv = try b.start(language: 0)
        try iv.answer(choiceAt: 0)
        iv.next()
        try iv.answer("Zoé")
        iv.next()
        try iv.answer(integer: 20)
        iv.next()
        #expect(iv.label == "Thank you Zoé, age 20.")
        try iv.setLanguage(1)
        #expect(iv.language == 1)
        #expect(iv.label == "Merci Zoé, âge 20.")
        #expect(throws: InterviewError.noSuchLanguage(2)) { try iv.setLanguage(2) }
        #expect(iv.textAnswer(1) == "Zoé")
    }

    @Test func typedEntryPointsRejectTypeErrors() throws {
        var b = consentForm()
        let iv = try b.start()
        #expect(throws: InterviewError.wrongType(expected: .selectOne)) { try iv.answer(integer: 3) }
        #expect(throws: InterviewError.wrongType(expected: .selectOne)) { try iv.answer("x") }
        #expect(throws: InterviewError.wrongType(expected: .selectOne)) { try iv.toggleChoice(at: 0) }
        #expect(throws: InterviewError.choiceOutOfRange(2)) { try iv.answer(choiceAt: 2) }
        try iv.answer(choiceAt: 0)
        iv.next()
        let invalid: [UInt8] = [0x41, 0xC3]
        #expect(throws: InterviewError.invalidText) { try invalid.withUnsafeBytes { try iv.answer(text: $0) } }
        #expect(throws: InterviewError.wrongType(expected: .text)) { try iv.answer(date: 1) }
        try iv.answer("A")
        iv.next()
        #expect(throws: InterviewError.wrongType(expected: .integer)) { try iv.answer(decimal: 1.5) }
        try iv.answer(integer: 30)
        iv.next()
        #expect(throws: InterviewError.notAQuestion) { try iv.answer(integer: 3) }
        #expect(throws: InterviewError.notAYesNoScreen) { try iv.choose(yes: true) }

        var d = InstrumentBuilder()
        d.node(.decimal, "x", label: "X")
        let dv = try d.start()
        #expect(throws: InterviewError.invalidNumber) { try dv.answer(decimal: .nan) }
        #expect(throws: InterviewError.invalidNumber) { try dv.answer(decimal: .infinity) }
        try dv.answer(decimal: 2.25)
        if case .decimal(let x) = dv.screen.answer { #expect(x == 2.25) } else { Issue.record("no decimal") }
    }

    @Test func calculatesSettleInDocumentOrder() throws {
        var b = InstrumentBuilder()
        b.node(.integer, "age", label: "Age")                                                   // 0
        // 1 depends on 2, which comes later: needs a second pass.
        b.node(.calculate, "label") { n, b in
            n.calculate = b.expr(Asm.node(2) + Asm.str(b.string("true")) + Asm.op(.equal)
                                 + Asm.str(b.string("adult")) + Asm.str(b.string("minor")) + Asm.call(.if, 3) + Asm.end)
        }
        b.node(.calculate, "is_adult") { n, b in
            n.calculate = b.expr(Asm.node(0) + Asm.num(18) + Asm.op(.greaterOrEqual) + Asm.end)
        }
        b.node(.calculate, "next_year") { n, b in
            n.calculate = b.expr(Asm.node(0) + Asm.num(1.5) + Asm.op(.add) + Asm.end)
        }
        b.node(.note, "show") { n, b in
            n.label = b.text("You are \(InstrumentBuilder.output(b.expr(Asm.node(1) + Asm.end)))")
        }
        let iv = try b.start()
        #expect(iv.textAnswer(2) == "false", "number(empty) is NaN: NaN >= 18 is false")
        #expect(iv.textAnswer(3) == "NaN", "XPath string(NaN), as ODK stores it")
        try iv.answer(integer: 30)
        #expect(iv.textAnswer(2) == "true")
        #expect(iv.textAnswer(1) == "adult")
        #expect(iv.textAnswer(3) == "31.5")
        iv.next()
        #expect(iv.label == "You are adult")
        iv.back()
        try iv.answer(integer: 10)
        #expect(iv.textAnswer(1) == "minor")
        #expect(iv.textAnswer(3) == "11.5")
    }

    @Test func defaultsPreloadAndReadonly() throws {
        var b = InstrumentBuilder()
        b.node(.integer, "n", label: "N") { n, b in n.defaultValue = b.string("7") }              // 0
        b.node(.date, "d", label: "D") { n, b in n.defaultValue = b.string("2000-01-31") }        // 1
        b.node(.text, "fixed", label: "Fixed") { n, b in
            n.defaultValue = b.string("preset")
            n.readonly = b.expr(Asm.yes + Asm.end)
            n.required = b.expr(Asm.yes + Asm.end)
        }                                                                                         // 2
        b.node(.preloadUID, "instanceID")                                                         // 3
        let iv = try b.start()
        #expect(iv.intAnswer(0) == 7)
        if case .date(let d) = iv.answer(of: 1) { #expect(d == 10957 + 30) } else { Issue.record("no date") }
        let id = iv.instanceID.string
        #expect(id.hasPrefix("uuid:") && id.count == 41)
        let hex = Array(id.utf8.dropFirst(5))
        #expect(hex[8] == UInt8(ascii: "-") && hex[13] == UInt8(ascii: "-") && hex[14] == UInt8(ascii: "4"))
        #expect([UInt8(ascii: "8"), UInt8(ascii: "9"), UInt8(ascii: "a"), UInt8(ascii: "b")].contains(hex[19]))
        #expect(iv.textAnswer(3) == id)
        let other = try b.start(seed: 43)
        #expect(other.instanceID.string != id)
        iv.next()
        iv.next()
        #expect(iv.at == 2 && iv.screen.isReadonly && iv.screen.isRequired)
        #expect(throws: InterviewError.readonly(node: 2)) { try iv.answer("changed") }
        #expect(iv.next() == .moved)
    }

    @Test func choiceFiltersAndMultipleSelection() throws {
        var b = InstrumentBuilder()
        let regions = b.list([("north", "North"), ("south", "South")])
        let districts = b.list([("d1", "Alpha"), ("d2", "Beta"), ("d3", "Gamma"), ("d4", "Delta")],
                               columns: ["region"], extras: [["north"], ["south"], ["north"], ["south"]])
        b.node(.selectOne, "region", label: "Region") { n, _ in n.choiceList = regions }          // 0
        b.node(.selectMultiple, "district", label: "Districts") { n, b in
            n.choiceList = districts
            n.choiceFilter = b.expr(Asm.column(2) + Asm.node(0) + Asm.op(.equal) + Asm.end)
        }                                                                                       // 1
        b.node(.note, "picked") { n, b in
            n.relevant = b.expr(Asm.node(1) + Asm.str(b.string("d3")) + Asm.call(.selected, 2) + Asm.end)
            n.label = b.text("Gamma picked")
        }                                                                                       // 2
        let iv = try b.start()
        try iv.answer(choiceAt: 1)
        iv.next()
        #expect(iv.choiceLabels == ["Beta", "Delta"])
        iv.back()
        try iv.answer(choiceAt: 0)
        iv.next()
        #expect(iv.choiceLabels == ["Alpha", "Gamma"])
        try iv.toggleChoice(at: 1)
        try iv.toggleChoice(at: 0)
        #expect(iv.textAnswer(1) == "d1 d3", "list order, not click order")
        #expect(iv.choice(at: 0)!.isSelected && iv.choice(at: 1)!.isSelected)
        #expect(iv.isRelevant(2))
        try iv.toggleChoice(at: 1)
        #expect(iv.textAnswer(1) == "d1")
        #expect(!iv.isRelevant(2))
        try iv.toggleChoice(at: 0)
        #expect(!iv.hasAnswer(1), "deselecting everything leaves no answer")
        #expect(throws: InterviewError.choiceOutOfRange(2)) { try iv.toggleChoice(at: 2) }
    }

    @Test func jumpToGroup() throws {
        var b = InstrumentBuilder()
        b.node(.text, "a", label: "A")                                    // 0
        let g = b.node(.group, "later")                                   // 1
        b.node(.text, "b", parent: g, label: "B")                         // 2
        b.node(.text, "c", label: "C")                                    // 3
        let hidden = b.node(.group, "hidden") { n, b in n.relevant = b.expr(Asm.no + Asm.end) }  // 4
        b.node(.text, "d", parent: hidden, label: "D")                    // 5
        let iv = try b.start()
        try iv.jump(toGroup: 1)
        #expect(iv.at == 2)
        #expect(iv.back() == .moved && iv.at == 0)
        #expect(throws: InterviewError.notAGroup(node: 3)) { try iv.jump(toGroup: 3) }
        #expect(throws: InterviewError.notRelevant(node: 4)) { try iv.jump(toGroup: 4) }
        #expect(throws: InterviewError.notAGroup(node: 99)) { try iv.jump(toGroup: 99) }
    }

    @Test func refusesInstrumentsTooLargeForTheBoard() throws {
        var b = InstrumentBuilder()
        let r = b.node(.repeat, "r") { n, _ in n.repeatCapacity = 100 }
        b.node(.text, "t", parent: r)
        let instrument = try Instrument(bytes: b.build())
        var limits = EngineLimits.standard
        limits.answerSlots = 100
        limits.repeatCapacity = 200
        #expect(throws: InterviewError.instrumentTooLarge(neededSlots: 101, availableSlots: 100)) {
            _ = try TestInterview(instrument: instrument, limits: limits, clock: testDay, randomSeed: 1)
        }
        limits.repeatCapacity = 20  // the board's limit caps the form's
        let iv = try TestInterview(instrument: instrument, limits: limits, clock: testDay, randomSeed: 1)
        #expect(iv.at == 1)

        var deep = InstrumentBuilder()
        deep.node(.text, "t", label: "T") { n, b in n.relevant = b.expr(Asm.yes + Asm.end, maxStack: 65) }
        let tooDeep = try Instrument(bytes: deep.build())
        #expect(throws: InterviewError.expressionTooDeep(index: 0, maxStack: 65, capacity: 64)) {
            _ = try TestInterview(instrument: tooDeep, clock: testDay, randomSeed: 1)
        }
    }
}
