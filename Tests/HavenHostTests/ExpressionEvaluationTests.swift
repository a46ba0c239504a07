import HavenCore
import HavenHost
import Testing

/// Real pyxform-style expressions, compiled and run on the VM. Expected
/// values come from XPath 1.0 (§3.4–3.5, §4) and the ODK XForms spec /
/// JavaRosa where ODK differs (substr, regex, round, once, dates).
@Suite struct ExpressionEvaluationTests {
    @Test func arithmeticAndPrecedence() throws {
        var h = Harness()
        #expect(try h.eval("1 + 2 * 3") == .number(7))
        #expect(try h.eval("(1 + 2) * 3") == .number(9))
        #expect(try h.eval("10 - 4 - 3") == .number(3))
        #expect(try h.eval("7 div 2") == .number(3.5))
        #expect(try h.eval("2 * 3 div 4") == .number(1.5))
        #expect(try h.eval("- 2 + 3") == .number(1))
        #expect(try h.eval("2 * -3") == .number(-6))
        #expect(try h.eval("--4") == .number(4))
        // XPath 1.0 §3.5: 5 mod 2 = 1, 5 mod -2 = 1, -5 mod 2 = -1, -5 mod -2 = -1.
        #expect(try h.eval("5 mod 2") == .number(1))
        #expect(try h.eval("5 mod -2") == .number(1))
        #expect(try h.eval("-5 mod 2") == .number(-1))
        #expect(try h.eval("-5 mod -2") == .number(-1))
        #expect(try h.eval("5.5 mod 2") == .number(1.5))
        #expect(try h.eval("1 div 0") == .number(.infinity))
        #expect(try h.eval("-1 div 0") == .number(-.infinity))
        #expect(try h.eval("0 div 0") == .nan)
        #expect(try h.string("1 div 0") == "Infinity")
        #expect(try h.string("0 div 0") == "NaN")
        #expect(try h.string("0.1 + 0.2") == "0.30000000000000004")
        #expect(try h.string("3 * 0.5") == "1.5")
        #expect(try h.string("4 div 2") == "2")
        #expect(try h.string("-0") == "0")
        // Operator names are names where no operator can stand.
        #expect(try h.eval("/data/age div 2", on: "name") { $0.number("age", 30) } == .number(15))
        #expect(try h.eval("1 = 1 or 1 = 2 and 1 = 2") == .bool(true))  // and binds tighter
        #expect(try h.eval("(1 = 1 or 1 = 2) and 1 = 2") == .bool(false))
        #expect(try h.eval("3 > 2 > 1") == .bool(false))  // (3 > 2) = true → 1 > 1
        #expect(try h.eval("1 + 1 = 2") == .bool(true))
    }

    @Test func comparisonsOfStringsNumbersAndEmpty() throws {
        var h = Harness()
        #expect(try h.eval("/data/age = 30", on: "name") { $0.number("age", 30) } == .bool(true))
        #expect(try h.eval("/data/age = 30", on: "name") { $0.text("age", "30") } == .bool(true))
        #expect(try h.eval("/data/age = '30.0'", on: "name") { $0.number("age", 30) } == .bool(true))
        #expect(try h.eval("'30.0' = '30'") == .bool(false))  // two strings compare as strings
        #expect(try h.eval("'abc' = 'abc'") == .bool(true))
        #expect(try h.eval("'abc' != 'abd'") == .bool(true))
        #expect(try h.eval("'abc' < 'abd'") == .bool(false))  // relational: numbers, NaN
        #expect(try h.eval("'2' < '10'") == .bool(true))
        #expect(try h.eval("true() = 'false'") == .bool(true))  // boolean('false') is true
        #expect(try h.eval("1 = true()") == .bool(true))
        #expect(try h.eval("0 = false()") == .bool(true))
        #expect(try h.eval("'' = false()") == .bool(true))
        // Unanswered questions are the empty string.
        #expect(try h.eval("/data/name = ''", on: "age") == .bool(true))
        #expect(try h.eval("/data/name != ''", on: "age") == .bool(false))
        #expect(try h.eval("/data/name = 0", on: "age") == .bool(false))
        // `. > 5` is false when empty: number('') is NaN and NaN compares false.
        #expect(try h.eval(". > 5", on: "age") == .bool(false))
        #expect(try h.eval(". < 5", on: "age") == .bool(false))
        #expect(try h.eval(". <= 5", on: "age") == .bool(false))
        #expect(try h.eval(". != 5", on: "age") == .bool(true))
        #expect(try h.eval(". >= 18 and . <= 120", on: "age") { $0.context = .number(42) } == .bool(true))
        #expect(try h.eval(". >= 18 and . <= 120", on: "age") { $0.context = .number(12) } == .bool(false))
        #expect(try h.eval("number('') = number('')") == .bool(false))
        #expect(try h.eval("number('') != number('')") == .bool(true))
    }

    @Test func conversions() throws {
        var h = Harness()
        #expect(try h.eval("number('')") == .nan)
        #expect(try h.eval("number('abc')") == .nan)
        #expect(try h.eval("number(' 12 ') + 1") == .number(13))
        #expect(try h.eval("number('-1.5')") == .number(-1.5))
        #expect(try h.eval("number('1e3')") == .nan)  // no exponents in XPath 1.0
        #expect(try h.eval("number(true())") == .number(1))
        #expect(try h.eval("/data/age + 1", on: "name") == .nan)  // empty + 1
        #expect(try h.string("number('')") == "NaN")
        #expect(try h.eval("string(12.50)") == .string("12.5"))
        #expect(try h.eval("string(1 = 1)") == .string("true"))
        #expect(try h.eval("boolean('false')") == .bool(true))
        #expect(try h.eval("boolean('')") == .bool(false))
        #expect(try h.eval("boolean(0)") == .bool(false))
        #expect(try h.eval("boolean(number(''))") == .bool(false))
        #expect(try h.eval("boolean(-0.5)") == .bool(true))
        #expect(try h.eval("not(/data/name)", on: "age") == .bool(true))
        #expect(try h.eval("not(/data/name)", on: "age") { $0.text("name", "Ana") } == .bool(false))
        #expect(try h.eval("true() and not(false())") == .bool(true))
        #expect(try h.eval("string-length(string(42))") == .number(2))
    }

    @Test func selectFunctions() throws {
        var h = Harness()
        let set: (HostTestEnvironment) -> Void = { $0.text("services", "water power") }
        #expect(try h.eval("selected(/data/services, 'water')", on: "age", set) == .bool(true))
        #expect(try h.eval("selected(/data/services, 'power')", on: "age", set) == .bool(true))
        #expect(try h.eval("selected(/data/services, 'wat')", on: "age", set) == .bool(false))
        #expect(try h.eval("selected(/data/services, 'water power')", on: "age", set) == .bool(false))
        #expect(try h.eval("selected(/data/services, ' power ')", on: "age", set) == .bool(true))
        #expect(try h.eval("selected(/data/services, 'water')", on: "age") == .bool(false))
        #expect(try h.eval("selected(/data/services, '')", on: "age", set) == .bool(false))
        #expect(try h.eval("selected(., 'yes')", on: "consent") { $0.context = .string($0.bytes("yes")) } == .bool(true))
        #expect(try h.eval("count-selected(/data/services)", on: "age", set) == .number(2))
        #expect(try h.eval("count-selected(/data/services)", on: "age") == .number(0))
        #expect(try h.eval("count-selected(/data/services)", on: "age") { $0.text("services", "  a  b ") } == .number(2))
        #expect(try h.eval("count-selected(.) >= 1 and count-selected(.) <= 2", on: "services") {
            $0.context = .string($0.bytes("a b c"))
        } == .bool(false))
        #expect(try h.eval("selected-at(/data/services, 1)", on: "age", set) == .string("power"))
        #expect(try h.eval("selected-at(/data/services, 2)", on: "age", set) == .string(""))
    }

    @Test func ifConcatCoalesce() throws {
        var h = Harness()
        let adult = "if(/data/age >= 18, 'adult', 'minor')"
        #expect(try h.eval(adult, on: "name") { $0.number("age", 18) } == .string("adult"))
        #expect(try h.eval(adult, on: "name") { $0.number("age", 17) } == .string("minor"))
        #expect(try h.eval(adult, on: "name") == .string("minor"))  // empty → NaN ≥ 18 is false
        #expect(try h.eval("if(/data/name = '', 0, 1) + 1", on: "age") == .number(1))
        #expect(try h.eval("concat('Hello ', /data/name, '!')", on: "age") { $0.text("name", "Ana") } == .string("Hello Ana!"))
        #expect(try h.eval("concat('a', 1, true(), 2.5, /data/dob)", on: "age") {
            $0.date("dob", 19_727)
        } == .string("a1true2.52024-01-05"))
        #expect(try h.eval("concat(/data/name)", on: "age") == .string(""))
        #expect(try h.eval("concat(concat('x', 1), concat('y', 2))") == .string("x1y2"))
        #expect(try h.eval("coalesce(/data/name, 'anonymous')", on: "age") == .string("anonymous"))
        #expect(try h.eval("coalesce(/data/name, 'anonymous')", on: "age") { $0.text("name", "Ana") } == .string("Ana"))
        #expect(try h.eval("coalesce(number(''), 5)") == .number(5))
        #expect(try h.eval("coalesce('', '')") == .string(""))
        #expect(try h.eval("coalesce(0, 5)") == .number(0))
    }

    @Test func substrAndStringLength() throws {
        var h = Harness()
        // ODK/JavaRosa substr: 0-based start, end exclusive, negatives from the end.
        #expect(try h.eval("substr('hello', 1, 3)") == .string("el"))
        #expect(try h.eval("substr('hello', 0, 1)") == .string("h"))
        #expect(try h.eval("substr('hello', 2)") == .string("llo"))
        #expect(try h.eval("substr('hello', -2)") == .string("lo"))
        #expect(try h.eval("substr('hello', 0, -1)") == .string("hell"))
        #expect(try h.eval("substr('hello', 3, 1)") == .string(""))
        #expect(try h.eval("substr('hello', 10)") == .string(""))
        #expect(try h.eval("substr('hello', 1.9, 3.9)") == .string("el"))  // truncated
        #expect(try h.eval("substr('héllo wörld', 1, 2)") == .string("é"))
        #expect(try h.eval("substr(/data/phone, 0, 3)", on: "age") { $0.text("phone", "0712345678") } == .string("071"))
        #expect(try h.eval("string-length('hello')") == .number(5))
        #expect(try h.eval("string-length('héllo')") == .number(5))  // Unicode scalars
        #expect(try h.eval("string-length('')") == .number(0))
        #expect(try h.eval("string-length(/data/name)", on: "age") == .number(0))
        #expect(try h.eval("string-length(.) = 10", on: "phone") { $0.context = .string($0.bytes("0712345678")) } == .bool(true))
        #expect(try h.eval("string-length(12.5)") == .number(4))
        #expect(try h.eval("contains('water power', 'pow')") == .bool(true))
        #expect(try h.eval("starts-with(/data/phone, '07')", on: "age") { $0.text("phone", "0712") } == .bool(true))
        #expect(try h.eval("ends-with('abc', 'bc')") == .bool(true))
        #expect(try h.eval("ends-with('abc', 'abcd')") == .bool(false))
    }

    @Test func regexFullMatchAsODKCollect() throws {
        var h = Harness()
        func phone(_ pattern: String, _ value: String) throws -> Value {
            try h.eval("regex(., '\(pattern)')", on: "phone") { $0.context = .string($0.bytes(value)) }
        }
        #expect(try phone("^07[0-9]{8}$", "0712345678") == .bool(true))
        #expect(try phone("^07[0-9]{8}$", "071234567") == .bool(false))
        #expect(try phone("^07[0-9]{8}$", "07123456789") == .bool(false))
        #expect(try phone("^(\\+254|0)7\\d{8}$", "+254712345678") == .bool(true))
        #expect(try phone("^(\\+254|0)7\\d{8}$", "0712345678") == .bool(true))
        #expect(try phone("^(\\+254|0)7\\d{8}$", "254712345678") == .bool(false))
        #expect(try phone("[0-9]+", "123") == .bool(true))
        #expect(try phone("[0-9]+", "abc123") == .bool(false))  // a full match, not a search
        #expect(try phone("[0-9]{3}", "1234") == .bool(false))
        #expect(try phone("[A-Z][a-z]+( [A-Z][a-z]+)*", "Ana Maria Silva") == .bool(true))
        #expect(try phone("[A-Z][a-z]+( [A-Z][a-z]+)*", "Ana maria") == .bool(false))
        #expect(try phone(".*", "") == .bool(true))
        #expect(try phone("[^0-9]*", "abc") == .bool(true))
        #expect(try phone("\\w+@\\w+\\.com", "ana@example.com") == .bool(true))
        #expect(try phone("\\w+@\\w+\\.com", "ana@examplexcom") == .bool(false))
        #expect(try h.eval("regex(/data/name, '[a-z]+')", on: "age") == .bool(false))  // empty value
    }

    @Test func intAndRound() throws {
        var h = Harness()
        #expect(try h.eval("int(3.7)") == .number(3))
        #expect(try h.eval("int(-3.7)") == .number(-3))
        #expect(try h.eval("int('12.9')") == .number(12))
        #expect(try h.eval("int('')") == .nan)
        #expect(try h.eval("round(2.5)") == .number(3))
        #expect(try h.eval("round(-2.5)") == .number(-2))
        #expect(try h.eval("round(2.4999)") == .number(2))
        #expect(try h.eval("round(-2.6)") == .number(-3))
        #expect(try h.eval("round(3.14159, 2)") == .number(3.14))
        #expect(try h.eval("round(1.005, 2)") == .number(1.01))
        #expect(try h.eval("round(1234.5, -2)") == .number(1200))
        #expect(try h.eval("round(number(''))") == .nan)
        #expect(try h.string("round(/data/age div 3, 1)", on: "name") { $0.number("age", 10) } == "3.3")
    }

    @Test func datesAndToday() throws {
        var h = Harness()
        // 2024-01-05 is day 19,727 since 1970-01-01; today() is 2024-01-01 (19,723) in the environment.
        let dob: (HostTestEnvironment) -> Void = { $0.date("dob", 19_727) }
        #expect(try h.eval("today()") == .date(19_723))
        #expect(try h.string("today()") == "2024-01-01")
        #expect(try h.string("/data/dob", on: "age", dob) == "2024-01-05")
        #expect(try h.eval("/data/dob > today()", on: "age", dob) == .bool(true))
        #expect(try h.eval(". <= today()", on: "dob") { $0.context = .date(19_000) } == .bool(true))
        #expect(try h.eval(". <= today()", on: "dob") == .bool(false))  // unanswered
        #expect(try h.eval("/data/dob - today()", on: "age", dob) == .number(4))
        #expect(try h.eval("/data/dob = '2024-01-05'", on: "age", dob) == .bool(true))
        #expect(try h.eval("/data/dob >= date('1920-01-01')", on: "age", dob) == .bool(true))
        #expect(try h.eval("/data/dob > '2024-01-06'", on: "age", dob) == .bool(false))
        #expect(try h.eval("date('2024-01-05') = /data/dob", on: "age", dob) == .bool(true))
        #expect(try h.string("date(today() + 31)") == "2024-02-01")
        #expect(try h.string("date(0)") == "1970-01-01")
        #expect(try h.eval("number(date('1970-01-02'))") == .number(1))
        #expect(try h.eval("date('not a date')") == .empty)
        // Dates stored as text behave the same.
        #expect(try h.eval("(today() - /data/dob) div 365.25 >= 18", on: "age") { $0.text("dob", "2000-02-29") } == .bool(true))
        #expect(try h.eval("int((today() - /data/dob) div 365.25)", on: "age") { $0.text("dob", "2000-02-29") } == .number(23))
        #expect(try h.eval("boolean(today())") == .bool(true))
    }

    @Test func repeatsPositionAndCount() throws {
        var h = Harness()
        #expect(try h.eval("position(..)", on: "hh/pos") { $0.currentPosition = 2 } == .number(2))
        #expect(try h.eval("concat('Member ', position(..))", on: "hh/m_name") { $0.currentPosition = 3 } == .string("Member 3"))
        #expect(try h.eval("position(..) + 10", on: "hh/child/c_age") { $0.currentPosition = 1 } == .number(11))
        #expect(try h.eval("count(/data/hh)", on: "total") { $0.counts[TestForm.node("hh")] = 4 } == .number(4))
        #expect(try h.eval("count(/data/hh) > 0", on: "total") == .bool(false))
        #expect(try h.eval("count(../child)", on: "hh/m_age") { $0.counts[TestForm.node("hh/child")] = 2 } == .number(2))
        #expect(try h.eval("count(/data/age)", on: "total") == .number(1))
        #expect(try h.eval("../m_age >= 15", on: "hh/m_name") { $0.number("hh/m_age", 16) } == .bool(true))
        #expect(try h.eval("/data/hh/m_age + 1", on: "hh/m_name") { $0.number("hh/m_age", 16) } == .number(17))
        #expect(try h.eval("../../age", on: "grp/inner") { $0.number("age", 5) } == .number(5))
        #expect(try h.eval("current()/../m_age", on: "hh/m_name") { $0.number("hh/m_age", 7) } == .number(7))
    }

    @Test func onceKeepsAnExistingValue() throws {
        var h = Harness()
        #expect(try h.eval("once(random())", on: "total") == .number(0.625))
        #expect(h.env.randomCalls == 1)
        #expect(try h.eval("once(random())", on: "total") { $0.context = .number(0.5); $0.randomCalls = 0 } == .number(0.5))
        #expect(h.env.randomCalls == 0)  // the argument is not evaluated
        #expect(try h.eval("once(concat('id-', /data/name))", on: "total") {
            $0.context = .empty
            $0.text("name", "x")
        } == .string("id-x"))
        #expect(try h.eval("once(int(random() * 100)) + 1", on: "total") { $0.context = .number(41) } == .number(42))
        #expect(try h.string("once(random())", on: "total") { $0.context = .string($0.bytes("")) } == "0.625")
    }

    @Test func choiceName() throws {
        var h = Harness()
        let label = "jr:choice-name( /data/consent ,' /data/consent ')"
        #expect(try h.eval(label, on: "name") {
            $0.text("consent", "yes")
            $0.labels["yes"] = $0.bytes("Yes, I agree")
        } == .string("Yes, I agree"))
        #expect(try h.eval("jr:choice-name(., '.')", on: "consent") {
            $0.context = .string($0.bytes("no"))
            $0.labels["no"] = $0.bytes("No")
        } == .string("No"))
        #expect(try h.eval("concat('You chose ', jr:choice-name(/data/district, '/data/district'))", on: "name") {
            $0.text("district", "d1")
            $0.labels["d1"] = $0.bytes("North")
        } == .string("You chose North"))
    }

    @Test func itemsetFilterWithChoiceColumns() throws {
        var h = Harness(columns: ["name", "label", "district"])
        let filter = "district = current()/../district"
        #expect(try h.eval(filter, on: "village") {
            $0.item = [$0.bytes("v1"), $0.bytes("Village 1"), $0.bytes("d2")]
            $0.text("district", "d2")
        } == .bool(true))
        #expect(try h.eval(filter, on: "village") {
            $0.item = [$0.bytes("v2"), $0.bytes("Village 2"), $0.bytes("d1")]
        } == .bool(false))
        #expect(try h.eval("district = /data/district and name != 'other'", on: "village") {
            $0.item = [$0.bytes("other"), $0.bytes("Other"), $0.bytes("d2")]
            $0.text("district", "d2")
        } == .bool(false))
        #expect(try h.eval("starts-with(label, 'Vil')", on: "village") {
            $0.item = [$0.bytes("v1"), $0.bytes("Village 1"), $0.bytes("d2")]
        } == .bool(true))
    }
}
