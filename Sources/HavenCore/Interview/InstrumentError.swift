/// Sections of a compiled instrument (Docs/instrument-format.md §1), named
/// in errors so a failed load says where the file is wrong. `header` covers
/// the fixed header and the section table.
public enum InstrumentSection: UInt16, Equatable, Sendable {
    case header = 0
    case meta = 1
    case strings = 2
    case languages = 3
    case texts = 4
    case expressions = 5
    case choices = 6
    case nodes = 7
}

/// Why an instrument was refused. Every case names what is wrong and where:
/// offsets are absolute byte offsets in the file, so `haven` can point at
/// the exact field and the compiler's author can find the bug.
public enum InstrumentError: Error, Equatable, Sendable {
    /// The file does not start with `HAVNINST`.
    case badMagic
    /// A format version this reader does not know (v1 reads only 1).
    case unsupportedVersion(UInt16)
    /// The header's total length is not the file's size (truncated or padded).
    case lengthMismatch(declared: UInt32, actual: Int)
    /// The CRC-32 of bytes 32‥end does not match the header.
    case checksumMismatch(stored: UInt32, computed: UInt32)
    /// A structure runs past the end of its section (or the file).
    case truncated(section: InstrumentSection, offset: Int)
    /// A section's length is not exactly what its counts require.
    case sizeMismatch(section: InstrumentSection, offset: Int)
    /// A reference, index or count points outside its table.
    case outOfRange(section: InstrumentSection, offset: Int)
    /// A field holds a value v1 does not allow (a node kind, flags, a
    /// reserved field that is not zero, a field on the wrong node kind).
    case invalidField(section: InstrumentSection, offset: Int)
    /// A section kind v1 does not define.
    case unknownSection(kind: UInt16, offset: Int)
    /// A section kind listed twice in the section table.
    case duplicateSection(InstrumentSection, offset: Int)
    /// A section v1 requires is not in the section table.
    case missingSection(InstrumentSection)
    /// Two sections share bytes, or a section overlaps the header or table.
    case overlappingSections(InstrumentSection, InstrumentSection)
    /// The string blob is not well-formed UTF-8, or a string starts or ends
    /// inside a character.
    case invalidUTF8(offset: Int)
    /// A malformed output marker (0x01 digits 0x02) or one naming an
    /// expression that does not exist.
    case badOutput(offset: Int)
    /// A node's parent does not precede it or is not a group or repeat.
    case badParent(offset: Int)
    /// Repeats nested more than four deep.
    case repeatTooDeep(offset: Int)
    /// A default value that does not parse as its question's type (or names
    /// a choice its list does not have).
    case badDefault(offset: Int)
    /// An expression's bytecode was refused by the validator.
    case badExpression(index: UInt32, offset: Int, ExpressionError)
}
