import HavenCore
import Testing

/// `regex()` answers as Java's `Pattern.matches` does (what ODK Collect
/// runs): a full match, Java's meaning for the supported syntax, and false
/// rather than a hang for patterns that backtrack without end.
@Suite struct ExpressionRegexTests {
    let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)

    func matches(_ value: String, _ pattern: String) -> Bool {
        Array(value.utf8).withUnsafeBytes { v in
            Array(pattern.utf8).withUnsafeBytes { p in BacktrackingRegex.matches(v, pattern: p, memory: memory) }
        }
    }

    func supported(_ pattern: String) -> Bool {
        Array(pattern.utf8).withUnsafeBytes { BacktrackingRegex.isSupported($0, memory: memory) }
    }

    @Test func fullMatchSemantics() {
        #expect(matches("abc", "abc"))
        #expect(!matches("abcd", "abc"))
        #expect(!matches("xabc", "abc"))
        #expect(matches("abc", "^abc$"))
        #expect(matches("", ""))
        #expect(!matches("a", ""))
        #expect(matches("", "a*"))
        #expect(!matches("abc\n", "abc$"))  // `$` may sit before a final newline, but the newline is unmatched
        #expect(matches("abc\n", "abc$\n"))
        #expect(!matches("a\nb", "a.b"))  // `.` stops at line terminators
        #expect(matches("a\tb", "a.b"))
    }

    @Test func classesEscapesAndQuantifiers() {
        #expect(matches("0712345678", "07[0-9]{8}"))
        #expect(!matches("07123456x8", "07[0-9]{8}"))
        #expect(matches("+254712345678", "(\\+254|0)7\\d{8}"))
        #expect(matches("AB-1234", "[A-Z]{2}-\\d{3,4}"))
        #expect(matches("AB-123", "[A-Z]{2}-\\d{3,4}"))
        #expect(!matches("AB-12", "[A-Z]{2}-\\d{3,4}"))
        #expect(!matches("AB-12345", "[A-Z]{2}-\\d{3,4}"))
        #expect(matches("aaaa", "a{2,}"))
        #expect(!matches("a", "a{2,}"))
        #expect(matches("", "a{0}"))
        #expect(matches("ababab", "(ab){2,3}"))
        #expect(!matches("abababab", "(ab){2,3}"))
        #expect(matches("ab", "(ab){0,3}"))
        #expect(matches("x", "[^0-9]"))
        #expect(!matches("5", "[^0-9]"))
        #expect(matches("-", "[a-]"))
        #expect(matches("]", "[]a]"))
        #expect(matches("a.b", "a\\.b"))
        #expect(!matches("axb", "a\\.b"))
        #expect(matches("under_score9", "\\w+"))
        #expect(!matches("dash-ed", "\\w+"))
        #expect(matches(" \t", "\\s*"))
        #expect(matches("abc", "\\S+"))
        #expect(matches("x1", "\\D\\d"))
        #expect(matches("é", "."))
        #expect(matches("été", "[a-zà-ÿ]+"))
        #expect(matches("é", "\\u00e9"))
        #expect(matches("cat", "cat|dog"))
        #expect(matches("dog", "cat|dog"))
        #expect(!matches("cow", "cat|dog|bird"))
        #expect(matches("bird", "cat|dog|bird"))
        #expect(matches("aaa", "a+?"))
        #expect(matches("ac", "ab?c"))
        #expect(matches("ac", "a(?:b)?c"))
        #expect(matches("yes", "(?:y|Y)(es)?"))
        #expect(matches("{}", "\\{}"))
    }

    @Test func emptyLoopsAndRunawayPatternsTerminate() {
        #expect(matches("b", "(a*)*b"))
        #expect(matches("aab", "(a*)*b"))
        #expect(matches("aab", "(a|)*b"))
        #expect(matches("", "(a?)+"))
        // Exponential backtracking: the step limit answers false quickly.
        let start = ContinuousClock.now
        #expect(!matches(String(repeating: "a", count: 40), "(a+)+b"))
        #expect(!matches(String(repeating: "a", count: 40) + "!", "(a|aa)*"))
        #expect(ContinuousClock.now - start < .seconds(2))
    }

    @Test func unsupportedPatternsNeverMatch() {
        for pattern in ["(a)\\1", "(?=a)a", "(?i)abc", "\\bword", "[a-z&&[^b]]", "a*+", "(abc", "abc)", "[abc",
                        "{2}", "a{3,2}", "*a", "\\p{L}", "a{1001}", "x\\"] {
            #expect(!supported(pattern), "\(pattern)")
            #expect(!matches("a", pattern), "\(pattern)")
        }
        for pattern in ["^[0-9]{10}$", "(\\+254|0)7\\d{8}", "[A-Za-z ]+", "\\d{1,3}(\\.\\d{1,2})?", ".*"] {
            #expect(supported(pattern), "\(pattern)")
        }
    }

    @Test func tooLargeForTheMemoryIsFalseNotACrash() {
        let small = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 8)
        defer { small.deallocate() }
        let pattern = Array("(abc|def){5}".utf8)
        let value = Array(String(repeating: "abc", count: 5).utf8)
        let result = value.withUnsafeBytes { v in
            pattern.withUnsafeBytes { p in BacktrackingRegex.matches(v, pattern: p, memory: small) }
        }
        #expect(!result)
        let tooSmall = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 8)
        defer { tooSmall.deallocate() }
        #expect(!Array("a".utf8).withUnsafeBytes { v in
            Array("a".utf8).withUnsafeBytes { p in BacktrackingRegex.matches(v, pattern: p, memory: tooSmall) }
        })
        #expect(matches(String(repeating: "abc", count: 5), "(abc|def){5}"))
    }

    /// Random patterns over the syntax's characters, in scarce and ample
    /// memory: compiling and matching always return.
    @Test func fuzzedPatternsNeverCrash() {
        var rng = SplitMix64(seed: 99)
        let alphabet = Array("ab()[]{}|*+?.^$\\-,0123dws:éu")
        let small = UnsafeMutableRawBufferPointer.allocate(byteCount: 200, alignment: 8)
        defer { small.deallocate() }
        for _ in 0..<20_000 {
            let pattern = String((0..<rng.next(below: 16)).map { _ in alphabet[rng.next(below: alphabet.count)] })
            let value = String((0..<rng.next(below: 12)).map { _ in Array("ab1 é")[rng.next(below: 5)] })
            _ = matches(value, pattern)
            _ = Array(value.utf8).withUnsafeBytes { v in
                Array(pattern.utf8).withUnsafeBytes { p in BacktrackingRegex.matches(v, pattern: p, memory: small) }
            }
        }
    }
}
