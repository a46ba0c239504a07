import CAllocCounter
import HavenCore
import Testing

/// The VM on hand-assembled programs: its mechanics (stack, arena, `once`,
/// typed errors) and that an evaluation allocates nothing.
@Suite struct ExpressionVMTests {
    func program(_ build: (inout Assembler) -> Void) -> [UInt8] {
        var a = Assembler()
        build(&a)
        a.end()
        return a.bytes
    }

    @Test func stackOperationsAndResults() throws {
        let vm = ExpressionVM()
        var env = TestEnvironment(strings: ["water power", "power", " x "])
        env.set(3, .number(7))
        #expect(try vm.run(program { $0.number(2); $0.node(3); $0.op(.multiply); $0.number(4); $0.op(.subtract) }, &env)
            == .number(10))
        #expect(try vm.run(program { $0.string(1); $0.string(2); $0.call(.selected, 2) }, &env) == .bool(true))
        #expect(try vm.run(program { $0.node(9) }, &env) == .empty)
        #expect(try vm.run(program { $0.string(3); $0.call(.stringLength, 1) }, &env) == .number(3))
        #expect(try vm.runString(program { $0.number(1); $0.number(3); $0.op(.divide) }, &env) == "0.3333333333333333")
        #expect(try vm.runString(program { $0.op(.pushFalse) }, &env) == "false")
        #expect(try vm.runString(program { $0.call(.today, 0) }, &env) == "2024-01-01")
        let bool = program { $0.number(0); $0.call(.boolean, 1) }
        #expect(try bool.withUnsafeBytes { try vm.evaluateBool($0, environment: &env) } == false)
        let number = program { $0.string(3); $0.call(.number, 1) }
        #expect(try number.withUnsafeBytes { try vm.evaluateNumber($0, environment: &env) }.isNaN)
    }

    @Test func onceSkipsItsArgumentWhenTheContextHasAValue() throws {
        let vm = ExpressionVM()
        var env = TestEnvironment()
        let code = program { $0.with(.once, 3); $0.call(.random, 0) }
        #expect(try vm.run(code, &env) == .number(0.25))
        #expect(env.randomCalls == 1)
        env.setContext(.number(0.75))
        #expect(try vm.run(code, &env) == .number(0.75))
        #expect(env.randomCalls == 1)
        env.setContext(.text(""))
        #expect(try vm.run(code, &env) == .number(0.25))
    }

    @Test func typedErrorsInsteadOfTraps() {
        var env = TestEnvironment(strings: [String(repeating: "x", count: 100)])
        let tiny = ExpressionVM(stackCapacity: 2, arenaCapacity: 150)
        #expect(throws: ExpressionError.stackOverflow(offset: 2)) {
            try tiny.run([0x03, 0x03, 0x03, 0x20, 0x20, 0xFF], &env)
        }
        #expect(throws: ExpressionError.arenaFull) {
            try tiny.run(program { $0.string(1); $0.string(1); $0.call(.concat, 2) }, &env)
        }
        #expect(throws: ExpressionError.unknownOpcode(offset: 0)) { try tiny.run([0x77], &env) }
        #expect(throws: ExpressionError.missingEnd) { try tiny.run([0x03], &env) }
        #expect(throws: ExpressionError.truncated(offset: 0)) { try tiny.run([0x05, 0x01], &env) }
        #expect(throws: ExpressionError.stackUnderflow(offset: 0)) { try tiny.run([0x10, 0xFF], &env) }
        #expect(throws: ExpressionError.badArity(offset: 0)) { try tiny.run([0x30, 5, 0, 0xFF], &env) }
        #expect(throws: ExpressionError.leftoverValues(offset: 2)) { try tiny.run([0x03, 0x03, 0xFF], &env) }
        env.setContext(.number(1))
        #expect(throws: ExpressionError.badSkip(offset: 0)) { try tiny.run([0x32, 9, 0, 0x03, 0xFF], &env) }
        let vm = ExpressionVM()
        var out = [UInt8](repeating: 0, count: 4)
        let code = program { $0.string(1) }
        #expect(throws: ExpressionError.bufferTooSmall(needed: 100)) {
            try code.withUnsafeBytes { c in
                try out.withUnsafeMutableBytes { _ = try vm.evaluateString(c, environment: &env, into: $0) }
            }
        }
    }

    /// Every kind of work an evaluation does — number parsing (fast and
    /// exact paths) and printing, dates, concat, substr, regex, selected —
    /// with the allocation counter: zero after warm-up.
    @Test func evaluationAllocatesNothing() throws {
        let vm = ExpressionVM()
        var env = TestEnvironment(strings: [
            "0712345678", "^07[0-9]{8}$", "water power fire", "fire", "123456789012345678901234.5", "2024-02-29", "-",
        ])
        env.set(1, .text("3.25"))
        env.set(2, .date(19_000))
        env.setContext(.empty)
        let programs: [[UInt8]] = [
            program { $0.node(1); $0.number(2); $0.op(.multiply); $0.number(0.1); $0.op(.add); $0.call(.string, 1) },
            program { $0.string(1); $0.string(2); $0.call(.regex, 2) },
            program { $0.string(3); $0.string(4); $0.call(.selected, 2); $0.string(3); $0.call(.countSelected, 1); $0.op(.add) },
            program { $0.string(5); $0.call(.number, 1); $0.call(.string, 1) },
            program { $0.node(2); $0.string(7); $0.string(6); $0.call(.date, 1); $0.number(1e-7); $0.call(.concat, 4) },
            program { $0.string(1); $0.number(2); $0.number(-2); $0.call(.substr, 3); $0.call(.stringLength, 1) },
            program { $0.number(1.005); $0.number(2); $0.call(.round, 2); $0.number(2.5); $0.call(.round, 1); $0.op(.add) },
            program { $0.with(.once, 3); $0.call(.random, 0); $0.number(7); $0.op(.modulo) },
            program { $0.node(2); $0.call(.today, 0); $0.op(.less); $0.string(6); $0.node(2); $0.op(.equal); $0.op(.or) },
        ]
        var out = [UInt8](repeating: 0, count: 512)
        try out.withUnsafeMutableBytes { o in
            for code in programs {
                try code.withUnsafeBytes { c in
                    for _ in 0..<3 { _ = try vm.evaluateString(c, environment: &env, into: o) }  // warm up
                    let before = haven_thread_allocations()
                    var i = 0
                    while i < 200 {
                        _ = try vm.evaluateString(c, environment: &env, into: o)
                        _ = try vm.evaluateBool(c, environment: &env)
                        i += 1
                    }
                    let after = haven_thread_allocations()
                    #expect(after - before == 0, "program \(code) allocated \(after - before) times")
                }
            }
        }
        // The counter itself works.
        let before = haven_thread_allocations()
        let array = [UInt8](repeating: 1, count: 1000 + Int(before % 7))
        #expect(haven_thread_allocations() > before && array.count >= 1000)
    }
}
