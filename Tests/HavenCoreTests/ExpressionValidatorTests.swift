import HavenCore
import Testing

/// The load-time check refuses every malformed program, names where, and
/// never crashes on garbage; whatever it accepts, the VM runs without
/// trapping.
@Suite struct ExpressionValidatorTests {
    func validate(_ code: [UInt8], maxStack: Int = 8, strings: UInt32 = 4, nodes: UInt16 = 10,
                  columns: UInt16? = nil) -> ExpressionError? {
        code.withUnsafeBytes { raw in
            do throws(ExpressionError) {
                try BytecodeValidator.validate(raw, maxStack: maxStack, stringCount: strings, nodeCount: nodes,
                                               columnCount: columns)
                return nil
            } catch {
                return error
            }
        }
    }

    func program(_ build: (inout Assembler) -> Void) -> [UInt8] {
        var a = Assembler()
        build(&a)
        return a.bytes
    }

    @Test func acceptsWellFormedPrograms() {
        #expect(validate(program { $0.number(1); $0.number(2); $0.op(.add); $0.end() }, maxStack: 2) == nil)
        #expect(validate(program { $0.string(3); $0.node(9); $0.call(.concat, 2); $0.end() }) == nil)
        #expect(validate(program { $0.with(.once, 3); $0.call(.random, 0); $0.end() }) == nil)
        #expect(validate(program { $0.with(.itemColumn, 2); $0.end() }, columns: 3) == nil)
        #expect(validate(program { $0.op(.position); $0.with(.choiceName, 1); $0.end() }) == nil)
    }

    @Test func refusesMalformedPrograms() {
        #expect(validate([]) == .missingEnd)
        #expect(validate(program { $0.number(1) }) == .missingEnd)
        #expect(validate([0x01, 0, 0, 0]) == .truncated(offset: 0))
        #expect(validate([0x03, 0x77, 0xFF]) == .unknownOpcode(offset: 1))
        #expect(validate(program { $0.number(1); $0.op(.add); $0.end() }) == .stackUnderflow(offset: 9))
        #expect(validate(program { $0.end() }) == .stackUnderflow(offset: 0))
        #expect(validate(program { $0.op(.pushTrue); $0.op(.pushTrue); $0.end() }) == .leftoverValues(offset: 2))
        #expect(validate(program { $0.op(.pushTrue); $0.end(); $0.end() }) == .trailingBytes(offset: 2))
        #expect(validate(program { for _ in 0..<3 { $0.op(.pushTrue) }; $0.op(.and); $0.op(.and); $0.end() }, maxStack: 2)
            == .stackOverflow(offset: 2))
        #expect(validate(program { $0.op(.pushTrue); $0.op(.pushTrue); $0.call(.if, 2); $0.end() }) == .badArity(offset: 2))
        #expect(validate(program { $0.call(.concat, 0); $0.end() }) == .badArity(offset: 0))
        #expect(validate([0x30, 99, 0, 0xFF]) == .badReference(offset: 0))
        #expect(validate(program { $0.string(4); $0.end() }) == .badReference(offset: 0))
        #expect(validate(program { $0.node(10); $0.end() }) == .badReference(offset: 0))
        #expect(validate(program { $0.with(.countInstances, 10); $0.end() }) == .badReference(offset: 0))
        #expect(validate(program { $0.with(.itemColumn, 0); $0.end() }) == .badReference(offset: 0))
        #expect(validate(program { $0.with(.itemColumn, 3); $0.end() }, columns: 3) == .badReference(offset: 0))
    }

    @Test func refusesOnceSkipsThatAreNotOneSubexpression() {
        // Into the middle of an instruction.
        #expect(validate(program { $0.with(.once, 2); $0.number(1); $0.end() }) == .badSkip(offset: 0))
        // Over `end`, or past the program.
        #expect(validate(program { $0.with(.once, 1); $0.op(.pushTrue); $0.end() }) == nil)
        #expect(validate(program { $0.with(.once, 2); $0.op(.pushTrue); $0.end() }) == .badSkip(offset: 0))
        #expect(validate(program { $0.with(.once, 60); $0.op(.pushTrue); $0.end() }) == .badSkip(offset: 0))
        // Nothing to skip.
        #expect(validate(program { $0.with(.once, 0); $0.op(.pushTrue); $0.end() }) == .badSkip(offset: 0))
        // Skips a sub-expression that leaves two values.
        #expect(validate(program { $0.with(.once, 2); $0.op(.pushTrue); $0.op(.pushTrue); $0.op(.and); $0.end() })
            == .badSkip(offset: 0))
        // Nested, properly and not.
        #expect(validate(program { $0.with(.once, 4); $0.with(.once, 1); $0.op(.pushTrue); $0.end() }) == nil)
        #expect(validate(program {
            $0.with(.once, 4); $0.with(.once, 5); $0.op(.pushTrue); $0.op(.pushTrue); $0.op(.or); $0.end()
        }) == .badSkip(offset: 3))
    }

    /// Thousands of random and mutated programs: the validator returns (it
    /// never traps or hangs), and every program it accepts runs to a value
    /// or a typed error.
    @Test func fuzzedProgramsNeverCrash() throws {
        var rng = SplitMix64(seed: 42)
        let vm = ExpressionVM(stackCapacity: 16, arenaCapacity: 512)
        var env = TestEnvironment(strings: ["a", "b c", "[0-9]+"])
        env.set(1, .text("12"))
        env.set(2, .number(3.5))
        env.setItem(["v", "label", "x"])
        let seeds: [[UInt8]] = [
            program { $0.number(1); $0.number(2); $0.op(.add); $0.end() },
            program { $0.string(1); $0.string(3); $0.call(.regex, 2); $0.end() },
            program { $0.with(.once, 5); $0.node(1); $0.node(2); $0.op(.multiply); $0.end() },
            program { $0.string(2); $0.number(1); $0.number(3); $0.call(.substr, 3); $0.end() },
        ]
        var accepted = 0
        for i in 0..<6000 {
            var code: [UInt8]
            if i % 2 == 0 {
                code = (0..<rng.next(below: 24)).map { _ in
                    // Mostly real opcodes, so programs get past the first byte.
                    rng.next(below: 3) == 0 ? UInt8(truncatingIfNeeded: rng.next()) :
                        [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x10, 0x15, 0x18, 0x1A, 0x20, 0x22,
                         0x30, 0x31, 0x32, 0xFF][rng.next(below: 19)]
                }
            } else {
                code = seeds[rng.next(below: seeds.count)]
                for _ in 0..<(1 + rng.next(below: 3)) {
                    switch rng.next(below: 3) {
                    case 0: if !code.isEmpty { code[rng.next(below: code.count)] = UInt8(truncatingIfNeeded: rng.next()) }
                    case 1: if !code.isEmpty { code.removeLast(rng.next(below: code.count)) }
                    default: code.insert(UInt8(truncatingIfNeeded: rng.next()), at: rng.next(below: code.count + 1))
                    }
                }
            }
            let verdict = validate(code, maxStack: 16, strings: 4, nodes: 4, columns: 3)
            if verdict == nil {
                accepted += 1
                _ = try? vm.run(code, &env)  // a typed error is fine; a trap is not
            }
        }
        #expect(accepted > 100, "the fuzzer should reach the VM sometimes (accepted \(accepted))")
    }
}
