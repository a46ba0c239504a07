/// A compiled instrument (Docs/instrument-format.md), decoded and checked
/// once when it is loaded so the engine can index with its references
/// without re-checking them on every screen.
///
/// The file's bytes are copied once into a buffer the instrument owns: the
/// expression VM and the screen model hand out pointers to strings and
/// bytecode, and those must stay put for as long as the instrument lives
/// (an `Array`'s storage gives no such promise outside `withUnsafeBytes`).
public struct Instrument {
    let storage: InstrumentStorage
    /// Decoded node records, in document order.
    public let nodes: [InstrumentNode]
    /// Choice lists, by index.
    public let choiceLists: [ChoiceListInfo]

    // Absolute offsets of the tables inside `storage.bytes`.
    let stringTable: Int
    let stringBlob: Int
    public let stringCount: UInt32
    let languageTable: Int
    public let languageCount: Int
    let textTable: Int
    public let textCount: UInt32
    let expressionTable: Int
    let expressionBlob: Int
    public let expressionCount: UInt32
    let columnNameTable: Int

    /// META: the form's `id`, `version` and title (string refs).
    public let formID: UInt32
    public let formVersion: UInt32
    public let title: UInt32
    public let defaultLanguage: Int

    /// The header's CRC-32 and the file length: together they identify the
    /// instrument a saved interview state belongs to.
    public let checksum: UInt32
    public let byteCount: Int

    /// Decodes `bytes`, refusing anything Docs/instrument-format.md does not
    /// allow (see `InstrumentError`). Allocates the instrument's storage; the
    /// engine allocates nothing more from it afterwards.
    public init(bytes: [UInt8]) throws(InstrumentError) {
        let storage = InstrumentStorage(copying: bytes)
        var d = InstrumentDecoder(storage.bytes)
        try d.decode()
        self.storage = storage
        nodes = d.nodes
        choiceLists = d.lists
        stringTable = d.stringTable
        stringBlob = d.stringBlob
        stringCount = d.stringCount
        languageTable = d.languageTable
        languageCount = d.languageCount
        textTable = d.textTable
        textCount = d.textCount
        expressionTable = d.expressionTable
        expressionBlob = d.expressionBlob
        expressionCount = d.expressionCount
        columnNameTable = d.columnNameTable
        formID = d.formID
        formVersion = d.formVersion
        title = d.title
        defaultLanguage = d.defaultLanguage
        checksum = d.checksum
        byteCount = bytes.count
    }

    @inline(__always)
    var bytes: UnsafeRawBufferPointer { storage.bytes }

    public var nodeCount: Int { nodes.count }

    // MARK: Strings and texts

    /// The UTF-8 bytes of string `ref` (empty for an unknown ref). Valid as
    /// long as the instrument lives.
    public func string(_ ref: UInt32) -> UnsafeRawBufferPointer {
        guard ref < stringCount else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let entry = stringTable + Int(ref) * 8
        let offset = Int(bytes.loadLE(UInt32.self, at: entry))
        let length = Int(bytes.loadLE(UInt32.self, at: entry + 4))
        return bytes.slice(stringBlob + offset, length)
    }

    /// The string ref of text `ref` in `language` (0, the empty string, for
    /// no text).
    public func textString(_ ref: UInt32, language: Int) -> UInt32 {
        guard ref < textCount, language >= 0, language < languageCount else { return 0 }
        return bytes.loadLE(UInt32.self, at: textTable + (Int(ref) * languageCount + language) * 4)
    }

    /// Text `ref` in `language`, raw (outputs not substituted); empty for none.
    public func text(_ ref: UInt32, language: Int) -> UnsafeRawBufferPointer {
        string(textString(ref, language: language))
    }

    /// The language's name as the form spells it (`English (en)`).
    public func languageName(_ index: Int) -> UnsafeRawBufferPointer {
        guard index >= 0, index < languageCount else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return string(bytes.loadLE(UInt32.self, at: languageTable + index * 4))
    }

    // MARK: Expressions

    /// Bytecode and recorded maximum stack depth of expression `ref`, nil for
    /// none.
    public func expression(_ ref: UInt32) -> InstrumentExpression? {
        guard ref < expressionCount else { return nil }
        let entry = expressionTable + Int(ref) * 8
        let offset = Int(bytes.loadLE(UInt32.self, at: entry))
        let length = Int(bytes.loadLE(UInt16.self, at: entry + 4))
        let maxStack = Int(bytes.loadLE(UInt16.self, at: entry + 6))
        return InstrumentExpression(code: bytes.slice(expressionBlob + offset, length), maxStack: maxStack)
    }

    // MARK: Choices

    /// String ref of item `item`'s value in list `list`.
    public func choiceValueRef(list: Int, item: Int) -> UInt32 {
        let info = choiceLists[list]
        return bytes.loadLE(UInt32.self, at: info.itemsOffset + item * info.itemSize)
    }

    /// Item `item`'s value (the `name` column) in list `list`.
    public func choiceValue(list: Int, item: Int) -> UnsafeRawBufferPointer {
        string(choiceValueRef(list: list, item: item))
    }

    /// Item `item`'s label in `language` (raw).
    public func choiceLabel(list: Int, item: Int, language: Int) -> UnsafeRawBufferPointer {
        let info = choiceLists[list]
        return text(bytes.loadLE(UInt32.self, at: info.itemsOffset + item * info.itemSize + 4), language: language)
    }

    /// Column `column` of an item as the VM's `itemColumn` sees it: 0 the
    /// value, 1 the label in `language`, 2+ the list's extra columns.
    public func choiceColumn(list: Int, item: Int, column: Int, language: Int) -> UnsafeRawBufferPointer {
        let info = choiceLists[list]
        switch column {
        case 0: return choiceValue(list: list, item: item)
        case 1: return choiceLabel(list: list, item: item, language: language)
        default:
            guard column - 2 < info.extraColumnCount else { return UnsafeRawBufferPointer(start: nil, count: 0) }
            let at = info.itemsOffset + item * info.itemSize + 8 + (column - 2) * 4
            return string(bytes.loadLE(UInt32.self, at: at))
        }
    }

    /// Name of extra column `column` (0-based among the extra columns).
    public func columnName(list: Int, column: Int) -> UnsafeRawBufferPointer {
        let info = choiceLists[list]
        guard column >= 0, column < info.extraColumnCount else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return string(bytes.loadLE(UInt32.self, at: columnNameTable + (info.firstColumnName + column) * 4))
    }

    /// Index of the item of `list` whose value is `value`, nil if none.
    public func choiceIndex(list: Int, value: UnsafeRawBufferPointer) -> Int? {
        let count = choiceLists[list].itemCount
        var i = 0
        while i < count {
            if bytesEqual(choiceValue(list: list, item: i), value) { return i }
            i += 1
        }
        return nil
    }
}

/// One expression's bytecode and its recorded maximum stack depth.
public struct InstrumentExpression {
    public let code: UnsafeRawBufferPointer
    public let maxStack: Int
}

/// Where a choice list's items live and how big they are (items of one
/// list share a size: value, label, then one string ref per extra column).
public struct ChoiceListInfo: Equatable, Sendable {
    public let itemCount: Int
    public let extraColumnCount: Int
    /// Index of the list's first name in the column-name table.
    let firstColumnName: Int
    /// Absolute offset of the list's first item.
    let itemsOffset: Int
    let itemSize: Int
}

/// The instrument's bytes, owned and freed with the last copy of the
/// `Instrument` that refers to them.
final class InstrumentStorage {
    private let allocation: UnsafeMutableRawBufferPointer
    /// The file, exactly `source.count` bytes.
    let bytes: UnsafeRawBufferPointer

    init(copying source: [UInt8]) {
        let allocation = UnsafeMutableRawBufferPointer.allocate(byteCount: max(source.count, 1), alignment: 8)
        source.withUnsafeBytes { s in
            if s.count > 0 { allocation.copy(s, to: 0) }
        }
        self.allocation = allocation
        bytes = UnsafeRawBufferPointer(allocation).slice(0, source.count)
    }

    deinit { allocation.deallocate() }
}

/// Byte-wise equality of two buffers.
@inline(__always)
func bytesEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    var i = 0
    while i < a.count {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}
