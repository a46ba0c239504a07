@testable import HavenCore
import Testing

/// Number ↔ text as XPath 1.0 specifies it (§4.2 `string()`, §4.4
/// `number()`), checked against fixed expectations and, for shortest
/// digits and correct rounding, against Swift's own (independent) printer
/// and parser.
@Suite struct ExpressionNumberTextTests {
    let scratch = NumberScratch.allocate()

    func format(_ x: Double) -> String {
        var out = [UInt8](repeating: 0, count: 400)
        let n = out.withUnsafeMutableBytes { scratch.formatNumber(x, into: $0) }
        return String(decoding: out[0..<n!], as: UTF8.self)
    }

    func parse(_ text: String) -> Double? {
        Array(text.utf8).withUnsafeBytes { scratch.parseDecimal($0) }
    }

    @Test func xpathStringOfNumbers() {
        #expect(format(1) == "1")
        #expect(format(-42) == "-42")
        #expect(format(1.5) == "1.5")
        #expect(format(-0.25) == "-0.25")
        #expect(format(0.1 + 0.2) == "0.30000000000000004")
        #expect(format(0.0) == "0")
        #expect(format(-0.0) == "0")
        #expect(format(.nan) == "NaN")
        #expect(format(.infinity) == "Infinity")
        #expect(format(-.infinity) == "-Infinity")
        #expect(format(1e21) == "1000000000000000000000")
        #expect(format(1e-7) == "0.0000001")
        #expect(format(123.456) == "123.456")
        #expect(format(1.0 / 3.0) == "0.3333333333333333")
        #expect(format(2.0 / 3.0) == "0.6666666666666666")
        #expect(format(9_007_199_254_740_993) == "9007199254740992")
        #expect(format(5e-324) == "0." + String(repeating: "0", count: 323) + "5")
        #expect(format(.greatestFiniteMagnitude) == "17976931348623157" + String(repeating: "0", count: 292))
    }

    @Test func xpathNumberOfStrings() {
        #expect(parse("12") == 12)
        #expect(parse("  -3.5\n") == -3.5)
        #expect(parse(".5") == 0.5)
        #expect(parse("5.") == 5)
        #expect(parse("0.1") == 0.1)
        #expect(parse("-0")?.sign == .minus)
        for bad in ["", " ", "-", ".", "1e5", "+1", "1.2.3", "12abc", "Infinity", "NaN", "1,5", "0x10", "- 1"] {
            #expect(parse(bad) == nil, "\(bad)")
        }
    }

    @Test func correctlyRoundedParsing() {
        let cases = [
            "9007199254740993", "9007199254740995", "9007199254740993.0000000000000000000001",
            "123456789012345678901234567890", "0.30000000000000004", "0.3000000000000000444089209850062616169452667236328125",
            "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791.9",
            "0." + String(repeating: "0", count: 307) + "22250738585072011",
            "0." + String(repeating: "0", count: 323) + "5",
            "0." + String(repeating: "0", count: 323) + "2",
            "0." + String(repeating: "0", count: 323) + "25",
            "0." + String(repeating: "0", count: 400) + "1",
            "1" + String(repeating: "0", count: 400),
            "2.4703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125",
            // Exactly half the smallest subnormal: a tie, to even (0); and just above it.
            "0." + String(repeating: "0", count: 323) + "24703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125",
            "0." + String(repeating: "0", count: 323) + "247032822920623272088284396434110686182529901307162382212792841250337753635104375932649918180817996189898282347722858865463328355177969898199387398005390939063150356595155702263922908583924491051844359318028499365361525003193704576782492193656236698636584807570015857692699037063119282795585513329278343384093519780155312465972635795746227664652728272200563740064854999770965994704540208281662262378573934507363390079677619305775067401763246736009689513405355374585166611342237666786041621596804619144672918403005300575308490487653917113865916462395249126236538818796362393732804238910186723484976682350898633885879256283027559956575244555072551893136908362547791869486679949683240497058210285131854513962138377228261454376934125320985913276672363281251",
        ]
        for text in cases {
            #expect(parse(text) == Double(text), "\(text.prefix(60))")
        }
    }

    @Test func randomDecimalStringsMatchSwiftsParser() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<3000 {
            let intDigits = rng.next(below: 25)
            let fracDigits = rng.next(below: 30)
            var text = rng.next(below: 2) == 0 ? "" : "-"
            for _ in 0..<intDigits { text += String(rng.next(below: 10)) }
            if fracDigits > 0 || intDigits == 0 {
                text += "."
                for _ in 0..<max(fracDigits, 1) { text += String(rng.next(below: 10)) }
            }
            #expect(parse(text) == Double(text), "\(text)")
        }
    }

    /// Splits Swift's description ("1.25e-05", "123.0", "5e-324") into
    /// significant digits and the decimal point position (0.d1d2… × 10^k).
    func digitsAndPoint(_ description: String) -> (String, Int) {
        var mantissa = description
        var exponent = 0
        if let e = description.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = String(description[..<e])
            exponent = Int(description[description.index(after: e)...].filter { $0 != "+" })!
        }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let whole = String(parts[0])
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        var all = whole + fraction
        var point = whole.count + exponent
        while all.hasPrefix("0") { all.removeFirst(); point -= 1 }
        while all.hasSuffix("0") { all.removeLast() }
        return (all, point)
    }

    @Test func shortestDigitsMatchSwiftsPrinter() {
        var rng = SplitMix64(seed: 11)
        for i in 0..<20_000 {
            var x = Double(bitPattern: rng.next() & 0x7FFF_FFFF_FFFF_FFFF)
            if i % 4 == 1 { x = Double(rng.next(below: 1_000_000)) / 1000 }
            if i % 4 == 2 { x = Double(bitPattern: rng.next() & 0x000F_FFFF_FFFF_FFFF) }  // subnormal
            if !x.isFinite || x == 0 { continue }
            let (count, point) = scratch.shortestDigits(x)
            let mine = String((0..<count).map { Character(String(scratch.digits[$0])) })
            let (expected, expectedPoint) = digitsAndPoint(x.description)
            #expect(mine == expected && point == expectedPoint, "\(x): \(mine)e\(point)")
            if mine != expected || point != expectedPoint { return }
        }
    }

    @Test func formattedNumbersReadBackExactly() {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<5000 {
            let x = Double(bitPattern: rng.next())
            if !x.isFinite { continue }
            let text = format(x)
            #expect(parse(text) == x || (x == 0 && parse(text) == 0), "\(x) → \(text)")
        }
    }

    @Test func decimalRoundingFollowsJavaRosa() {
        #expect(scratch.roundDecimal(1.005, places: 2) == 1.01)
        #expect(scratch.roundDecimal(2.345, places: 2) == 2.35)
        #expect(scratch.roundDecimal(-2.345, places: 2) == -2.34)
        #expect(scratch.roundDecimal(-2.346, places: 2) == -2.35)
        #expect(scratch.roundDecimal(33.33, places: -1) == 30)
        #expect(scratch.roundDecimal(35, places: -1) == 40)
        #expect(scratch.roundDecimal(9.996, places: 2) == 10)
        #expect(scratch.roundDecimal(0.004, places: 2) == 0)
        #expect(scratch.roundDecimal(1234.5678, places: 0) == 1235)
        #expect(scratch.roundDecimal(1.5, places: 5) == 1.5)
        #expect(scratch.roundDecimal(1.5, places: 31).isNaN)
    }

    @Test func libmFreeFloatMath() {
        #expect(FloatMath.truncated(2.7) == 2)
        #expect(FloatMath.truncated(-2.7) == -2)
        #expect(FloatMath.truncated(-0.5).sign == .minus)
        #expect(FloatMath.floored(-2.5) == -3)
        #expect(FloatMath.floored(3) == 3)
        #expect(FloatMath.remainder(7, 3) == 1)
        #expect(FloatMath.remainder(-7, 3) == -1)
        #expect(FloatMath.remainder(7, -3) == 1)
        #expect(FloatMath.remainder(5.5, 2) == 1.5)
        #expect(FloatMath.remainder(1, 0).isNaN)
        #expect(FloatMath.remainder(.infinity, 2).isNaN)
        #expect(FloatMath.remainder(3, .infinity) == 3)
        var rng = SplitMix64(seed: 5)
        for _ in 0..<5000 {
            let x = Double(bitPattern: rng.next())
            let y = Double(bitPattern: rng.next())
            let expected = x.truncatingRemainder(dividingBy: y)
            let got = FloatMath.remainder(x, y)
            #expect(got.bitPattern == expected.bitPattern || (got.isNaN && expected.isNaN), "\(x) mod \(y)")
        }
    }
}
