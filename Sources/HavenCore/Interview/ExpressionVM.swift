/// Runs expression bytecode (Docs/instrument-format.md §3) for the interview
/// engine: relevance, constraints, calculations, choice filters. All memory
/// (value stack, string arena, number-conversion scratch, regex memory) is
/// allocated once here; an evaluation allocates nothing, so the engine can
/// evaluate on every keystroke without fragmenting a small heap.
///
/// The VM is one per engine and not re-entrant: strings it returns live in
/// its arena until the next evaluation. Programs should have passed
/// `BytecodeValidator` at load time; the VM still bounds-checks everything
/// and throws rather than trapping on a bad one.
public final class ExpressionVM {
    let stack: UnsafeMutablePointer<ExprValue>
    public let stackCapacity: Int
    var arena: StringArena
    let scratch: NumberScratch
    let regexMemory: UnsafeMutableRawBufferPointer

    /// - Parameters:
    ///   - stackCapacity: values the stack holds (an expression's recorded
    ///     max depth must not exceed it).
    ///   - arenaCapacity: bytes for strings made during one evaluation.
    ///   - regexCapacity: bytes for a `regex()` pattern's program and
    ///     backtracking stack.
    public init(stackCapacity: Int = 64, arenaCapacity: Int = 4096, regexCapacity: Int = 4096) {
        self.stackCapacity = max(stackCapacity, 1)
        stack = UnsafeMutablePointer<ExprValue>.allocate(capacity: self.stackCapacity)
        stack.initialize(repeating: .empty, count: self.stackCapacity)
        arena = StringArena(capacity: arenaCapacity)
        scratch = NumberScratch.allocate()
        regexMemory = UnsafeMutableRawBufferPointer.allocate(byteCount: max(regexCapacity, 256), alignment: 8)
        regexMemory.initializeMemory(as: UInt8.self, repeating: 0)
    }

    /// Zeroes every buffer an evaluation can leave values in: the stack
    /// (numbers and pointers of the last results), the string arena
    /// (`concat` of answers, numbers turned into text), the number scratch
    /// and the regex memory. Part of `Interview.wipe()` (quick exit, lock).
    public func wipe() {
        stack.update(repeating: .empty, count: stackCapacity)
        arena.reset()
        arena.base.initializeMemory(as: UInt8.self, repeating: 0, count: arena.capacity)
        scratch.limbs.update(repeating: 0, count: NumberScratch.limbsPerNumber * NumberScratch.numberCount)
        scratch.digits.update(repeating: 0, count: NumberScratch.digitCapacity)
        regexMemory.fill(0)
    }

    /// Every buffer of the VM, for memory scans in tests (`Interview.forEachBuffer`).
    func forEachBuffer(_ body: (UnsafeRawBufferPointer) -> Void) {
        body(UnsafeRawBufferPointer(start: UnsafeRawPointer(stack), count: stackCapacity * MemoryLayout<ExprValue>.stride))
        body(UnsafeRawBufferPointer(start: UnsafeRawPointer(arena.base), count: arena.capacity))
        body(UnsafeRawBufferPointer(start: UnsafeRawPointer(scratch.limbs),
                                    count: NumberScratch.limbsPerNumber * NumberScratch.numberCount * 4))
        body(UnsafeRawBufferPointer(start: UnsafeRawPointer(scratch.digits), count: NumberScratch.digitCapacity))
        body(UnsafeRawBufferPointer(regexMemory))
    }

    deinit {
        stack.deinitialize(count: stackCapacity)
        stack.deallocate()
        arena.deallocate()
        scratch.deallocate()
        regexMemory.deallocate()
    }

    /// Evaluates `code` (one expression, ending with `end`) against the
    /// engine's state. Strings in the result stay valid until the next call.
    public func evaluate<E: ExpressionEnvironment>(_ code: UnsafeRawBufferPointer,
                                                   environment: inout E) throws(ExpressionError) -> ExprValue {
        arena.reset()
        var depth = 0
        var pc = 0
        let n = code.count
        while pc < n {
            let at = pc
            guard let op = Opcode(rawValue: code[at]) else { throw .unknownOpcode(offset: at) }
            pc = at + 1 + op.operandByteCount
            if pc > n { throw .truncated(offset: at) }
            if depth < op.popCount { throw .stackUnderflow(offset: at) }
            var result: ExprValue
            switch op {
            case .pushNumber:
                result = .number(Double(bitPattern: code.loadLE(UInt64.self, at: at + 1)))
            case .pushString:
                result = .string(environment.string(code.loadLE(UInt32.self, at: at + 1)))
            case .pushTrue:
                result = .bool(true)
            case .pushFalse:
                result = .bool(false)
            case .loadNode:
                result = environment.value(of: code.loadLE(UInt16.self, at: at + 1))
            case .loadContext:
                result = environment.contextValue()
            case .countInstances:
                result = .number(Double(environment.instanceCount(of: code.loadLE(UInt16.self, at: at + 1))))
            case .position:
                result = .number(Double(environment.position()))
            case .itemColumn:
                result = environment.itemColumn(code.loadLE(UInt16.self, at: at + 1))
            case .add, .subtract, .multiply, .divide, .modulo:
                depth -= 2
                result = .number(arithmetic(op, number(of: stack[depth]), number(of: stack[depth + 1])))
            case .negate:
                depth -= 1
                result = .number(-number(of: stack[depth]))
            case .equal, .notEqual:
                depth -= 2
                let same = equal(stack[depth], stack[depth + 1])
                result = .bool(op == .equal ? same : !same)
            case .less, .lessOrEqual, .greater, .greaterOrEqual:
                depth -= 2
                result = .bool(relation(op, number(of: stack[depth]), number(of: stack[depth + 1])))
            case .and:
                depth -= 2
                result = .bool(Self.bool(of: stack[depth]) && Self.bool(of: stack[depth + 1]))
            case .or:
                depth -= 2
                result = .bool(Self.bool(of: stack[depth]) || Self.bool(of: stack[depth + 1]))
            case .not:
                depth -= 1
                result = .bool(!Self.bool(of: stack[depth]))
            case .call:
                guard let function = ExpressionFunction(rawValue: code[at + 1]) else { throw .badReference(offset: at) }
                let argc = Int(code[at + 2])
                if !function.accepts(argumentCount: argc) { throw .badArity(offset: at) }
                if depth < argc { throw .stackUnderflow(offset: at) }
                depth -= argc
                result = try call(function, arguments: stack + depth, count: argc, environment: &environment)
            case .choiceName:
                depth -= 1
                let value = try stringValue(of: stack[depth])
                result = environment.choiceLabel(node: code.loadLE(UInt16.self, at: at + 1), value: value)
            case .once:
                // A value already there is kept (`once(random())`); the
                // sub-expression is skipped, not evaluated.
                if !environment.contextHasValue() { continue }
                pc += Int(code.loadLE(UInt16.self, at: at + 1))
                if pc >= n { throw .badSkip(offset: at) }
                result = environment.contextValue()
            case .end:
                if depth == 0 { throw .stackUnderflow(offset: at) }
                if depth > 1 { throw .leftoverValues(offset: at) }
                return stack[0]
            }
            if depth >= stackCapacity { throw .stackOverflow(offset: at) }
            stack[depth] = result
            depth += 1
        }
        throw .missingEnd
    }

    /// `boolean()` of the result (relevance, constraints, required, filters).
    public func evaluateBool<E: ExpressionEnvironment>(_ code: UnsafeRawBufferPointer,
                                                       environment: inout E) throws(ExpressionError) -> Bool {
        Self.bool(of: try evaluate(code, environment: &environment))
    }

    /// `number()` of the result (repeat counts).
    public func evaluateNumber<E: ExpressionEnvironment>(_ code: UnsafeRawBufferPointer,
                                                         environment: inout E) throws(ExpressionError) -> Double {
        number(of: try evaluate(code, environment: &environment))
    }

    /// `string()` of the result copied into `output` (calculations, label
    /// outputs); returns its length in bytes. Throws `bufferTooSmall` with
    /// the length needed when it does not fit.
    public func evaluateString<E: ExpressionEnvironment>(_ code: UnsafeRawBufferPointer, environment: inout E,
                                                         into output: UnsafeMutableRawBufferPointer) throws(ExpressionError) -> Int {
        let text = try stringValue(of: try evaluate(code, environment: &environment))
        if text.count > output.count { throw .bufferTooSmall(needed: text.count) }
        if text.count > 0 { output.baseAddress!.copyMemory(from: text.baseAddress!, byteCount: text.count) }
        return text.count
    }
}
