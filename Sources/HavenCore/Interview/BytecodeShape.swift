/// The static shape of the bytecode (Docs/instrument-format.md §3): how many
/// operand bytes follow each opcode and how many arguments each function
/// takes. One table, read by the compiler, the validator and the VM, so the
/// three cannot disagree.
extension Opcode {
    /// Bytes of operands after the opcode byte.
    @inline(__always)
    public var operandByteCount: Int {
        switch self {
        case .pushNumber: return 8
        case .pushString: return 4
        case .loadNode, .countInstances, .itemColumn, .choiceName, .once: return 2
        case .call: return 2
        default: return 0
        }
    }

    /// Values an instruction pops (for `call`, see `ExpressionFunction`).
    @inline(__always)
    var popCount: Int {
        switch self {
        case .add, .subtract, .multiply, .divide, .modulo,
             .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual,
             .and, .or:
            return 2
        case .negate, .not, .choiceName:
            return 1
        default:
            return 0
        }
    }
}

extension ExpressionFunction {
    /// Whether `count` arguments are allowed (doc §3 function table).
    @inline(__always)
    public func accepts(argumentCount count: Int) -> Bool {
        switch self {
        case .if: return count == 3
        case .selected, .regex, .coalesce, .contains, .startsWith, .endsWith, .selectedAt: return count == 2
        case .countSelected, .stringLength, .int, .number, .string, .boolean, .date: return count == 1
        case .concat: return count >= 1 && count <= 255
        case .substr: return count == 2 || count == 3
        case .round: return count == 1 || count == 2
        case .today, .random, .true, .false: return count == 0
        }
    }
}
