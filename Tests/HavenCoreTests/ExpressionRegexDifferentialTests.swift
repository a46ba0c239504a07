import Foundation
@testable import HavenCore
import Testing

/// The matcher against independent engines on random patterns built from
/// the supported syntax and random subjects, full-match answers compared:
/// Java's `Pattern.matches` itself (what ODK Collect runs) when a JDK is
/// installed, and ICU (NSRegularExpression) always. ICU's `\d \w \s` are
/// Unicode-aware where Java's (and ours) are ASCII, so ICU gets the ASCII
/// classes spelled out, and ICU differs from Java on `^` inside repeated
/// groups, so its patterns keep anchors at the ends.
@Suite struct ExpressionRegexDifferentialTests {
    /// A random pattern of the supported subset, and the same for ICU.
    func pattern(_ rng: inout SplitMix64, depth: Int = 0, innerAnchors: Bool) -> (String, String) {
        var out = ""
        var icu = ""
        for _ in 0..<(1 + rng.next(below: 3)) {
            var atom: String
            var icuAtom: String?
            switch rng.next(below: depth < 2 ? 10 : 8) {
            case 0: atom = "a"
            case 1: atom = "b"
            case 2: atom = "."
            case 3:
                let k = rng.next(below: 4)
                atom = ["[ab]", "[^a]", "[a-c1]", "[\\d ]"][k]
                icuAtom = ["[ab]", "[^a]", "[a-c1]", "[0-9 ]"][k]
            case 4:
                let k = rng.next(below: 4)
                atom = ["\\d", "\\w", "\\s", "\\S"][k]
                icuAtom = ["[0-9]", "[a-zA-Z_0-9]", "[ \\t\\n\\x0B\\f\\r]", "[^ \\t\\n\\x0B\\f\\r]"][k]
            case 5: atom = "1"
            case 6: atom = "é"
            case 7: atom = " "
            case 8:
                let (inner, innerICU) = pattern(&rng, depth: depth + 1, innerAnchors: innerAnchors)
                atom = "(" + inner + ")"
                icuAtom = "(" + innerICU + ")"
            default:
                let (a, aICU) = pattern(&rng, depth: depth + 1, innerAnchors: innerAnchors)
                let (b, bICU) = pattern(&rng, depth: depth + 1, innerAnchors: innerAnchors)
                atom = "(?:" + a + "|" + b + ")"
                icuAtom = "(?:" + aICU + "|" + bICU + ")"
            }
            var quantifier = ""
            switch rng.next(below: 9) {
            case 0: quantifier = "*"
            case 1: quantifier = "+"
            case 2: quantifier = "?"
            case 3: quantifier = "{\(rng.next(below: 3))}"
            case 4: let m = rng.next(below: 3); quantifier = "{\(m),\(m + rng.next(below: 3))}"
            case 5: quantifier = "{\(rng.next(below: 2)),}"
            default: break
            }
            out += atom + quantifier
            icu += (icuAtom ?? atom) + quantifier
        }
        if (depth == 0 || innerAnchors) && rng.next(below: 8) == 0 { out = "^" + out; icu = "^" + icu }
        if (depth == 0 || innerAnchors) && rng.next(below: 8) == 0 { out += "$"; icu += "$" }
        return (out, icu)
    }

    @Test func agreesWithICUOnRandomPatterns() throws {
        var rng = SplitMix64(seed: 2024)
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: 8192, alignment: 8)
        defer { memory.deallocate() }
        let letters = Array("ab1 é")
        var compared = 0
        for _ in 0..<1500 {
            let (p, icuPattern) = pattern(&rng, innerAnchors: false)
            let icu = try NSRegularExpression(pattern: "(?:" + icuPattern + ")\\z")
            for _ in 0..<8 {
                let subject = String((0..<rng.next(below: 7)).map { _ in letters[rng.next(below: letters.count)] })
                let range = NSRange(subject.startIndex..., in: subject)
                let expected = icu.firstMatch(in: subject, options: [.anchored], range: range) != nil
                let mine = Array(subject.utf8).withUnsafeBytes { s in
                    Array(p.utf8).withUnsafeBytes { BacktrackingRegex.matches(s, pattern: $0, memory: memory) }
                }
                #expect(mine == expected, "regex(\"\(subject)\", \"\(p)\")")
                compared += 1
            }
        }
        #expect(compared == 12_000)
    }

    static let javaOracle = """
        import java.io.*;
        import java.nio.charset.StandardCharsets;
        import java.util.regex.Pattern;
        public class Oracle {
            public static void main(String[] args) throws IOException {
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                StringBuilder out = new StringBuilder();
                for (String line; (line = in.readLine()) != null;) {
                    int tab = line.indexOf('\\t');
                    out.append(Pattern.matches(line.substring(0, tab), line.substring(tab + 1)) ? '1' : '0');
                }
                System.out.print(out);
            }
        }
        """

    static var java: String? {
        ["/usr/bin/java", "/usr/local/bin/java"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test(.enabled(if: java != nil, "needs a JDK (java) for the reference engine"))
    func agreesWithJavaPatternMatches() throws {
        var rng = SplitMix64(seed: 1234)
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: 8192, alignment: 8)
        defer { memory.deallocate() }
        let letters = Array("ab1 é")
        var cases: [(pattern: String, subject: String)] = []
        for _ in 0..<5000 {
            let (p, _) = pattern(&rng, innerAnchors: true)
            for _ in 0..<6 {
                cases.append((p, String((0..<rng.next(below: 7)).map { _ in letters[rng.next(below: letters.count)] })))
            }
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("haven-regex-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = folder.appendingPathComponent("Oracle.java")
        try Self.javaOracle.write(to: source, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.java!)
        process.arguments = ["-Dfile.encoding=UTF-8", source.path]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let lines = cases.map { $0.pattern + "\t" + $0.subject }.joined(separator: "\n") + "\n"
        input.fileHandleForWriting.write(Data(lines.utf8))
        try input.fileHandleForWriting.close()
        let answers = Array(String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        process.waitUntilExit()
        try #require(answers.count == cases.count)
        var disagreements = 0
        var limited = 0
        defer { #expect(limited < cases.count / 50, "\(limited) of \(cases.count) hit the memory or step limit") }
        for (i, c) in cases.enumerated() {
            let outcome = Array(c.subject.utf8).withUnsafeBytes { s in
                Array(c.pattern.utf8).withUnsafeBytes { BacktrackingRegex.outcome(s, pattern: $0, memory: memory) }
            }
            // Too big for the memory, or past the step limit: false by design.
            if outcome == .unsupported || outcome == .gaveUp { limited += 1; continue }
            let mine = outcome == .match
            if mine != (answers[i] == "1") {
                disagreements += 1
                Issue.record("regex(\"\(c.subject)\", \"\(c.pattern)\"): Java \(answers[i]), Haven \(mine)")
                if disagreements > 10 { return }
            }
        }
    }
}
