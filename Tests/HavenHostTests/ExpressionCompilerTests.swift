import HavenCore
import HavenHost
import Testing

/// What the compiler emits for pyxform's path forms, and what it refuses
/// (with the construct named and its column).
@Suite struct ExpressionCompilerTests {
    let form = TestForm()

    func ops(_ compiled: CompiledExpression) -> [Opcode] {
        var result: [Opcode] = []
        var pc = 0
        while pc < compiled.bytecode.count {
            let op = Opcode(rawValue: compiled.bytecode[pc])!
            result.append(op)
            pc += 1 + op.operandByteCount
        }
        return result
    }

    func u16(_ c: CompiledExpression, at offset: Int) -> UInt16 {
        UInt16(c.bytecode[offset]) | UInt16(c.bytecode[offset + 1]) << 8
    }

    @Test func pathsResolveToNodes() throws {
        let absolute = try form.compile(" /data/hh/m_age  > 15", on: "hh/m_name")
        #expect(ops(absolute) == [.loadNode, .pushNumber, .greater, .end])
        #expect(u16(absolute, at: 1) == TestForm.node("hh/m_age"))
        #expect(absolute.maxStack == 2)
        let relative = try form.compile("../m_age", on: "hh/m_name")
        #expect(u16(relative, at: 1) == TestForm.node("hh/m_age"))
        let dot = try form.compile(".", on: "age")
        #expect(ops(dot) == [.loadContext, .end])
        let current = try form.compile("current()", on: "age")
        #expect(ops(current) == [.loadContext, .end])
        let selfByPath = try form.compile("/data/age", on: "age")
        #expect(ops(selfByPath) == [.loadContext, .end])
        let dotted = try form.compile("./../grp/./inner", on: "age")
        #expect(u16(dotted, at: 1) == TestForm.node("grp/inner"))
    }

    @Test func functionsCompileToCallsAndOpcodes() throws {
        let c = try form.compile("if(selected(/data/services, 'a'), concat('x', 'y', 'z'), not(true()))", on: "age")
        #expect(ops(c) == [.loadNode, .pushString, .call, .pushString, .pushString, .pushString, .call, .pushTrue, .not,
                           .call, .end])
        #expect(c.maxStack == 4)
        let count = try form.compile("count(/data/hh)", on: "total")
        #expect(ops(count) == [.countInstances, .end])
        #expect(u16(count, at: 1) == TestForm.node("hh"))
        let once = try form.compile("once(random())", on: "total")
        #expect(ops(once) == [.once, .call, .end])
        #expect(u16(once, at: 1) == 3)  // skips the 3-byte call
        let choice = try form.compile("jr:choice-name( /data/consent ,' /data/consent ')", on: "name")
        #expect(ops(choice) == [.loadNode, .choiceName, .end])
        #expect(u16(choice, at: 4) == TestForm.node("consent"))
        let filter = try form.compile("district = current()/../district", on: "village",
                                      columns: ["name", "label", "district"])
        #expect(ops(filter) == [.itemColumn, .loadNode, .equal, .end])
        #expect(u16(filter, at: 1) == 2)
        #expect(form.strings.contains("a") && form.strings.first == "")
    }

    @Test func deepExpressionsRecordTheirStackDepth() throws {
        let c = try form.compile("1 + (2 + (3 + (4 + (5 + 6))))")
        #expect(c.maxStack == 6)
        let flat = try form.compile("1 + 2 + 3 + 4 + 5 + 6")
        #expect(flat.maxStack == 2)
    }

    func refusal(_ source: String, on node: String? = "age", columns: [String]? = nil) -> ExpressionCompileError? {
        do {
            _ = try form.compile(source, on: node, columns: columns)
            return nil
        } catch let error as ExpressionCompileError {
            return error
        } catch {
            return nil
        }
    }

    @Test(arguments: [
        ("pulldata('hh', 'name', 'id', /data/name)", "function 'pulldata'", 1),
        ("indexed-repeat(/data/hh/m_name, /data/hh, 1)", "function 'indexed-repeat'", 1),
        (". > 1 and format-date(today(), '%Y') = '2024'", "function 'format-date'", 11),
        ("/data/age | /data/name", "union '|'", 11),
        ("count(ancestor::hh)", "axis 'ancestor::'", 7),
        ("/data/hh[1]/m_age", "predicate '[…]'", 9),
        ("/data/hh[position() = 1]/m_age > 3", "predicate '[…]'", 9),
        ("//age", "descendant path '//'", 1),
        ("/data//age", "descendant path '//'", 6),
        ("../@id", "attribute '@id'", 4),
        ("$foo + 1", "variable '$foo'", 1),
        ("instance('districts')/root/item[name = 'x']/label", "function 'instance'", 1),
        ("/data/*", "wildcard '*'", 7),
        ("text()", "node test 'text()'", 1),
        ("regex(., '(a)\\1')", "regex pattern '(a)\\1'", 10),
        ("regex(., '(?i)abc')", "regex pattern '(?i)abc'", 10),
        ("/data/nope", "path '/data/nope'", 1),
        ("/other/age", "path '/other/age'", 1),
        ("../../..", "path '../../..'", 1),
        ("concat()", "function 'concat'", 1),
        ("substr('a')", "function 'substr'", 1),
        ("if(1, 2)", "function 'if'", 1),
        ("position(.)", "function 'position'", 1),
        ("jr:choice-name(., /data/consent)", "function 'jr:choice-name'", 1),
        ("1 +", "syntax", 4),
        ("(1 + 2", "syntax", 7),
        ("'unterminated", "string literal", 1),
        ("1 ! 2", "'!'", 3),
        ("", "expression", 1),
        ("${age} > 5", "reference '${age}'", 1),
    ])
    func refusesWhatTheVMCannotRun(_ source: String, _ construct: String, _ column: Int) {
        let error = refusal(source)
        #expect(error?.construct == construct, "\(source): \(String(describing: error))")
        #expect(error?.column == column, "\(source): \(String(describing: error))")
    }

    @Test func refusalsInContext() {
        #expect(refusal("../name", on: nil)?.message == "a relative path needs a context node")
        #expect(refusal("position(..)", on: "age")?.construct == "function 'position'")
        #expect(refusal("position(../..)", on: "hh/child/c_age")?.construct == "function 'position'")
        let columns = ["name", "label", "district"]
        #expect(refusal("region = 'x'", on: "village", columns: columns)?.construct == "column 'region'")
        #expect(refusal("../district = 'x'", on: "village", columns: columns)?.construct == "path '../district'")
        let error = refusal("pulldata('a', 'b', 'c', 'd')")!
        #expect(error.description == "column 1: function 'pulldata': not supported on Haven")
    }

    @Test func everyCompiledProgramPassesTheLoadTimeValidator() throws {
        let sources = [
            "1 + 2 * 3", "if(. > 5, 'big', concat('small ', .))", "once(random())",
            "jr:choice-name(/data/consent, '/data/consent')", "count(/data/hh) + position(..)",
            "regex(., '^[0-9]{10}$') and string-length(.) = 10", "round(3.14159, 2)", "date('2020-01-01') < today()",
        ]
        for source in sources {
            let c = try form.compile(source, on: "hh/m_age")
            try c.bytecode.withUnsafeBytes { code in
                try BytecodeValidator.validate(code, maxStack: Int(c.maxStack), stringCount: UInt32(form.strings.count),
                                               nodeCount: UInt16(TestForm.paths.count), columnCount: nil)
            }
        }
    }
}
