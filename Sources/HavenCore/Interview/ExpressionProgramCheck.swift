/// The one place the instrument decoder asks for bytecode to be checked.
///
/// Until `BytecodeValidator` (issue3-expr) lands on main this only checks
/// that a program ends with `end`; afterwards it forwards to the validator.
enum ExpressionProgramCheck {
    static func validate(_ code: UnsafeRawBufferPointer, maxStack: Int, stringCount: UInt32, nodeCount: UInt16,
                         columnCount: UInt16?) throws(ExpressionError) {
        guard code.count >= 1, code[code.count - 1] == Opcode.end.rawValue else { throw .missingEnd }
    }
}
