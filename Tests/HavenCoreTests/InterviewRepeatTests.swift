@testable import HavenCore
import Testing

/// size (integer) → members (repeat, jr:count = size, capacity 5):
/// m_name (label "Member <position>"), m_age (relevant: m_name answered);
/// then a note counting the members.
func countedRepeatForm() -> InstrumentBuilder {
    var b = InstrumentBuilder()
    b.node(.integer, "size", label: "How many people?")                                         // 0
    b.node(.repeat, "member", label: "Member") { n, b in
        n.repeatCount = b.expr(Asm.node(0) + Asm.end)
        n.repeatCapacity = 5
    }                                                                                           // 1
    b.node(.text, "m_name", parent: 1) { n, b in
        n.label = b.text("Name of member \(InstrumentBuilder.output(b.expr(Asm.position + Asm.end)))")
    }                                                                                           // 2
    b.node(.integer, "m_age", parent: 1) { n, b in
        n.label = b.text("Age of \(InstrumentBuilder.output(b.expr(Asm.node(2) + Asm.end)))")
        n.relevant = b.expr(Asm.node(2) + Asm.str(0) + Asm.op(.notEqual) + Asm.end)
    }                                                                                           // 3
    b.node(.note, "done") { n, b in
        n.label = b.text("\(InstrumentBuilder.output(b.expr(Asm.count(1) + Asm.end))) members")
    }                                                                                           // 4
    return b
}

/// An "add another" repeat (capacity 3) of one question, then a note.
func addAnotherForm(capacity: UInt16 = 3) -> InstrumentBuilder {
    var b = InstrumentBuilder()
    b.node(.repeat, "child", label: "Child") { n, _ in n.repeatCapacity = capacity }  // 0
    b.node(.text, "c_name", parent: 0, label: "Child's name")                       // 1
    b.node(.calculate, "c_no", parent: 0) { n, b in n.calculate = b.expr(Asm.position + Asm.end) }  // 2
    b.node(.note, "after", label: "After")                                          // 3
    return b
}

@Suite struct InterviewRepeatTests {
    @Test func countControlledRepeat() throws {
        var b = countedRepeatForm()
        let iv = try b.start()
        try iv.answer(integer: 3)
        iv.next()
        #expect(iv.instanceCount(ofRepeat: 1) == 3)
        for (i, name) in ["Ana", "Ben", "Cy"].enumerated() {
            #expect(iv.at == 2 && iv.screen.instance == InstancePath([i]))
            #expect(iv.label == "Name of member \(i + 1)")
            #expect(iv.screen.repeatPosition == i + 1 && iv.screen.repeatCount == 3)
            try iv.answer(name)
            iv.next()
            #expect(iv.at == 3 && iv.label == "Age of \(name)", "same-instance reference")
            try iv.answer(integer: Int64(20 + i))
            iv.next()
        }
        #expect(iv.at == 4 && iv.label == "3 members")
        #expect(iv.textAnswer(2, InstancePath([1])) == "Ben")
        #expect(iv.intAnswer(3, InstancePath([2])) == 22)

        // Fewer people: on re-entering, the count is re-evaluated and the
        // trimmed instance loses its answers.
        while iv.at != 0 { iv.back() }
        try iv.answer(integer: 2)
        iv.next()
        #expect(iv.instanceCount(ofRepeat: 1) == 2)
        #expect(!iv.hasAnswer(2, InstancePath([2])))
        #expect(iv.textAnswer(2, InstancePath([0])) == "Ana")
        // More than the capacity: clamped.
        iv.back()
        try iv.answer(integer: 40)
        iv.next()
        #expect(iv.instanceCount(ofRepeat: 1) == 5)
        #expect(!iv.hasAnswer(2, InstancePath([2])), "a re-created instance starts empty")
        // Zero: the repeat is skipped.
        while iv.at != 0 { iv.back() }
        try iv.answer(integer: 0)
        iv.next()
        #expect(iv.at == 4 && iv.label == "0 members")
    }

    @Test func addAnotherRepeat() throws {
        var b = addAnotherForm()
        let iv = try b.start()
        #expect(iv.at == 1 && iv.instanceCount(ofRepeat: 0) == 1, "first instance created on entry")
        try iv.answer("A")
        iv.next()
        #expect(iv.screen.kind == .repeatPrompt && iv.label == "Child")
        #expect(iv.position == .repeatPrompt(node: 0, instance: InstancePath([0])))
        #expect(iv.next() == .blocked(.required), "a yes/no screen needs a choice")
        try iv.choose(yes: true)
        #expect(iv.at == 1 && iv.screen.instance == InstancePath([1]))
        #expect(iv.textAnswer(2, InstancePath([1])) == "2")
        try iv.answer("B")
        iv.next()
        try iv.choose(yes: true)
        try iv.answer("C")
        iv.next()
        #expect(iv.at == 3, "capacity 3 reached: no prompt")
        #expect(iv.instanceCount(ofRepeat: 0) == 3)
        // Back into the last instance and forward again: no duplicate instance.
        iv.back()
        #expect(iv.at == 1 && iv.screen.instance == InstancePath([2]))
        iv.next()
        #expect(iv.at == 3 && iv.instanceCount(ofRepeat: 0) == 3)

        var small = addAnotherForm()
        let jv = try small.start()
        try jv.answer("only")
        jv.next()
        try jv.choose(yes: false)
        #expect(jv.at == 3 && jv.instanceCount(ofRepeat: 0) == 1)
        // Back through instance 0, forward: the prompt comes again.
        jv.back()
        jv.next()
        #expect(jv.screen.kind == .repeatPrompt)
    }

    @Test func nestedRepeatsAddressInstances() throws {
        var b = InstrumentBuilder()
        b.node(.repeat, "house", label: "House") { n, _ in n.repeatCapacity = 2 }                  // 0
        b.node(.integer, "rooms", parent: 0, label: "Rooms")                                       // 1
        b.node(.repeat, "room", parent: 0, label: "Room") { n, b in
            n.repeatCount = b.expr(Asm.node(1) + Asm.end)
            n.repeatCapacity = 3
        }                                                                                          // 2
        b.node(.text, "use", parent: 2) { n, b in
            n.label = b.text("Room \(InstrumentBuilder.output(b.expr(Asm.position + Asm.end))) of \(InstrumentBuilder.output(b.expr(Asm.count(2) + Asm.end)))")
        }                                                                                          // 3
        let iv = try b.start()
        try iv.answer(integer: 2)
        iv.next()
        #expect(iv.label == "Room 1 of 2")
        try iv.answer("kitchen")
        iv.next()
        try iv.answer("bed")
        iv.next()
        #expect(iv.screen.kind == .repeatPrompt)
        try iv.choose(yes: true)
        try iv.answer(integer: 1)
        iv.next()
        #expect(iv.screen.instance == InstancePath([1, 0]) && iv.label == "Room 1 of 1")
        try iv.answer("shop")
        iv.next()
        #expect(iv.screen.kind == .end, "house capacity 2 reached")
        #expect(iv.textAnswer(3, InstancePath([0, 1])) == "bed")
        #expect(iv.textAnswer(3, InstancePath([1, 0])) == "shop")
        #expect(iv.instanceCount(ofRepeat: 2, parent: InstancePath([0])) == 2)
        #expect(iv.instanceCount(ofRepeat: 2, parent: InstancePath([1])) == 1)
    }
}
