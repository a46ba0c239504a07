import CAllocCounter
@testable import HavenCore
import Testing

/// Answering and navigating allocate nothing once the interview started:
/// counted with the per-thread allocation counter interposed on malloc.
@Suite struct InterviewAllocationTests {
    @Test func answeringAndNavigatingAllocateNothing() throws {
        var b = InstrumentBuilder(languages: ["en", "fr"])
        let fruit = b.list([("apple", "Apple"), ("pear", "Pear"), ("fig", "Fig")], columns: ["k"],
                           extras: [["a"], ["b"], ["a"]])
        b.node(.text, "name", label: "Name")                                                        // 0
        b.node(.integer, "size", label: "Size") { n, b in
            n.constraint = b.expr(Asm.dot + Asm.num(0) + Asm.op(.greaterOrEqual) + Asm.end)
        }                                                                                           // 1
        b.node(.selectMultiple, "fruit", label: "Fruit") { n, b in
            n.choiceList = fruit
            n.choiceFilter = b.expr(Asm.column(2) + Asm.str(b.string("a")) + Asm.op(.equal) + Asm.end)
        }                                                                                           // 2
        b.node(.repeat, "member", label: "Member") { n, b in n.repeatCount = b.expr(Asm.node(1) + Asm.end) }  // 3
        b.node(.text, "m", parent: 3) { n, b in
            n.label = b.text("Member \(InstrumentBuilder.output(b.expr(Asm.position + Asm.end))) of \(InstrumentBuilder.output(b.expr(Asm.node(0) + Asm.end)))")
        }                                                                                           // 4
        b.node(.calculate, "c") { n, b in
            n.calculate = b.expr(Asm.node(0) + Asm.str(b.string("/")) + Asm.node(1) + Asm.call(.concat, 3) + Asm.end)
        }                                                                                           // 5
        var limits = EngineLimits.standard
        limits.textArenaBytes = 2048  // small: the loop below forces compactions
        let iv = try b.start(limits: limits)
        let names: [[UInt8]] = ["Amina", "Bea", "Chloé Dupont-Marchand", ""].map { Array($0.utf8) }

        func round(_ i: Int) throws {
            try names[i % 3].withUnsafeBytes { try iv.answer(text: $0) }
            _ = iv.screen
            iv.next()
            try iv.answer(integer: Int64(i % 4))
            iv.next()
            try iv.toggleChoice(at: i % 2)
            try iv.toggleChoice(at: 1)
            _ = iv.choice(at: 0)
            iv.next()
            var k = 0
            while k < i % 4 {
                try names[(i + k) % 3].withUnsafeBytes { try iv.answer(text: $0) }
                iv.next()
                k += 1
            }
            try iv.setLanguage(i % 2)
            while iv.back() == .moved {}
        }

        var i = 0
        while i < 8 {  // warm up (first use of lazily initialised runtime state)
            try round(i)
            i += 1
        }
        let before = haven_thread_allocations()
        while i < 208 {
            try round(i)
            i += 1
        }
        let after = haven_thread_allocations()
        #expect(after - before == 0, "answering allocated \(after - before) times")
        #expect(iv.store.compactions > 10, "the arena was compacted \(iv.store.compactions) times")
        // The counter itself works (so the zero above means something).
        let probe = haven_thread_allocations()
        let array = [UInt8](repeating: 1, count: 100 + Int(probe % 3))
        #expect(haven_thread_allocations() > probe && array.count >= 100)
        #expect(iv.textAnswer(5) != nil)
    }
}
