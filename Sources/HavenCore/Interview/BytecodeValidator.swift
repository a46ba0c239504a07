/// Load-time check of one expression's bytecode. The instrument is hostile
/// input: the decoder runs this on every expression so the VM only ever
/// sees programs whose opcodes, operands and stack use are known good, and
/// a bad instrument is refused when it is loaded, not halfway through an
/// interview. One linear pass, no allocation: the program has no backward
/// jumps, so simulating the stack depth in order is exact.
public enum BytecodeValidator {
    /// Deepest nesting of `once` inside `once` the validator follows
    /// (forms use one, around `random()`).
    static let maxOnceNesting = 8

    /// Refuses a program with an unknown opcode, an operand past the end, a
    /// string, node or column reference out of range (`columnCount == nil`:
    /// not a choice filter, so `itemColumn` is refused), a stack underflow,
    /// a depth above `maxStack`, a function called with the wrong number of
    /// arguments, a `once` skip that is not a whole sub-expression, a
    /// missing `end`, or bytes after it.
    public static func validate(_ code: UnsafeRawBufferPointer, maxStack: Int, stringCount: UInt32,
                                nodeCount: UInt16, columnCount: UInt16?) throws(ExpressionError) {
        // Pending `once` skips, innermost last: (target offset, depth there).
        // Two fixed locals per level instead of an array: nothing allocates.
        var targets = OnceTargets()
        var depth = 0
        var pc = 0
        let n = code.count
        while pc < n {
            let at = pc
            // A skip must land exactly here, with exactly one more value.
            while targets.count > 0 && targets.topTarget <= at {
                if targets.topTarget != at || targets.topDepth != depth { throw .badSkip(offset: targets.topOrigin) }
                targets.pop()
            }
            guard let op = Opcode(rawValue: code[at]) else { throw .unknownOpcode(offset: at) }
            let operands = op.operandByteCount
            if at + 1 + operands > n { throw .truncated(offset: at) }
            pc = at + 1 + operands
            var pops = op.popCount
            var pushes = 1
            switch op {
            case .pushString:
                if code.loadLE(UInt32.self, at: at + 1) >= stringCount { throw .badReference(offset: at) }
            case .loadNode, .countInstances, .choiceName:
                if code.loadLE(UInt16.self, at: at + 1) >= nodeCount { throw .badReference(offset: at) }
            case .itemColumn:
                guard let columns = columnCount, code.loadLE(UInt16.self, at: at + 1) < columns else {
                    throw .badReference(offset: at)
                }
            case .call:
                guard let function = ExpressionFunction(rawValue: code[at + 1]) else { throw .badReference(offset: at) }
                let argc = Int(code[at + 2])
                if !function.accepts(argumentCount: argc) { throw .badArity(offset: at) }
                pops = argc
            case .once:
                let target = pc + Int(code.loadLE(UInt16.self, at: at + 1))
                // The skipped sub-expression must be non-empty, end before
                // `end`, and sit inside any enclosing skip.
                if target <= pc || target >= n { throw .badSkip(offset: at) }
                if targets.count > 0 && target > targets.topTarget { throw .badSkip(offset: at) }
                if targets.count == maxOnceNesting { throw .badSkip(offset: at) }
                if depth + 1 > maxStack { throw .stackOverflow(offset: at) }
                targets.push(target: target, depth: depth + 1, origin: at)
                pushes = 0
            case .end:
                if depth == 0 { throw .stackUnderflow(offset: at) }
                if depth > 1 { throw .leftoverValues(offset: at) }
                if targets.count > 0 { throw .badSkip(offset: targets.topOrigin) }
                if pc != n { throw .trailingBytes(offset: pc) }
                return
            default:
                break
            }
            if depth < pops { throw .stackUnderflow(offset: at) }
            depth += pushes - pops
            if depth > maxStack { throw .stackOverflow(offset: at) }
        }
        throw .missingEnd
    }
}

/// The validator's fixed stack of pending `once` targets.
struct OnceTargets {
    private var entries: (Entry, Entry, Entry, Entry, Entry, Entry, Entry, Entry) =
        (Entry(), Entry(), Entry(), Entry(), Entry(), Entry(), Entry(), Entry())
    private(set) var count = 0

    struct Entry {
        var target = 0
        var depth = 0
        var origin = 0
    }

    var top: Entry {
        withUnsafeBytes(of: entries) { $0.load(fromByteOffset: (count - 1) * MemoryLayout<Entry>.stride, as: Entry.self) }
    }

    var topTarget: Int { top.target }
    var topDepth: Int { top.depth }
    var topOrigin: Int { top.origin }

    mutating func push(target: Int, depth: Int, origin: Int) {
        let index = count
        withUnsafeMutableBytes(of: &entries) {
            $0.storeBytes(of: Entry(target: target, depth: depth, origin: origin),
                          toByteOffset: index * MemoryLayout<Entry>.stride, as: Entry.self)
        }
        count += 1
    }

    mutating func pop() { count -= 1 }
}
