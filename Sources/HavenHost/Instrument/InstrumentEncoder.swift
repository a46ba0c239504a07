import Foundation
import HavenCore

/// Device-side limits the compiler must respect (from the board profile).
public struct CompileLimits: Sendable {
    /// Largest number of instances any repeat may have on this device.
    public var repeatCapacity: Int

    public init(repeatCapacity: Int) { self.repeatCapacity = repeatCapacity }
}

/// Writes a `FormModel` as a compiled instrument (`Docs/instrument-format.md`):
/// interns strings, lays out texts per language, compiles every expression
/// (binds, outputs in labels, itemset filters) to bytecode, and frames the
/// sections with a CRC.
public enum InstrumentEncoder {
    public static func encode(_ form: FormModel, limits: CompileLimits) throws(FormError) -> [UInt8] {
        var builder = Builder(form: form, limits: limits)
        return try builder.build()
    }

    static let noRef: UInt32 = 0xFFFF_FFFF

    struct Builder {
        let form: FormModel
        let limits: CompileLimits
        /// A reference, so the expression compiler can intern constants through a closure.
        let table = StringTable()
        var texts: [[UInt32]] = []
        var expressions: [CompiledExpression] = []
        var expressionIndex: [ExpressionKey: UInt32] = [:]
        let pathIndex: [[String]: UInt16]

        struct ExpressionKey: Hashable {
            var source: String
            var node: Int
            var filter: Bool
        }

        init(form: FormModel, limits: CompileLimits) {
            self.form = form
            self.limits = limits
            var index: [[String]: UInt16] = [:]
            for (i, node) in form.nodes.enumerated() { index[node.path] = UInt16(i) }
            pathIndex = index
        }

        func intern(_ s: String) -> UInt32 { table.intern(s) }

        func question(_ node: Int) -> String {
            "/" + ([form.rootName] + form.nodes[node].path).joined(separator: "/")
        }

        mutating func expression(_ source: String?, node: Int, filterColumns: [String]? = nil,
                                 what: String) throws(FormError) -> UInt32 {
            guard let source, !source.trimmingCharacters(in: .whitespaces).isEmpty else { return noRef }
            let key = ExpressionKey(source: source, node: node, filter: filterColumns != nil)
            if let i = expressionIndex[key] { return i }
            let nodes = form.nodes
            let index = pathIndex
            let table = self.table
            let context = ExpressionContext(
                contextNode: UInt16(node),
                nodePath: { nodes[Int($0)].path },
                resolve: { index[$0] },
                isRepeat: { nodes[Int($0)].kind == .repeat },
                rootName: form.rootName,
                choiceColumns: filterColumns,
                internString: { table.intern($0) })
            let compiled: CompiledExpression
            do {
                compiled = try ExpressionCompiler().compile(source, in: context)
            } catch {
                throw FormError(question: question(node), construct: error.construct,
                                line: form.nodes[node].line, message: "\(what) `\(source)`: \(error.message)")
            }
            let i = UInt32(expressions.count)
            expressions.append(compiled)
            expressionIndex[key] = i
            return i
        }

        /// A localized text: one string per language, outputs compiled and
        /// replaced by 0x01 <expr ref> 0x02 markers.
        mutating func text(_ text: LocalizedText?, node: Int) throws(FormError) -> UInt32 {
            guard let text else { return noRef }
            var refs: [UInt32] = []
            for language in 0..<form.languages.count {
                let segments = language < text.translations.count ? text.translations[language]
                    : text.translations[form.defaultLanguage]
                var s = ""
                for segment in segments {
                    switch segment {
                    case .literal(let l): s += l
                    case .output(let source):
                        let e = try expression(source, node: node, what: "output")
                        s += "\u{1}\(e)\u{2}"
                    }
                }
                // pyxform pads text around <output/>s; ODK Collect shows labels
                // trimmed, so the device gets them trimmed.
                refs.append(intern(s.trimmingCharacters(in: .whitespacesAndNewlines)))
            }
            texts.append(refs)
            return UInt32(texts.count - 1)
        }

        mutating func build() throws(FormError) -> [UInt8] {
            guard form.nodes.count < 0xFFFF else {
                throw FormError(question: nil, construct: "form size", line: 1,
                                message: "\(form.nodes.count) nodes; at most 65,534 are supported")
            }
            // Languages and META strings first.
            let languageRefs = form.languages.map { intern($0) }
            let formID = intern(form.formID), version = intern(form.version), title = intern(form.title)

            // Choice lists.
            var lists = ByteWriter(), columns: [UInt32] = [], items = ByteWriter()
            var itemCount: UInt32 = 0
            var listHeaders: [(first: UInt32, count: UInt16, columns: UInt16, firstColumn: UInt32)] = []
            for list in form.choiceLists {
                listHeaders.append((itemCount, UInt16(list.items.count), UInt16(list.extraColumns.count),
                                    UInt32(columns.count)))
                columns += list.extraColumns.map { intern($0) }
                for item in list.items {
                    items.u32(intern(item.value))
                    items.u32(try text(item.label, node: 0))
                    for value in item.extra { items.u32(intern(value)) }
                    itemCount += 1
                }
            }
            lists.u32(UInt32(form.choiceLists.count))
            for h in listHeaders { lists.u32(h.first); lists.u16(h.count); lists.u16(h.columns); lists.u32(h.firstColumn) }
            lists.u32(UInt32(columns.count))
            for c in columns { lists.u32(c) }
            lists.u32(itemCount)
            lists.bytes += items.bytes

            // Nodes.
            var nodes = ByteWriter()
            nodes.u32(UInt32(form.nodes.count))
            for (i, node) in form.nodes.enumerated() {
                let filterColumns = node.choiceList.map { ["name", "label"] + form.choiceLists[$0].extraColumns }
                var flags: UInt8 = 0
                if node.sensitive { flags |= 1 }
                if node.notPrivate == .postpone { flags |= 2 }
                nodes.u8(node.kind.rawValue)
                nodes.u8(flags)
                nodes.u16(node.parent.map { UInt16($0) } ?? 0xFFFF)
                nodes.u32(intern(node.name))
                nodes.u32(try text(node.label, node: i))
                nodes.u32(try text(node.hint, node: i))
                nodes.u32(try text(node.constraintMessage, node: i))
                nodes.u32(try text(node.requiredMessage, node: i))
                nodes.u32(try expression(node.relevant, node: i, what: "relevant"))
                nodes.u32(try expression(node.constraint, node: i, what: "constraint"))
                nodes.u32(try expression(node.required, node: i, what: "required"))
                nodes.u32(try expression(node.readonly, node: i, what: "readonly"))
                nodes.u32(try expression(node.calculate, node: i, what: "calculate"))
                nodes.u32(node.defaultValue.map { intern($0) } ?? 0)
                nodes.u32(node.choiceList.map { UInt32($0) } ?? noRef)
                nodes.u32(try expression(node.choiceFilter, node: i, filterColumns: filterColumns, what: "choice filter"))
                let capacity = node.kind == .repeat ? max(1, min(node.repeatLimit ?? Int.max, limits.repeatCapacity)) : 0
                nodes.u16(UInt16(min(capacity, 0xFFFF)))
                nodes.u16(0)
                nodes.u32(try expression(node.repeatCount, node: i, what: "repeat count"))
            }

            // Strings, languages, texts, expressions (all final now).
            var meta = ByteWriter()
            meta.u32(formID); meta.u32(version); meta.u32(title)
            meta.u16(UInt16(form.defaultLanguage)); meta.u16(0)
            meta.u32(UInt32(form.nodes.count)); meta.u32(0)

            var stringSection = ByteWriter()
            stringSection.u32(UInt32(table.strings.count))
            var blob: [UInt8] = []
            for s in table.strings {
                let utf8 = Array(s.utf8)
                stringSection.u32(UInt32(blob.count)); stringSection.u32(UInt32(utf8.count))
                blob += utf8
            }
            stringSection.bytes += blob

            var languageSection = ByteWriter()
            languageSection.u16(UInt16(languageRefs.count)); languageSection.u16(0)
            for r in languageRefs { languageSection.u32(r) }

            var textSection = ByteWriter()
            textSection.u32(UInt32(texts.count))
            for t in texts { for r in t { textSection.u32(r) } }

            var expressionSection = ByteWriter()
            expressionSection.u32(UInt32(expressions.count))
            var code: [UInt8] = []
            for e in expressions {
                expressionSection.u32(UInt32(code.count)); expressionSection.u16(UInt16(e.bytecode.count))
                expressionSection.u16(e.maxStack)
                code += e.bytecode
            }
            expressionSection.bytes += code

            let sections: [(UInt16, [UInt8])] = [(1, meta.bytes), (2, stringSection.bytes), (3, languageSection.bytes),
                                                 (4, textSection.bytes), (5, expressionSection.bytes), (6, lists.bytes),
                                                 (7, nodes.bytes)]
            var file = ByteWriter()
            file.bytes += Array("HAVNINST".utf8)
            file.u16(1)
            file.u16(UInt16(sections.count))
            file.u32(0)  // total length, patched
            file.u32(0)  // CRC, patched
            file.bytes += [UInt8](repeating: 0, count: 12)
            var offset = 32 + 12 * sections.count
            for (kind, bytes) in sections {
                file.u16(kind); file.u16(0); file.u32(UInt32(offset)); file.u32(UInt32(bytes.count))
                offset += bytes.count
            }
            for (_, bytes) in sections { file.bytes += bytes }
            let total = UInt32(file.bytes.count)
            file.patch32(total, at: 12)
            let crc = file.bytes[32...].withUnsafeBytes { CRC32.checksum($0) }
            file.patch32(crc, at: 16)
            return file.bytes
        }
    }
}

/// The string table as a reference, so the expression compiler's
/// `internString` closure can add constants while the builder is borrowed.
final class StringTable {
    private(set) var strings: [String] = [""]
    private var index: [String: UInt32] = ["": 0]

    func intern(_ s: String) -> UInt32 {
        if let i = index[s] { return i }
        let i = UInt32(strings.count)
        strings.append(s)
        index[s] = i
        return i
    }
}

/// Little-endian byte output.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func patch32(_ v: UInt32, at offset: Int) {
        withUnsafeBytes(of: v.littleEndian) { for i in 0..<4 { bytes[offset + i] = $0[i] } }
    }
}
