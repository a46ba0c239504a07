@testable import HavenCore

/// Writes compiled instruments in the documented format
/// (Docs/instrument-format.md) for tests: an independent writer, so the
/// decoder is checked against the document rather than against itself.
struct InstrumentBuilder {
    struct Node {
        var kind: NodeKind
        var flags: UInt8 = 0
        var parent: UInt16 = 0xFFFF
        var name: UInt32 = 0
        var label: UInt32 = InstrumentRef.none
        var hint: UInt32 = InstrumentRef.none
        var constraintMessage: UInt32 = InstrumentRef.none
        var requiredMessage: UInt32 = InstrumentRef.none
        var relevant: UInt32 = InstrumentRef.none
        var constraint: UInt32 = InstrumentRef.none
        var required: UInt32 = InstrumentRef.none
        var readonly: UInt32 = InstrumentRef.none
        var calculate: UInt32 = InstrumentRef.none
        var defaultValue: UInt32 = 0
        var choiceList: UInt32 = InstrumentRef.none
        var choiceFilter: UInt32 = InstrumentRef.none
        var repeatCapacity: UInt16 = 0
        var repeatCount: UInt32 = InstrumentRef.none
    }

    struct Item {
        var value: UInt32
        var label: UInt32
        var extras: [UInt32]
    }

    struct List {
        var items: [Item]
        var columns: [UInt32]
    }

    var languages: [String] = ["default"]
    var defaultLanguage = 0
    var formID = "test_form"
    var formVersion = "2024010101"
    var title = "Test form"
    var strings: [String] = [""]
    var texts: [[UInt32]] = []
    var expressions: [(code: [UInt8], maxStack: UInt16)] = []
    var lists: [List] = []
    var nodes: [Node] = []

    /// Byte offsets of the sections in the last `build()`, by kind.
    private(set) var sectionOffsets: [InstrumentSection: Int] = [:]

    init(languages: [String] = ["default"]) { self.languages = languages }

    mutating func string(_ s: String) -> UInt32 {
        if let i = strings.firstIndex(of: s) { return UInt32(i) }
        strings.append(s)
        return UInt32(strings.count - 1)
    }

    /// A text with one translation per language (the first repeated when
    /// fewer are given).
    mutating func text(_ translations: String...) -> UInt32 {
        var refs: [UInt32] = []
        for l in 0..<languages.count { refs.append(string(translations[min(l, translations.count - 1)])) }
        texts.append(refs)
        return UInt32(texts.count - 1)
    }

    mutating func expr(_ code: [UInt8], maxStack: UInt16 = 8) -> UInt32 {
        expressions.append((code, maxStack))
        return UInt32(expressions.count - 1)
    }

    /// The output marker for expression `ref`, to embed in a label.
    static func output(_ ref: UInt32) -> String { "\u{01}\(ref)\u{02}" }

    /// A choice list of (value, label) items with optional extra columns.
    mutating func list(_ items: [(String, String)], columns: [String] = [], extras: [[String]] = []) -> UInt32 {
        var built: [Item] = []
        for (i, item) in items.enumerated() {
            let extra = i < extras.count ? extras[i].map { string($0) } : []
            built.append(Item(value: string(item.0), label: text(item.1), extras: extra))
        }
        lists.append(List(items: built, columns: columns.map { string($0) }))
        return UInt32(lists.count - 1)
    }

    @discardableResult
    mutating func node(_ kind: NodeKind, _ name: String, parent: UInt16? = nil, label: String? = nil,
                       configure: (inout Node) -> Void = { _ in }) -> UInt16 {
        var n = Node(kind: kind)
        n.name = string(name)
        n.parent = parent ?? 0xFFFF
        if let label { n.label = text(label) }
        if kind == .repeat { n.repeatCapacity = 10 }
        configure(&n)
        nodes.append(n)
        return UInt16(nodes.count - 1)
    }

    /// `node` with a configuration that also adds strings, texts or
    /// expressions through the builder it is given.
    @discardableResult
    mutating func node(_ kind: NodeKind, _ name: String, parent: UInt16? = nil, label: String? = nil,
                       with configure: (inout Node, inout InstrumentBuilder) -> Void) -> UInt16 {
        var n = Node(kind: kind)
        configure(&n, &self)
        let configured = n
        return node(kind, name, parent: parent, label: label) { node in
            let name = node.name, parent = node.parent, labelRef = node.label
            node = configured
            node.name = name
            node.parent = parent
            if label != nil || configured.label == InstrumentRef.none { node.label = labelRef }
            if kind == .repeat && configured.repeatCapacity == 0 { node.repeatCapacity = 10 }
        }
    }

    // MARK: Writing

    mutating func build() -> [UInt8] {
        let formIDRef = string(formID), versionRef = string(formVersion), titleRef = string(title)
        let languageRefs = languages.map { string($0) }

        var meta = Bytes()
        meta.u32(formIDRef); meta.u32(versionRef); meta.u32(titleRef)
        meta.u16(UInt16(defaultLanguage)); meta.u16(0)
        meta.u32(UInt32(nodes.count)); meta.u32(0)

        var stringSection = Bytes()
        stringSection.u32(UInt32(strings.count))
        var blob: [UInt8] = []
        for s in strings {
            let utf8 = Array(s.utf8)
            stringSection.u32(UInt32(blob.count)); stringSection.u32(UInt32(utf8.count))
            blob += utf8
        }
        stringSection.bytes += blob

        var languageSection = Bytes()
        languageSection.u16(UInt16(languages.count)); languageSection.u16(0)
        for r in languageRefs { languageSection.u32(r) }

        var textSection = Bytes()
        textSection.u32(UInt32(texts.count))
        for t in texts { for r in t { textSection.u32(r) } }

        var expressionSection = Bytes()
        expressionSection.u32(UInt32(expressions.count))
        var code: [UInt8] = []
        for e in expressions {
            expressionSection.u32(UInt32(code.count)); expressionSection.u16(UInt16(e.code.count))
            expressionSection.u16(e.maxStack)
            code += e.code
        }
        expressionSection.bytes += code

        var choiceSection = Bytes()
        choiceSection.u32(UInt32(lists.count))
        var firstItem: UInt32 = 0
        var firstColumn: UInt32 = 0
        for l in lists {
            choiceSection.u32(firstItem); choiceSection.u16(UInt16(l.items.count))
            choiceSection.u16(UInt16(l.columns.count)); choiceSection.u32(firstColumn)
            firstItem += UInt32(l.items.count)
            firstColumn += UInt32(l.columns.count)
        }
        choiceSection.u32(firstColumn)
        for l in lists { for c in l.columns { choiceSection.u32(c) } }
        choiceSection.u32(firstItem)
        for l in lists {
            for item in l.items {
                choiceSection.u32(item.value); choiceSection.u32(item.label)
                for x in item.extras { choiceSection.u32(x) }
            }
        }

        var nodeSection = Bytes()
        nodeSection.u32(UInt32(nodes.count))
        for n in nodes {
            nodeSection.u8(n.kind.rawValue); nodeSection.u8(n.flags); nodeSection.u16(n.parent)
            nodeSection.u32(n.name); nodeSection.u32(n.label); nodeSection.u32(n.hint)
            nodeSection.u32(n.constraintMessage); nodeSection.u32(n.requiredMessage)
            nodeSection.u32(n.relevant); nodeSection.u32(n.constraint); nodeSection.u32(n.required)
            nodeSection.u32(n.readonly); nodeSection.u32(n.calculate); nodeSection.u32(n.defaultValue)
            nodeSection.u32(n.choiceList); nodeSection.u32(n.choiceFilter); nodeSection.u16(n.repeatCapacity)
            nodeSection.u16(0); nodeSection.u32(n.repeatCount)
        }

        let sections: [(InstrumentSection, [UInt8])] = [
            (.meta, meta.bytes), (.strings, stringSection.bytes), (.languages, languageSection.bytes),
            (.texts, textSection.bytes), (.expressions, expressionSection.bytes),
            (.choices, choiceSection.bytes), (.nodes, nodeSection.bytes),
        ]
        var out = Bytes()
        out.bytes += Array("HAVNINST".utf8)
        out.u16(1); out.u16(UInt16(sections.count)); out.u32(0); out.u32(0)
        out.bytes += [UInt8](repeating: 0, count: 12)
        var offset = 32 + 12 * sections.count
        sectionOffsets = [:]
        for (kind, body) in sections {
            out.u16(kind.rawValue); out.u16(0); out.u32(UInt32(offset)); out.u32(UInt32(body.count))
            sectionOffsets[kind] = offset
            offset += body.count
        }
        for (_, body) in sections { out.bytes += body }
        return Self.seal(out.bytes)
    }

    /// Sets the length and CRC fields (after a test edits a file).
    static func seal(_ file: [UInt8]) -> [UInt8] {
        var bytes = file
        let length = UInt32(bytes.count)
        for i in 0..<4 { bytes[12 + i] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(i))) }
        let crc = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[32...])) }
        for i in 0..<4 { bytes[16 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        return bytes
    }

    /// Offset of node `index`'s record.
    func nodeOffset(_ index: Int) -> Int { sectionOffsets[.nodes]! + 4 + 64 * index }
}

/// Little-endian byte accumulation.
struct Bytes {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes += [UInt8(v & 0xFF), UInt8(v >> 8)] }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
    mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
}

/// Hand assembly of expression bytecode (Docs/instrument-format.md §3).
enum Asm {
    static func num(_ x: Double) -> [UInt8] {
        var b = Bytes()
        b.u8(Opcode.pushNumber.rawValue)
        b.u64(x.bitPattern)
        return b.bytes
    }

    static func str(_ ref: UInt32) -> [UInt8] {
        var b = Bytes()
        b.u8(Opcode.pushString.rawValue)
        b.u32(ref)
        return b.bytes
    }

    static func node(_ n: UInt16) -> [UInt8] { [Opcode.loadNode.rawValue, UInt8(n & 0xFF), UInt8(n >> 8)] }
    static func count(_ n: UInt16) -> [UInt8] { [Opcode.countInstances.rawValue, UInt8(n & 0xFF), UInt8(n >> 8)] }
    static func column(_ c: UInt16) -> [UInt8] { [Opcode.itemColumn.rawValue, UInt8(c & 0xFF), UInt8(c >> 8)] }
    static let dot: [UInt8] = [Opcode.loadContext.rawValue]
    static let position: [UInt8] = [Opcode.position.rawValue]
    static let yes: [UInt8] = [Opcode.pushTrue.rawValue]
    static let no: [UInt8] = [Opcode.pushFalse.rawValue]
    static func op(_ o: Opcode) -> [UInt8] { [o.rawValue] }
    static func call(_ f: ExpressionFunction, _ argc: UInt8) -> [UInt8] { [Opcode.call.rawValue, f.rawValue, argc] }
    static let end: [UInt8] = [Opcode.end.rawValue]
}
