@testable import HavenCore

/// A deliberately small stand-in for `ExpressionVM`, for engine tests until
/// the real VM lands: the opcodes the engine tests use, XPath comparison
/// rules, no allocation while evaluating (fixed stack and arena allocated
/// at init). Not a second VM: no validation, few functions.
struct TinyEvaluator: ExpressionEvaluating {
    final class Storage {
        let stack: UnsafeMutableBufferPointer<ExprValue>
        let arena: UnsafeMutableRawBufferPointer
        init(stack: Int, arena: Int) {
            self.stack = .allocate(capacity: stack)
            self.stack.initialize(repeating: .empty)
            self.arena = .allocate(byteCount: arena, alignment: 8)
        }
        deinit {
            stack.deallocate()
            arena.deallocate()
        }
    }

    let storage: Storage

    init(stackCapacity: Int, arenaCapacity: Int) {
        storage = Storage(stack: stackCapacity, arena: arenaCapacity)
    }

    mutating func evaluate<E: ExpressionEnvironment>(_ code: UnsafeRawBufferPointer,
                                                     environment env: inout E) throws(ExpressionError) -> ExprValue {
        let stack = storage.stack
        var sp = 0
        var pc = 0
        var arenaUsed = 0
        while pc < code.count {
            let at = pc
            guard let op = Opcode(rawValue: code[pc]) else { throw .unknownOpcode(offset: at) }
            pc += 1
            switch op {
            case .pushNumber:
                stack[sp] = .number(Double(bitPattern: code.loadLE(UInt64.self, at: pc))); pc += 8; sp += 1
            case .pushString:
                stack[sp] = .string(env.string(code.loadLE(UInt32.self, at: pc))); pc += 4; sp += 1
            case .pushTrue: stack[sp] = .bool(true); sp += 1
            case .pushFalse: stack[sp] = .bool(false); sp += 1
            case .loadNode: stack[sp] = env.value(of: code.loadLE(UInt16.self, at: pc)); pc += 2; sp += 1
            case .loadContext: stack[sp] = env.contextValue(); sp += 1
            case .countInstances:
                stack[sp] = .number(Double(env.instanceCount(of: code.loadLE(UInt16.self, at: pc)))); pc += 2; sp += 1
            case .position: stack[sp] = .number(Double(env.position())); sp += 1
            case .itemColumn: stack[sp] = env.itemColumn(code.loadLE(UInt16.self, at: pc)); pc += 2; sp += 1
            case .add, .subtract, .multiply:
                let b = ExprConversion.number(stack[sp - 1]), a = ExprConversion.number(stack[sp - 2])
                sp -= 1
                stack[sp - 1] = .number(op == .add ? a + b : op == .subtract ? a - b : a * b)
            case .equal, .notEqual:
                let eq = Self.equal(stack[sp - 2], stack[sp - 1])
                sp -= 1
                stack[sp - 1] = .bool(op == .equal ? eq : !eq)
            case .less, .lessOrEqual, .greater, .greaterOrEqual:
                let b = ExprConversion.number(stack[sp - 1]), a = ExprConversion.number(stack[sp - 2])
                sp -= 1
                let r = op == .less ? a < b : op == .lessOrEqual ? a <= b : op == .greater ? a > b : a >= b
                stack[sp - 1] = .bool(r)
            case .and, .or:
                let b = ExprConversion.boolean(stack[sp - 1]), a = ExprConversion.boolean(stack[sp - 2])
                sp -= 1
                stack[sp - 1] = .bool(op == .and ? a && b : a || b)
            case .not: stack[sp - 1] = .bool(!ExprConversion.boolean(stack[sp - 1]))
            case .call:
                let f = code[pc], argc = Int(code[pc + 1])
                pc += 2
                switch ExpressionFunction(rawValue: f) {
                case .concat?:
                    var w = ByteWriter(storage.arena.slice(arenaUsed, storage.arena.count - arenaUsed))
                    var k = sp - argc
                    while k < sp {
                        ExprConversion.write(stack[k], to: &w)
                        k += 1
                    }
                    sp -= argc
                    stack[sp] = .string(UnsafeRawBufferPointer(w.buffer).slice(0, w.count))
                    arenaUsed += w.count
                    sp += 1
                case .if?:
                    let c = ExprConversion.boolean(stack[sp - 3])
                    stack[sp - 3] = c ? stack[sp - 2] : stack[sp - 1]
                    sp -= 2
                case .selected?:
                    guard case .string(let token) = stack[sp - 1] else { throw .badArity(offset: at) }
                    var list = UnsafeRawBufferPointer(start: nil, count: 0)
                    if case .string(let l) = stack[sp - 2] { list = l }
                    sp -= 1
                    stack[sp - 1] = .bool(Interview<TinyEvaluator, FixedClock>.contains(list, token: token))
                case .today?: stack[sp] = .date(env.today()); sp += 1
                default: throw .unknownOpcode(offset: at)
                }
            case .end:
                guard sp == 1 else { throw .stackUnderflow(offset: at) }
                return stack[0]
            default:
                throw .unknownOpcode(offset: at)
            }
        }
        throw .missingEnd
    }

    /// XPath `=`: booleans if either is boolean, else numbers if either is a
    /// number or date, else strings.
    static func equal(_ a: ExprValue, _ b: ExprValue) -> Bool {
        if case .bool = a { return ExprConversion.boolean(a) == ExprConversion.boolean(b) }
        if case .bool = b { return ExprConversion.boolean(a) == ExprConversion.boolean(b) }
        if a.isNumeric || b.isNumeric { return ExprConversion.number(a) == ExprConversion.number(b) }
        return bytesEqual(a.bytes, b.bytes)
    }
}

extension ExprValue {
    var isNumeric: Bool {
        switch self {
        case .number, .date: return true
        default: return false
        }
    }

    var bytes: UnsafeRawBufferPointer {
        if case .string(let s) = self { return s }
        return UnsafeRawBufferPointer(start: nil, count: 0)
    }
}
