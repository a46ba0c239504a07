/// Shared vocabulary of the expression language (Docs/instrument-format.md
/// §3): opcodes, functions, values, and what the VM asks of its host. The
/// compiler (HavenHost) emits these opcodes; `ExpressionVM` runs them.

/// One bytecode instruction.
public enum Opcode: UInt8, Sendable {
    case pushNumber = 0x01      // f64
    case pushString = 0x02      // u32 string ref
    case pushTrue = 0x03
    case pushFalse = 0x04
    case loadNode = 0x05        // u16 node
    case loadContext = 0x06
    case countInstances = 0x07  // u16 repeat node
    case position = 0x08
    case itemColumn = 0x09      // u16 column
    case add = 0x10
    case subtract = 0x11
    case multiply = 0x12
    case divide = 0x13
    case modulo = 0x14
    case negate = 0x15
    case equal = 0x18
    case notEqual = 0x19
    case less = 0x1A
    case lessOrEqual = 0x1B
    case greater = 0x1C
    case greaterOrEqual = 0x1D
    case and = 0x20
    case or = 0x21
    case not = 0x22
    case call = 0x30            // u8 function, u8 argc
    case choiceName = 0x31      // u16 node
    case once = 0x32            // u16 bytes to skip when the context already has a value
    case end = 0xFF
}

/// Functions called with `Opcode.call`.
public enum ExpressionFunction: UInt8, Sendable {
    case `if` = 1
    case selected = 2
    case countSelected = 3
    case stringLength = 4
    case concat = 5
    case substr = 6
    case regex = 7
    case coalesce = 8
    case int = 9
    case number = 10
    case string = 11
    case round = 12
    case today = 13
    case random = 14
    case boolean = 15
    case `true` = 16
    case `false` = 17
    /// `date(x)`: a date from a `YYYY-MM-DD` string or a day number; empty
    /// when `x` is neither (forms write `. >= date('1920-01-01')`).
    case date = 18
    case contains = 19
    case startsWith = 20
    case endsWith = 21
    /// `selected-at(list, i)`: the 0-based `i`th token, empty when out of range.
    case selectedAt = 22
}

/// A value on the VM stack. Strings point into the instrument, the answer
/// store or the VM's arena and are valid until the next evaluation.
/// `.empty` (an unanswered node) behaves exactly like the empty string.
public enum ExprValue {
    case empty
    case bool(Bool)
    case number(Double)
    case string(UnsafeRawBufferPointer)
    /// Days since 1970-01-01.
    case date(Int32)
}

/// Why an expression could not be run (or was refused at load time).
public enum ExpressionError: Error, Equatable, Sendable {
    case unknownOpcode(offset: Int)
    case truncated(offset: Int)
    case stackUnderflow(offset: Int)
    case stackOverflow(offset: Int)
    case badArity(offset: Int)
    case badReference(offset: Int)
    case arenaFull
    case missingEnd
    /// A `once` skip that does not land on an instruction boundary inside
    /// the program, or that does not skip exactly one value.
    case badSkip(offset: Int)
    /// Bytes after the `end` instruction.
    case trailingBytes(offset: Int)
    /// `end` reached with more than one value on the stack.
    case leftoverValues(offset: Int)
    /// The caller's buffer is smaller than the string result.
    case bufferTooSmall(needed: Int)
}

/// What the VM needs from the interview engine. Generic, not existential:
/// the engine passes itself (or a small view of itself) as `inout`.
public protocol ExpressionEnvironment {
    /// Value of `node` seen from the evaluation context (same repeat
    /// instance for shared repeat ancestors, first instance otherwise);
    /// `.empty` when unanswered or not relevant.
    mutating func value(of node: UInt16) -> ExprValue
    /// Value of the context node (`.`).
    mutating func contextValue() -> ExprValue
    /// Whether the context node already has a value (for `once`).
    mutating func contextHasValue() -> Bool
    /// Instances of a repeat node in the evaluation context.
    mutating func instanceCount(of node: UInt16) -> Int
    /// 1-based position of the context's innermost repeat instance.
    mutating func position() -> Int
    /// Column of the choice item being filtered (0 value, 1 label, 2+ extra).
    mutating func itemColumn(_ column: UInt16) -> ExprValue
    /// Label, in the current language, of the choice `value` of `node`'s list.
    mutating func choiceLabel(node: UInt16, value: UnsafeRawBufferPointer) -> ExprValue
    /// The instrument's string `ref`.
    mutating func string(_ ref: UInt32) -> UnsafeRawBufferPointer
    /// Today's date, days since 1970-01-01.
    mutating func today() -> Int32
    /// Uniform in [0, 1).
    mutating func random() -> Double
}
