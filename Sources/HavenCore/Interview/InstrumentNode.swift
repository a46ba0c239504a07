/// Node kinds of the NODES section (Docs/instrument-format.md §2.7).
public enum NodeKind: UInt8, Equatable, Sendable {
    case group = 1
    case `repeat` = 2
    case note = 3
    case text = 4
    case integer = 5
    case decimal = 6
    case date = 7
    case selectOne = 8
    case selectMultiple = 9
    case calculate = 10
    case preloadUID = 11

    /// A group or repeat: may be a parent.
    public var isContainer: Bool { self == .group || self == .repeat }
    /// A question the enumerator answers (not a note, calculate or preload).
    public var isQuestion: Bool { rawValue >= NodeKind.text.rawValue && rawValue <= NodeKind.selectMultiple.rawValue }
    /// Holds a value in the answer store and the record.
    public var holdsValue: Bool { isQuestion || self == .calculate || self == .preloadUID }
    public var isSelect: Bool { self == .selectOne || self == .selectMultiple }
}

/// The "none" values of references (Docs/instrument-format.md, preamble).
public enum InstrumentRef {
    /// No text / no expression / no choice list.
    public static let none: UInt32 = 0xFFFF_FFFF
    /// No node (top level).
    public static let noNode: UInt16 = 0xFFFF
}

/// One decoded 64-byte node record. References are checked when the
/// instrument is loaded, so the engine indexes with them directly.
public struct InstrumentNode: Equatable, Sendable {
    public var kind: NodeKind
    public var flags: UInt8
    /// Parent node index, `InstrumentRef.noNode` at the top level.
    public var parent: UInt16
    /// String ref: the XForm element name.
    public var name: UInt32
    /// Text refs (`InstrumentRef.none` when absent).
    public var label: UInt32
    public var hint: UInt32
    public var constraintMessage: UInt32
    public var requiredMessage: UInt32
    /// Expression refs (`InstrumentRef.none` when absent).
    public var relevant: UInt32
    public var constraint: UInt32
    public var required: UInt32
    public var readonly: UInt32
    public var calculate: UInt32
    /// String ref, 0 = no default.
    public var defaultValue: UInt32
    /// Choice list index (selects), else `InstrumentRef.none`.
    public var choiceList: UInt32
    /// Expression ref evaluated per choice item (itemsets).
    public var choiceFilter: UInt32
    /// Repeats: instance limit (≥ 1); 0 otherwise.
    public var repeatCapacity: UInt16
    /// Repeats: `jr:count` expression ref; none = "add another".
    public var repeatCount: UInt32

    /// Group or repeat carrying `haven:sensitive`: a privacy check comes first.
    public var isSensitive: Bool { flags & 0x01 != 0 }
    /// When the respondent is not alone: defer the section (else skip it).
    public var postponesWhenNotPrivate: Bool { flags & 0x02 != 0 }
    public var hasParent: Bool { parent != InstrumentRef.noNode }
}
