import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

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
        // swift-corelibs-foundation's XMLParser is not safe to use on two
        // threads at once (its libxml2 glue crashed under parallel tests),
        // so everything from creating the parser to reading its errors is
        // serialised.
        xmlParserLock.lock()
        defer { xmlParserLock.unlock() }
        let builder = TreeBuilder()
        let parser = XMLParser(data: data)
        parser.delegate = builder
        parser.shouldProcessNamespaces = false
        parser.shouldReportNamespacePrefixes = false
        parser.shouldResolveExternalEntities = false
        let finished = parser.parse()
        if let problem = builder.problem {
            throw problem
        }
        // XMLParser on Linux can return true and still record an error (a
        // truncated document), so look at parserError whatever parse() says.
        if let error = parser.parserError ?? (finished ? nil : builder.reportedError) {
            let code = (error as NSError).code
            throw FormError(question: nil, construct: "XML", line: max(1, parser.lineNumber),
                            message: "\(sourceName) is not well-formed XML (\(describe(code)))")
        }
        if !finished {
            throw FormError(question: nil, construct: "XML", line: max(1, parser.lineNumber),
                            message: "\(sourceName) could not be parsed as XML")
        }
        guard let root = builder.root, builder.stack.isEmpty else {
            throw FormError(question: nil, construct: "XML", line: max(1, parser.lineNumber),
                            message: "\(sourceName) has no complete root element; expected an XForm (XML)")
        }
        return root
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

private final class TreeBuilder: NSObject, XMLParserDelegate {
    var root: XElement?
    var stack: [XElement] = []
    /// Prefix → URI maps, one per open element ("" is the default namespace).
    var scopes: [[String: String]] = [["xml": "http://www.w3.org/XML/1998/namespace"]]
    var problem: FormError?
    var reportedError: Error?

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        guard problem == nil else { return }
        let line = max(1, parser.lineNumber)
        if stack.count >= XMLTree.maximumDepth {
            fail(parser, FormError(question: nil, construct: "XML", line: line,
                                   message: "elements nested deeper than \(XMLTree.maximumDepth) levels"))
            return
        }
        if root != nil && stack.isEmpty {
            fail(parser, FormError(question: nil, construct: "XML", line: line, message: "more than one root element"))
            return
        }
        var scope = scopes.last ?? [:]
        for (key, value) in attributeDict {
            if key == "xmlns" {
                scope[""] = value
            } else if key.hasPrefix("xmlns:") {
                scope[String(key.dropFirst(6))] = value
            }
        }
        func resolve(_ qname: String, isAttribute: Bool) -> XName? {
            guard let colon = qname.firstIndex(of: ":") else {
                return XName(ns: isAttribute ? "" : (scope[""] ?? ""), local: qname)
            }
            let prefix = String(qname[..<colon])
            guard let uri = scope[prefix] else { return nil }
            return XName(ns: uri, local: String(qname[qname.index(after: colon)...]))
        }
        guard let name = resolve(elementName, isAttribute: false) else {
            fail(parser, FormError(question: nil, construct: "<\(elementName)>", line: line,
                                   message: "undeclared namespace prefix"))
            return
        }
        var attributes: [(qname: String, name: XName, value: String)] = []
        for (key, value) in attributeDict.sorted(by: { $0.key < $1.key }) {
            if key == "xmlns" || key.hasPrefix("xmlns:") { continue }
            guard let attributeName = resolve(key, isAttribute: true) else {
                fail(parser, FormError(question: nil, construct: "attribute '\(key)'", line: line,
                                       message: "undeclared namespace prefix on <\(elementName)>"))
                return
            }
            attributes.append((key, attributeName, value))
        }
        let element = XElement(qname: elementName, name: name, attributes: attributes, line: line)
        if let parent = stack.last {
            parent.children.append(.element(element))
        } else {
            root = element
        }
        stack.append(element)
        scopes.append(scope)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?) {
        guard problem == nil else { return }
        stack.removeLast()
        scopes.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        append(string)
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        append(String(decoding: CDATABlock, as: UTF8.self))
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        reportedError = reportedError ?? parseError
    }

    private func append(_ string: String) {
        guard problem == nil, let element = stack.last else { return }
        if case .text(let previous)? = element.children.last {
            element.children[element.children.count - 1] = .text(previous + string)
        } else {
            element.children.append(.text(string))
        }
    }

    private func fail(_ parser: XMLParser, _ error: FormError) {
        problem = problem ?? error
        parser.abortParsing()
    }
}

/// Serialises `XMLParser.parse()` across threads (see `XMLTree.parse`).
private let xmlParserLock = NSLock()
