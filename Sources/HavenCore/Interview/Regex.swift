/// `regex(value, pattern)` for XForms constraints: does the whole value match
/// the pattern? ODK Collect (JavaRosa) answers with Java's
/// `Pattern.matches(pattern, value)` — a full match, not a search — and
/// ODK's documentation says the same ("an exact and complete match"), so
/// `regex(., '[0-9]{3}')` is false for "1234" even without anchors.
///
/// The supported subset is what forms use, with Java's meaning: literals,
/// `.` (any scalar but a line terminator), classes `[a-z]` `[^…]` with
/// ranges and escapes, `\d \D \w \W \s \S` (ASCII, as Java's defaults),
/// `\t \n \r \f \uXXXX` and escaped punctuation, anchors `^ $`, groups
/// `( )` and `(?: )` with `|`, quantifiers `* + ? {m} {m,} {m,n}` (lazy
/// forms accepted; laziness cannot change a full-match answer). Anything
/// else (back-references, look-around, `\b`, flags, possessive
/// quantifiers, class set operations) makes the pattern unsupported, and
/// an unsupported pattern never matches; the host compiler refuses such a
/// pattern when it is a literal.
///
/// Repetitions behave as Java's: a repeated group that matches the empty
/// string ends its repetition there (Java's `Loop`), so answers agree with
/// `Pattern.matches` even for anchors inside repeated groups (checked
/// against Java itself in the tests).
///
/// The pattern is compiled into a small program (Thompson-style: char,
/// class, split, jump) in fixed memory and run by a backtracking matcher
/// with an explicit stack and a step limit: an over-complex pattern or
/// input gives false instead of hanging. Nothing is allocated.
public enum BacktrackingRegex {
    /// Matcher steps before giving up (false).
    public static let stepLimit = 100_000
    /// Deepest group nesting compiled.
    static let maxNesting = 16
    /// Largest `{m,n}` bound compiled.
    static let maxRepeat = 1000
    /// Registers for the empty-loop check (one per nullable loop).
    static let registerCount = 16

    /// Whether `value` is entirely matched by `pattern` (UTF-8 bytes), using
    /// `memory` for the program and the backtracking stack. False for an
    /// unsupported pattern, or when the memory or step limit is exceeded.
    public static func matches(_ value: UnsafeRawBufferPointer, pattern: UnsafeRawBufferPointer,
                               memory: UnsafeMutableRawBufferPointer) -> Bool {
        outcome(value, pattern: pattern, memory: memory) == .match
    }

    /// The answer, or why there is none.
    enum Outcome {
        case match, noMatch, unsupported, gaveUp
    }

    static func outcome(_ value: UnsafeRawBufferPointer, pattern: UnsafeRawBufferPointer,
                        memory: UnsafeMutableRawBufferPointer) -> Outcome {
        guard let layout = RegexMemory(memory) else { return .unsupported }
        var compiler = RegexCompiler(pattern: pattern, program: layout.program, capacity: layout.programCapacity)
        guard compiler.compile() else { return .unsupported }
        var matcher = RegexMatcher(program: layout.program, subject: value, registers: layout.registers,
                                   stack: layout.stack, stackCapacity: layout.stackCapacity)
        return matcher.run()
    }

    /// Whether `pattern` is in the supported subset and fits `memory` (the
    /// host compiler checks literal patterns with this).
    public static func isSupported(_ pattern: UnsafeRawBufferPointer, memory: UnsafeMutableRawBufferPointer) -> Bool {
        guard let layout = RegexMemory(memory) else { return false }
        var compiler = RegexCompiler(pattern: pattern, program: layout.program, capacity: layout.programCapacity)
        return compiler.compile()
    }
}

/// How the regex memory is shared: a quarter for the program, registers,
/// the rest for the backtracking stack (pairs of Int32).
struct RegexMemory {
    let program: UnsafeMutablePointer<Int32>
    let programCapacity: Int
    let registers: UnsafeMutablePointer<Int32>
    let stack: UnsafeMutablePointer<Int32>
    let stackCapacity: Int

    /// Nil when `memory` is too small to hold anything useful.
    init?(_ memory: UnsafeMutableRawBufferPointer) {
        let words = memory.count / 4
        let registerWords = BacktrackingRegex.registerCount
        guard let base = memory.baseAddress, words >= registerWords + 16 else { return nil }
        let all = base.bindMemory(to: Int32.self, capacity: words)
        let programWords = (words - registerWords) / 4
        program = all
        programCapacity = programWords
        registers = all + programWords
        stack = all + programWords + registerWords
        stackCapacity = (words - programWords - registerWords) / 2
    }
}

/// Instructions of a compiled pattern (one Int32 opcode, then operands;
/// jump offsets are relative to the instruction, so code can be copied).
enum RegexOp {
    static let char: Int32 = 1        // scalar
    static let any: Int32 = 2
    static let charClass: Int32 = 3   // negated, item count, items × (kind, low, high)
    static let split: Int32 = 4       // preferred offset, other offset
    static let jump: Int32 = 5        // offset
    static let lineStart: Int32 = 6
    static let lineEnd: Int32 = 7
    static let match: Int32 = 8
    static let mark: Int32 = 9          // register: remember the position
    static let ifNoProgress: Int32 = 10 // register, offset: jump if the position has not moved

    static let rangeItem: Int32 = 0
    static let digitItem: Int32 = 1
    static let notDigitItem: Int32 = 2
    static let wordItem: Int32 = 3
    static let notWordItem: Int32 = 4
    static let spaceItem: Int32 = 5
    static let notSpaceItem: Int32 = 6
}

/// Recursive-descent compiler from pattern text to `RegexOp` code.
struct RegexCompiler {
    let pattern: UnsafeRawBufferPointer
    let program: UnsafeMutablePointer<Int32>
    let capacity: Int
    var position = 0
    var count = 0
    var failed = false
    var depth = 0
    var registersUsed = 0

    init(pattern: UnsafeRawBufferPointer, program: UnsafeMutablePointer<Int32>, capacity: Int) {
        self.pattern = pattern
        self.program = program
        self.capacity = capacity
    }

    mutating func compile() -> Bool {
        _ = alternation()
        if position != pattern.count { failed = true }
        emit(RegexOp.match)
        return !failed
    }

    // MARK: grammar

    /// branch ('|' branch)*; returns whether it can match the empty string.
    private mutating func alternation() -> Bool {
        var branchStart = count
        var nullable = concatenation()
        var lastJump = -1
        while !failed && peek == 0x7C {
            position += 1
            // Prefer this branch, else try the rest; then jump to the end.
            insert(3, at: branchStart)
            if failed { return false }
            emit(RegexOp.jump)
            emit(Int32(lastJump))  // chain of jumps to patch at the end
            lastJump = count - 2
            program[branchStart] = RegexOp.split
            program[branchStart + 1] = 3
            program[branchStart + 2] = Int32(count - branchStart)
            branchStart = count
            if concatenation() { nullable = true }
        }
        while lastJump >= 0 && !failed {
            let previous = Int(program[lastJump + 1])
            program[lastJump + 1] = Int32(count - lastJump)
            lastJump = previous
        }
        return nullable
    }

    private mutating func concatenation() -> Bool {
        var nullable = true
        while !failed, let c = peek, c != 0x7C, c != 0x29 {
            if !repetition() { nullable = false }
        }
        return nullable
    }

    private mutating func repetition() -> Bool {
        let start = count
        var nullable = atom()
        while !failed, let c = peek {
            var minimum = 0
            var maximum = -1  // unbounded
            if c == 0x2A { position += 1 }                       // *
            else if c == 0x2B { minimum = 1; position += 1 }     // +
            else if c == 0x3F { maximum = 1; position += 1 }     // ?
            else if c == 0x7B {                                  // {m}, {m,}, {m,n}
                guard let (m, n) = bounds() else { failed = true; return false }
                minimum = m
                maximum = n
            } else { break }
            var lazy = false
            if peek == 0x3F { lazy = true; position += 1 }
            if peek == 0x2B { failed = true; return false }      // possessive: unsupported
            nullable = repeatBody(from: start, minimum: minimum, maximum: maximum, nullable: nullable, lazy: lazy)
        }
        return nullable
    }

    private mutating func atom() -> Bool {
        guard let c = peek else { failed = true; return false }
        switch c {
        case 0x28:  // (
            position += 1
            if peek == 0x3F {
                position += 1
                if peek != 0x3A { failed = true; return false }  // only (?:
                position += 1
            }
            depth += 1
            if depth > BacktrackingRegex.maxNesting { failed = true; return false }
            let nullable = alternation()
            depth -= 1
            if peek != 0x29 { failed = true; return false }
            position += 1
            return nullable
        case 0x5B:  // [
            position += 1
            characterClass()
            return false
        case 0x2E:  // .
            position += 1
            emit(RegexOp.any)
            return false
        case 0x5E:  // ^
            position += 1
            emit(RegexOp.lineStart)
            return true
        case 0x24:  // $
            position += 1
            emit(RegexOp.lineEnd)
            return true
        case 0x5C:  // backslash
            position += 1
            escape()
            return false
        case 0x2A, 0x2B, 0x3F, 0x7B, 0x29:  // dangling quantifier or )
            failed = true
            return false
        default:
            emit(RegexOp.char)
            emit(Int32(bitPattern: nextScalar()))
            return false
        }
    }

    /// `{m}`, `{m,}` or `{m,n}` after the `{`; nil when malformed.
    private mutating func bounds() -> (Int, Int)? {
        position += 1
        guard let m = decimal() else { return nil }
        var n = m
        if peek == 0x2C {
            position += 1
            n = peek == 0x7D ? -1 : (decimal() ?? -2)
            if n == -2 { return nil }
        }
        if peek != 0x7D { return nil }
        position += 1
        if n != -1 && n < m { return nil }
        return (m, n)
    }

    private mutating func decimal() -> Int? {
        var value = 0
        var digits = 0
        while let c = peek, c >= 0x30, c <= 0x39 {
            value = value * 10 + Int(c - 0x30)
            if value > BacktrackingRegex.maxRepeat { return nil }
            digits += 1
            position += 1
        }
        return digits > 0 ? value : nil
    }

    /// Rewrites the body at start..<count as the repetition: `minimum`
    /// required copies, then a loop (`maximum` -1) or `maximum - minimum`
    /// optional copies, each of which may instead leave the repetition.
    /// As in Java's `Loop`, when a body that can match empty does so, the
    /// repetition ends there (even below the minimum): each copy of such a
    /// body is wrapped in `mark r … ifNoProgress r → exit`. The construct
    /// is built after the body, exits patched, then moved down over it.
    private mutating func repeatBody(from start: Int, minimum: Int, maximum: Int, nullable: Bool, lazy: Bool) -> Bool {
        let length = count - start
        if maximum == 0 {
            count = start  // x{0}: only the empty string
            return true
        }
        var register = -1
        if nullable {
            if registersUsed == BacktrackingRegex.registerCount { failed = true; return false }
            register = registersUsed
            registersUsed += 1
        }
        let build = count
        var exits = -1  // chain of operands to patch with the exit
        var i = 0
        while i < minimum && !failed {
            guardedCopy(from: start, length: length, register: register, exits: &exits)
            i += 1
        }
        if maximum == -1 {
            let loop = count
            exitSplit(lazy: lazy, exits: &exits)
            guardedCopy(from: start, length: length, register: register, exits: &exits)
            emit(RegexOp.jump)
            emit(Int32(loop - (count - 1)))
        } else {
            while i < maximum && !failed {
                exitSplit(lazy: lazy, exits: &exits)
                guardedCopy(from: start, length: length, register: register, exits: &exits)
                i += 1
            }
        }
        if failed { return false }
        // Patch every exit to the end of the construct.
        while exits >= 0 {
            let instruction = exits
            let operand = program[instruction] == RegexOp.split && lazy ? instruction + 1 : instruction + 2
            exits = Int(program[operand])
            program[operand] = Int32(count - instruction)
        }
        // Move the construct down over the original body.
        var j = 0
        let size = count - build
        while j < size { program[start + j] = program[build + j]; j += 1 }
        count = start + size
        return nullable || minimum == 0
    }

    /// A split between the next copy and the repetition's exit (the exit
    /// operand, patched later, is chained through `exits`).
    private mutating func exitSplit(lazy: Bool, exits: inout Int) {
        let at = count
        emit(RegexOp.split)
        emit(lazy ? 0 : 3)
        emit(lazy ? 3 : 0)
        if failed { return }
        link(operand: lazy ? at + 1 : at + 2, instruction: at, exits: &exits)
    }

    /// One copy of the body; for a body that can match empty, wrapped so an
    /// empty match leaves the repetition.
    private mutating func guardedCopy(from start: Int, length: Int, register: Int, exits: inout Int) {
        if register >= 0 {
            emit(RegexOp.mark)
            emit(Int32(register))
        }
        copy(from: start, length: length)
        if register >= 0 {
            let at = count
            emit(RegexOp.ifNoProgress)
            emit(Int32(register))
            emit(0)
            if failed { return }
            link(operand: at + 2, instruction: at, exits: &exits)
        }
    }

    /// Chains an exit operand: it holds the previous chained instruction
    /// (-1: none) until `repeatBody` patches it. Nothing is inserted while a
    /// repetition is built, so the indexes stay put.
    private mutating func link(operand: Int, instruction: Int, exits: inout Int) {
        program[operand] = Int32(exits)
        exits = instruction
    }

    private mutating func characterClass() {
        let header = count
        emit(RegexOp.charClass)
        emit(0)
        emit(0)
        if failed { return }
        var items: Int32 = 0
        if peek == 0x5E { program[header + 1] = 1; position += 1 }
        var first = true
        while !failed {
            guard let c = peek else { failed = true; return }
            if c == 0x5D && !first { position += 1; break }
            first = false
            if c == 0x5B || (c == 0x26 && peekNext == 0x26) { failed = true; return }  // nesting, &&
            var low: UInt32
            if c == 0x5C {
                position += 1
                guard let e = peek else { failed = true; return }
                if let kind = Self.shorthand(e) {
                    position += 1
                    emitItem(kind, 0, 0)
                    items += 1
                    continue
                }
                guard let scalar = escapedScalar() else { failed = true; return }
                low = scalar
            } else {
                low = nextScalar()
            }
            var high = low
            if peek == 0x2D, let after = peekNext, after != 0x5D {
                position += 1
                if after == 0x5C {
                    position += 1
                    guard let e = peek, Self.shorthand(e) == nil, let scalar = escapedScalar() else {
                        failed = true
                        return
                    }
                    high = scalar
                } else if after == 0x5B {
                    failed = true
                    return
                } else {
                    high = nextScalar()
                }
                if high < low { failed = true; return }
            }
            emitItem(RegexOp.rangeItem, low, high)
            items += 1
        }
        if !failed { program[header + 2] = items }
    }

    private mutating func emitItem(_ kind: Int32, _ low: UInt32, _ high: UInt32) {
        emit(kind)
        emit(Int32(bitPattern: low))
        emit(Int32(bitPattern: high))
    }

    /// After a backslash outside a class.
    private mutating func escape() {
        guard let e = peek else { failed = true; return }
        if let kind = Self.shorthand(e) {
            position += 1
            emit(RegexOp.charClass)
            emit(0)
            emit(1)
            emitItem(kind, 0, 0)
            return
        }
        guard let scalar = escapedScalar() else { failed = true; return }
        emit(RegexOp.char)
        emit(Int32(bitPattern: scalar))
    }

    static func shorthand(_ c: UInt8) -> Int32? {
        switch c {
        case 0x64: return RegexOp.digitItem      // d
        case 0x44: return RegexOp.notDigitItem   // D
        case 0x77: return RegexOp.wordItem       // w
        case 0x57: return RegexOp.notWordItem    // W
        case 0x73: return RegexOp.spaceItem      // s
        case 0x53: return RegexOp.notSpaceItem   // S
        default: return nil
        }
    }

    /// The scalar an escape (after the backslash) stands for: control
    /// letters, `\uXXXX`, or any escaped non-alphanumeric character.
    private mutating func escapedScalar() -> UInt32? {
        guard let e = peek else { return nil }
        switch e {
        case 0x74: position += 1; return 0x09  // t
        case 0x6E: position += 1; return 0x0A  // n
        case 0x72: position += 1; return 0x0D  // r
        case 0x66: position += 1; return 0x0C  // f
        case 0x65: position += 1; return 0x1B  // e
        case 0x61: position += 1; return 0x07  // a
        case 0x75:  // uXXXX
            position += 1
            var value: UInt32 = 0
            var i = 0
            while i < 4 {
                guard let h = peek, let v = Self.hexValue(h) else { return nil }
                value = value << 4 | v
                position += 1
                i += 1
            }
            return value
        default:
            let isAlphanumeric = (e >= 0x30 && e <= 0x39) || (e >= 0x41 && e <= 0x5A) || (e >= 0x61 && e <= 0x7A)
            if isAlphanumeric { return nil }  // \b, \1, \p, \Q … are not supported
            return nextScalar()
        }
    }

    private static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: return UInt32(c - 0x30)
        case 0x41...0x46: return UInt32(c - 0x37)
        case 0x61...0x66: return UInt32(c - 0x57)
        default: return nil
        }
    }

    // MARK: code buffer

    private var peek: UInt8? { position < pattern.count ? pattern[position] : nil }
    private var peekNext: UInt8? { position + 1 < pattern.count ? pattern[position + 1] : nil }

    private mutating func nextScalar() -> UInt32 {
        let (scalar, length) = UTF8Scalars.decode(pattern, at: position)
        position += length
        return scalar
    }

    private mutating func emit(_ word: Int32) {
        if count >= capacity { failed = true; return }
        program[count] = word
        count += 1
    }

    /// Opens `words` words at `at`, moving what follows (relative jumps
    /// inside the moved code stay right).
    private mutating func insert(_ words: Int, at: Int) {
        if count + words > capacity { failed = true; return }
        var i = count - 1
        while i >= at { program[i + words] = program[i]; i -= 1 }
        count += words
    }

    private mutating func copy(from start: Int, length: Int) {
        if count + length > capacity { failed = true; return }
        var i = 0
        while i < length { program[count + i] = program[start + i]; i += 1 }
        count += length
    }
}
