/// Runs a compiled pattern (`RegexOp` code) against a whole subject by
/// backtracking: at a split it follows the preferred branch and pushes the
/// other (program counter, position) on a fixed stack; on failure it pops.
/// A `mark` pushes an undo entry for its register so that popping restores
/// it. Bounded by `BacktrackingRegex.stepLimit` steps and the stack size:
/// running out of either gives up (and `regex()` answers false).
struct RegexMatcher {
    let program: UnsafeMutablePointer<Int32>
    let subject: UnsafeRawBufferPointer
    let registers: UnsafeMutablePointer<Int32>
    let stack: UnsafeMutablePointer<Int32>
    let stackCapacity: Int

    mutating func run() -> BacktrackingRegex.Outcome {
        let end = subject.count
        var pc = 0
        var position = 0
        var top = 0
        var steps = 0
        var r = 0
        while r < BacktrackingRegex.registerCount { registers[r] = -1; r += 1 }
        while true {
            steps += 1
            if steps > BacktrackingRegex.stepLimit { return .gaveUp }
            var ok = true
            let op = program[pc]
            switch op {
            case RegexOp.char:
                if position < end {
                    let (scalar, length) = UTF8Scalars.decode(subject, at: position)
                    if scalar == UInt32(bitPattern: program[pc + 1]) {
                        position += length
                        pc += 2
                    } else { ok = false }
                } else { ok = false }
            case RegexOp.any:
                if position < end {
                    let (scalar, length) = UTF8Scalars.decode(subject, at: position)
                    if Self.isLineTerminator(scalar) { ok = false } else { position += length; pc += 1 }
                } else { ok = false }
            case RegexOp.charClass:
                let items = Int(program[pc + 2])
                if position < end {
                    let (scalar, length) = UTF8Scalars.decode(subject, at: position)
                    if classContains(at: pc, scalar) { position += length; pc += 3 + 3 * items } else { ok = false }
                } else { ok = false }
            case RegexOp.split:
                if top + 2 > stackCapacity * 2 { return .gaveUp }
                stack[top] = Int32(pc) + program[pc + 2]
                stack[top + 1] = Int32(position)
                top += 2
                pc += Int(program[pc + 1])
            case RegexOp.jump:
                pc += Int(program[pc + 1])
            case RegexOp.lineStart:
                if position == 0 { pc += 1 } else { ok = false }
            case RegexOp.lineEnd:
                if isAtEnd(position) { pc += 1 } else { ok = false }
            case RegexOp.match:
                if position == end { return .match }
                ok = false
            case RegexOp.mark:
                if top + 2 > stackCapacity * 2 { return .gaveUp }
                let register = Int(program[pc + 1])
                stack[top] = -1 - Int32(register)  // an undo entry
                stack[top + 1] = registers[register]
                top += 2
                registers[register] = Int32(position)
                pc += 2
            case RegexOp.ifNoProgress:
                pc += registers[Int(program[pc + 1])] == Int32(position) ? Int(program[pc + 2]) : 3
            default:
                return .unsupported
            }
            if ok { continue }
            // Backtrack: undo register marks until a branch to resume.
            var resumed = false
            while top > 0 {
                top -= 2
                let entry = stack[top]
                if entry < 0 {
                    registers[Int(-1 - entry)] = stack[top + 1]
                } else {
                    pc = Int(entry)
                    position = Int(stack[top + 1])
                    resumed = true
                    break
                }
            }
            if !resumed { return .noMatch }
        }
    }

    private func classContains(at pc: Int, _ scalar: UInt32) -> Bool {
        let negated = program[pc + 1] != 0
        let items = Int(program[pc + 2])
        var i = 0
        var found = false
        while i < items && !found {
            let base = pc + 3 + 3 * i
            let kind = program[base]
            switch kind {
            case RegexOp.rangeItem:
                found = scalar >= UInt32(bitPattern: program[base + 1]) && scalar <= UInt32(bitPattern: program[base + 2])
            case RegexOp.digitItem: found = Self.isDigit(scalar)
            case RegexOp.notDigitItem: found = !Self.isDigit(scalar)
            case RegexOp.wordItem: found = Self.isWord(scalar)
            case RegexOp.notWordItem: found = !Self.isWord(scalar)
            case RegexOp.spaceItem: found = Self.isSpace(scalar)
            case RegexOp.notSpaceItem: found = !Self.isSpace(scalar)
            default: found = false
            }
            i += 1
        }
        return found != negated
    }

    /// Java's `$` without MULTILINE: the end, or just before a final line
    /// terminator (`\n`, `\r\n`, `\r`, U+0085, U+2028, U+2029).
    private func isAtEnd(_ position: Int) -> Bool {
        let end = subject.count
        if position == end { return true }
        let (scalar, length) = UTF8Scalars.decode(subject, at: position)
        if scalar == 0x0D && position + 2 == end && subject[position + 1] == 0x0A { return true }
        return position + length == end && Self.isLineTerminator(scalar)
    }

    static func isLineTerminator(_ s: UInt32) -> Bool {
        s == 0x0A || s == 0x0D || s == 0x85 || s == 0x2028 || s == 0x2029
    }

    static func isDigit(_ s: UInt32) -> Bool { s >= 0x30 && s <= 0x39 }

    static func isWord(_ s: UInt32) -> Bool {
        isDigit(s) || (s >= 0x41 && s <= 0x5A) || (s >= 0x61 && s <= 0x7A) || s == 0x5F
    }

    /// Java's `\s`: [ \t\n\x0B\f\r].
    static func isSpace(_ s: UInt32) -> Bool {
        s == 0x20 || (s >= 0x09 && s <= 0x0D)
    }
}
