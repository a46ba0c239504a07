import CLibXML2
import Foundation

/// A namespace-resolved XML name: `jr:count` with `xmlns:jr="http://openrosa.org/javarosa"`
/// is `XName(ns: "http://openrosa.org/javarosa", local: "count")`. Unprefixed
/// attributes have the empty namespace; unprefixed elements the default one.
struct XName: Hashable, Sendable {
    var ns: String
    var local: String
}

/// Namespace URIs an XForm uses (prefixes are whatever the document declares).
enum XNS {
    static let xforms = "http://www.w3.org/2002/xforms"
    static let xhtml = "http://www.w3.org/1999/xhtml"
    static let jr = "http://openrosa.org/javarosa"
    static let odk = "http://www.opendatakit.org/xforms"
    static let orx = "http://openrosa.org/xforms"
    static let haven = "urn:haven:xforms"
}

/// One element of the parsed document: a small DOM, enough for an XForm.
final class XElement {
    /// The name as written (`h:head`, `jr:itext` …), for paths and messages.
    let qname: String
    let name: XName
    /// Attributes in name order (`qname` as written), namespace declarations removed.
    let attributes: [(qname: String, name: XName, value: String)]
    var children: [XContent] = []
    /// 1-based line where the start tag ends (XMLParser reports that line).
    let line: Int

    init(qname: String, name: XName, attributes: [(qname: String, name: XName, value: String)], line: Int) {
        self.qname = qname
        self.name = name
        self.attributes = attributes
        self.line = line
    }

    func attribute(_ local: String, ns: String = "") -> String? {
        attributes.first { $0.name.local == local && $0.name.ns == ns }?.value
    }

    var elements: [XElement] {
        children.compactMap { if case .element(let e) = $0 { return e } else { return nil } }
    }

    func elements(_ local: String, ns: String = XNS.xforms) -> [XElement] {
        elements.filter { $0.name.local == local && $0.name.ns == ns }
    }

    func first(_ local: String, ns: String = XNS.xforms) -> XElement? {
        elements.first { $0.name.local == local && $0.name.ns == ns }
    }

    /// All character data directly inside this element, concatenated.
    var text: String {
        children.reduce(into: "") { result, child in
            if case .text(let t) = child { result += t }
        }
    }

    func `is`(_ local: String, ns: String = XNS.xforms) -> Bool {
        name.local == local && name.ns == ns
    }
}

enum XContent {
    case element(XElement)
    case text(String)
}

/// Parses bytes into an `XElement` tree with XMLParser, resolving namespace
/// prefixes itself (so attributes like `jr:count` are matched by URI, not by
/// spelling). Refuses DTDs outright: an XForm never needs one, and refusing
/// them shuts out entity-expansion tricks.
enum XMLTree {
    /// Nesting limit: a real XForm is a few dozen levels deep; the reader
    /// walks the tree recursively, so a hostile file must not go deeper.
    static let maximumDepth = 200

    static func parse(_ data: Data, sourceName: String) throws(FormError) -> XElement {
        if data.isEmpty {
            throw FormError(question: nil, construct: "XML", line: 1,
                            message: "\(sourceName) is empty; expected an XForm (XML)")
        }
        // corelibs XMLParser traps (a Swift runtime failure in its libxml2
        // glue, _NSXMLParserStartElementNs) when an element name is not valid
        // UTF-8, so bytes that are not UTF-8 never reach it. XForms are UTF-8
        // (found by Tools/fuzz xform; input kept in Tools/fuzzing/regressions).
        if let badLine = lineOfInvalidUTF8(in: data) {
            throw FormError(question: nil, construct: "XML", line: badLine,
                            message: "\(sourceName) is not valid UTF-8 (line \(badLine)); XForms are UTF-8")
        }
        // corelibs XMLParser also crashes (strlen of a null pointer in
        // _NSXMLParserProcessingInstruction) on a processing instruction
        // without data, e.g. `<?target?>`. XForms have no processing
        // instructions besides the XML declaration, so any other is refused.
        if let piLine = lineOfProcessingInstruction(in: data) {
            throw FormError(question: nil, construct: "<?…?>", line: piLine,
                            message: "\(sourceName) has a processing instruction; XForms have none and Haven refuses them")
        }
        if let dtdLine = lineOf(pattern: Array("<!DOCTYPE".utf8), in: data) {
            throw FormError(question: nil, construct: "<!DOCTYPE>", line: dtdLine,
                            message: "\(sourceName) declares a DTD; XForms have none and Haven refuses them")
        }
        // libxml2 builds the tree; XMLTree then resolves namespaces and
        // checks depth itself. (Foundation's XMLParser is not used: its
        // glue traps on some hostile input and is not safe on two threads.)
        xmlParserLock.lock()
        defer { xmlParserLock.unlock() }
        guard let context = xmlNewParserCtxt() else {
            throw FormError(question: nil, construct: "XML", line: 1, message: "\(sourceName): out of memory")
        }
        defer { xmlFreeParserCtxt(context) }
        // No network, no entity substitution beyond the predefined ones, no
        // DTD loading, quiet (errors are read from the context).
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOWARNING.rawValue | XML_PARSE_NOERROR.rawValue)
        let document = data.withUnsafeBytes { raw in
            xmlCtxtReadMemory(context, raw.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(clamping: raw.count),
                              nil, nil, options)
        }
        defer { if let document { xmlFreeDoc(document) } }
        let lastError = context.pointee.lastError
        guard let document, context.pointee.wellFormed != 0 else {
            let code = Int(lastError.code)
            let detail = lastError.message.map { String(cString: $0) } ?? ""
            if detail.contains("depth") {
                // libxml2's own nesting limit (256) comes before ours.
                throw FormError(question: nil, construct: "XML", line: max(1, Int(lastError.line)),
                                message: "elements nested deeper than \(maximumDepth) levels")
            }
            throw FormError(question: nil, construct: "XML", line: max(1, Int(lastError.line)),
                            message: "\(sourceName) is not well-formed XML (\(describe(code)))")
        }
        guard let rootNode = xmlDocGetRootElement(document) else {
            throw FormError(question: nil, construct: "XML", line: 1,
                            message: "\(sourceName) has no complete root element; expected an XForm (XML)")
        }
        var scopes: [[String: String]] = [["xml": "http://www.w3.org/XML/1998/namespace"]]
        return try element(rootNode, depth: 1, scopes: &scopes)
    }

    /// One element of the libxml2 tree as an `XElement` (namespaces
    /// resolved from the prefixes as written, like the rest of the reader).
    private static func element(_ node: xmlNodePtr, depth: Int, scopes: inout [[String: String]]) throws(FormError) -> XElement {
        let line = max(1, Int(xmlGetLineNo(node)))
        let local = string(node.pointee.name)
        var qname = local
        if let ns = node.pointee.ns, let prefix = ns.pointee.prefix { qname = string(prefix) + ":" + local }
        if depth > maximumDepth {
            throw FormError(question: nil, construct: "XML", line: line,
                            message: "elements nested deeper than \(maximumDepth) levels")
        }
        var scope = scopes.last ?? [:]
        var declaration = node.pointee.nsDef
        while let d = declaration {
            let href: UnsafePointer<xmlChar>? = d.pointee.href
            let uri = href.map { string($0) } ?? ""
            if let prefix = d.pointee.prefix { scope[string(prefix)] = uri } else { scope[""] = uri }
            declaration = d.pointee.next
        }
        func resolve(_ qname: String, isAttribute: Bool) -> XName? {
            guard let colon = qname.firstIndex(of: ":") else {
                return XName(ns: isAttribute ? "" : (scope[""] ?? ""), local: qname)
            }
            let prefix = String(qname[..<colon])
            guard let uri = scope[prefix] else { return nil }
            return XName(ns: uri, local: String(qname[qname.index(after: colon)...]))
        }
        guard let name = resolve(qname, isAttribute: false) else {
            throw FormError(question: nil, construct: "<\(qname)>", line: line, message: "undeclared namespace prefix")
        }
        var raw: [(String, String)] = []
        var property = node.pointee.properties
        while let a = property {
            var key = string(a.pointee.name)
            if let ns = a.pointee.ns, let prefix = ns.pointee.prefix { key = string(prefix) + ":" + key }
            let valuePointer = xmlNodeListGetString(node.pointee.doc, a.pointee.children, 1)
            let value = valuePointer.map { string($0) } ?? ""
            if let valuePointer { free(valuePointer) }
            raw.append((key, value))
            property = a.pointee.next
        }
        var attributes: [(qname: String, name: XName, value: String)] = []
        for (key, value) in raw.sorted(by: { $0.0 < $1.0 }) {
            guard let attributeName = resolve(key, isAttribute: true) else {
                throw FormError(question: nil, construct: "attribute '\(key)'", line: line,
                                message: "undeclared namespace prefix on <\(qname)>")
            }
            attributes.append((key, attributeName, value))
        }
        let result = XElement(qname: qname, name: name, attributes: attributes, line: line)
        scopes.append(scope)
        defer { scopes.removeLast() }
        var child = node.pointee.children
        while let c = child {
            switch c.pointee.type {
            case XML_ELEMENT_NODE:
                result.children.append(.element(try element(c, depth: depth + 1, scopes: &scopes)))
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                let content: UnsafeMutablePointer<xmlChar>? = c.pointee.content
                let text = content.map { string($0) } ?? ""
                if case .text(let previous)? = result.children.last {
                    result.children[result.children.count - 1] = .text(previous + text)
                } else {
                    result.children.append(.text(text))
                }
            case XML_ENTITY_REF_NODE:
                throw FormError(question: nil, construct: "XML", line: max(1, Int(xmlGetLineNo(c))),
                                message: "undeclared entity '&\(string(c.pointee.name));'")
            default:
                break  // comments, processing instructions
            }
            child = c.pointee.next
        }
        return result
    }

    private static func string(_ p: UnsafePointer<xmlChar>) -> String {
        String(decoding: UnsafeBufferPointer(start: p, count: strlen(UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self))),
               as: UTF8.self)
    }

    /// 1-based line of the first occurrence of `pattern`, nil when absent.
    private static func lineOf(pattern: [UInt8], in data: Data) -> Int? {
        let bytes = [UInt8](data)
        guard bytes.count >= pattern.count else { return nil }
        var line = 1
        var i = 0
        while i + pattern.count <= bytes.count {
            if bytes[i] == UInt8(ascii: "\n") { line += 1 }
            if bytes[i] == pattern[0] && bytes[i..<(i + pattern.count)].elementsEqual(pattern) { return line }
            i += 1
        }
        return nil
    }

    /// The line of the first `<?` that is not the XML declaration at the
    /// very start (after an optional BOM), skipping comments and CDATA
    /// sections, where `<?` is just text; nil when there is none.
    private static func lineOfProcessingInstruction(in data: Data) -> Int? {
        let b = [UInt8](data)
        func at(_ i: Int, _ s: String) -> Bool {
            let p = Array(s.utf8)
            return i + p.count <= b.count && b[i..<(i + p.count)].elementsEqual(p)
        }
        var start = at(0, "\u{FEFF}") ? 3 : 0
        if at(start, "<?xml"), start + 5 < b.count, [0x20, 0x09, 0x0A, 0x0D].contains(b[start + 5]) {
            // Skip the declaration itself.
            var j = start + 5
            while j + 1 < b.count, !(b[j] == UInt8(ascii: "?") && b[j + 1] == UInt8(ascii: ">")) { j += 1 }
            start = j
        }
        var line = 1
        for k in 0..<min(start, b.count) where b[k] == 0x0A { line += 1 }
        var i = start
        while i < b.count {
            if b[i] == 0x0A { line += 1 }
            if b[i] == UInt8(ascii: "<") {
                var close: String?
                if at(i, "<!--") { close = "-->" } else if at(i, "<![CDATA[") { close = "]]>" }
                if let close {
                    var j = i + 4
                    while j < b.count, !at(j, close) {
                        if b[j] == 0x0A { line += 1 }
                        j += 1
                    }
                    i = j + close.utf8.count
                    continue
                }
                if at(i, "<?") { return line }
            }
            i += 1
        }
        return nil
    }

    /// The line of the first byte sequence that is not UTF-8, or nil.
    private static func lineOfInvalidUTF8(in data: Data) -> Int? {
        let bytes = [UInt8](data)
        if String(validating: bytes, as: UTF8.self) != nil { return nil }
        var line = 1
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): if scalar == "\n" { line += 1 }
            case .emptyInput: return nil
            case .error: return line
            }
        }
    }

    /// libxml2 error codes as XMLParser passes them on (the common ones).
    private static func describe(_ code: Int) -> String {
        switch code {
        case 4: return "document is empty or does not start with markup"
        case 5: return "premature end of document (truncated?)"
        case 9: return "invalid character"
        case 23: return "unescaped '&' or malformed entity reference"
        case 26: return "undeclared entity"
        case 38, 39, 40, 41: return "malformed attribute"
        case 64, 65: return "malformed XML declaration"
        case 73, 74, 76: return "mismatched or unclosed tag"
        case 5_000...: return "error \(code)"
        default: return "parser error \(code)"
        }
    }
}

/// Serialises parsing across threads (libxml2 keeps some global state).
private let xmlParserLock = NSLock()
