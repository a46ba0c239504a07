import Foundation

/// Reads an ODK XForm, as pyxform 4.x writes it from an XLSForm, into a
/// `FormModel`. Everything the device cannot do is refused with a
/// `FormError` that names the question, the construct and the line — never
/// silently dropped. `Docs/xform-subset.md` lists what is accepted.
///
/// Line numbers are the lines where start tags end, so they are useful only
/// when the XForm has one element per line: convert with
/// `xls2xform FORM.xlsx FORM.xml --pretty_print` (pyxform's default output is
/// one line, where every line number is 1).
public enum XFormReader {
    /// The XPath functions the device's expression VM evaluates
    /// (`Docs/instrument-format.md` §3), plus `not`, `count` (of a repeat),
    /// `position` (`position(..)`), `once` and `jr:choice-name`, which have
    /// their own opcodes. `current()` is accepted only inside choice filters.
    public static let supportedFunctions: Set<String> = [
        "if", "selected", "count-selected", "string-length", "concat", "substr", "regex", "coalesce",
        "int", "number", "string", "round", "today", "random", "boolean", "true", "false",
        "not", "count", "position", "once", "jr:choice-name",
    ]

    /// Appearances that only change how a question is laid out; they are
    /// accepted and ignored (the device has one layout). Also accepted:
    /// `columns-N` and `wN`. Every other appearance is refused, because it
    /// changes what is recorded (`month-year`, calendars), needs hardware or
    /// files (`map`, `signature`, `search(…)`, `ex:…`), or is unknown.
    public static let displayAppearances: Set<String> = [
        "field-list", "table-list", "minimal", "horizontal", "horizontal-compact", "compact",
        "quick", "quickcompact", "likert", "label", "list-nolabel", "list", "columns", "columns-pack",
        "multiline", "numbers", "thousands-sep", "no-calendar", "autocomplete",
    ]

    /// The form as a `FormModel`, or the first problem `diagnose` would list.
    public static func read(xml: Data, sourceName: String) throws(FormError) -> FormModel {
        var reader = try XFormAssembler(xml: xml, sourceName: sourceName)
        let model = reader.assemble()
        if let first = reader.errors.first { throw first }
        return model
    }

    /// Every problem `read` would refuse the form for (empty when the form is
    /// accepted), so a research team can fix an XLSForm in one pass: first
    /// structural ones met reading the model and body (`<setvalue>`,
    /// duplicate binds …), then nodes' in instance order (a refused group
    /// hides those inside it), then binds and controls matching no node and
    /// unused external instances.
    public static func diagnose(xml: Data, sourceName: String) -> [FormError] {
        do {
            var reader = try XFormAssembler(xml: xml, sourceName: sourceName)
            _ = reader.assemble()
            return reader.errors
        } catch {
            return [error]
        }
    }

    static func isDisplayAppearance(_ token: String) -> Bool {
        if displayAppearances.contains(token) { return true }
        for prefix in ["columns-", "w"] where token.hasPrefix(prefix) {
            let digits = token.dropFirst(prefix.count)
            if !digits.isEmpty && digits.allSatisfy({ $0.isASCII && $0.isNumber }) { return true }
        }
        return false
    }
}

/// One `<bind>`.
struct XFormBind {
    let element: XElement
    let nodeset: String

    func value(_ local: String, ns: String = "") -> String? { element.attribute(local, ns: ns) }
    var line: Int { element.line }
}

/// One body control, keyed by the absolute path of the node it is bound to.
struct XFormControl {
    enum Kind { case input, select1, select, group, `repeat`, other }
    let kind: Kind
    /// `<input>`, `<select1>`, `<group>`, `<repeat>` … (for a repeat, the `<repeat>`).
    let element: XElement
    /// For a repeat that pyxform wrapped in `<group ref=same>` (to carry the
    /// label): that group.
    let wrapper: XElement?
}

/// An itext `<text>` in one language: its default-form `<value>` and any
/// other forms (`image`, `audio`, `guidance` …).
struct XFormText {
    var value: XElement?
    var otherForms: [(form: String, line: Int)] = []
}

/// The work of one `XFormReader.read`: the document's parts, then the nodes.
struct XFormAssembler {
    let sourceName: String
    /// Problems found so far, in document order.
    var errors: [FormError] = []

    var title = ""
    var formID = ""
    var version = ""
    var rootName = ""
    var primaryRoot: XElement
    var languages: [String] = ["default"]
    var defaultLanguage = 0
    /// `texts[language][id]`.
    var texts: [[String: XFormText]] = [[:]]
    /// Secondary instances by id: their root element, or nil with the line for external ones.
    var secondary: [String: (root: XElement?, src: String?, line: Int)] = [:]
    var reportedExternal: Set<String> = []
    var binds: [String: XFormBind] = [:]
    var bindOrder: [String] = []
    var usedBinds: Set<String> = []
    var controls: [String: XFormControl] = [:]
    var controlOrder: [String] = []
    var usedControls: Set<String> = []

    var nodes: [FormNode] = []
    var nodeIndex: [String: Int] = [:]
    var choiceLists: [ChoiceList] = []
    var choiceListIndex: [String: Int] = [:]

    init(xml: Data, sourceName: String) throws(FormError) {
        self.sourceName = sourceName
        let html = try XMLTree.parse(xml, sourceName: sourceName)
        guard html.is("html", ns: XNS.xhtml) else {
            throw FormError(question: nil, construct: "<\(html.qname)>", line: html.line,
                            message: "\(sourceName) is not an XForm: the root element must be <h:html> "
                                + "in the XHTML namespace")
        }
        guard let head = html.first("head", ns: XNS.xhtml) else {
            throw FormError(question: nil, construct: "<h:head>", line: html.line,
                            message: "\(sourceName) is not an XForm: no <h:head>")
        }
        guard let model = head.first("model") else {
            throw FormError(question: nil, construct: "<model>", line: head.line,
                            message: "\(sourceName) is not an XForm: no <model> in <h:head>")
        }
        guard let body = html.first("body", ns: XNS.xhtml) else {
            throw FormError(question: nil, construct: "<h:body>", line: html.line,
                            message: "\(sourceName) is not an XForm: no <h:body>")
        }
        title = head.first("title", ns: XNS.xhtml)?.text.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""

        guard let primary = model.first("instance") else {
            throw FormError(question: nil, construct: "<instance>", line: model.line,
                            message: "the model has no primary <instance>")
        }
        let roots = primary.elements
        guard roots.count == 1, let root = roots.first else {
            throw FormError(question: nil, construct: "<instance>", line: primary.line,
                            message: "the primary instance must hold exactly one root element, found \(roots.count)")
        }
        primaryRoot = root
        rootName = root.qname
        guard let id = root.attribute("id"), !id.isEmpty else {
            throw FormError(question: nil, construct: "<\(root.qname)> id", line: root.line,
                            message: "the primary instance root has no id attribute (XLSForm settings form_id)")
        }
        formID = id
        version = root.attribute("version") ?? ""
        for attribute in root.attributes where !(attribute.name.ns.isEmpty
            && (attribute.name.local == "id" || attribute.name.local == "version")) {
            errors.append(FormError(question: "/" + rootName, construct: "instance attribute '\(attribute.qname)'",
                                    line: root.line, message: "only id and version are supported on the instance root"))
        }

        var sawItext = false
        for child in model.elements {
            if child === primary { continue }
            if child.is("itext") {
                if sawItext {
                    errors.append(FormError(question: nil, construct: "<itext>", line: child.line,
                                            message: "the model has more than one <itext>"))
                    continue
                }
                sawItext = true
                try readItext(child)
            } else if child.is("instance") {
                readSecondaryInstance(child)
            } else if child.is("bind") {
                readBind(child)
            } else {
                errors.append(Self.unsupportedModelElement(child))
            }
        }
        collectControls(in: body, containerPath: nil)
    }

    // MARK: - Model parts

    private mutating func readItext(_ itext: XElement) throws(FormError) {
        let translations = itext.elements("translation")
        if translations.isEmpty { return }
        languages = []
        texts = []
        var marked: Int?
        for translation in translations {
            guard let lang = translation.attribute("lang"), !lang.isEmpty else {
                throw FormError(question: nil, construct: "<translation>", line: translation.line,
                                message: "a translation has no lang attribute")
            }
            if languages.contains(lang) {
                throw FormError(question: nil, construct: "<translation lang=\"\(lang)\">", line: translation.line,
                                message: "language '\(lang)' appears twice in <itext>")
            }
            if marked == nil, let flag = translation.attribute("default"), flag == "true()" || flag == "true" {
                marked = languages.count
            }
            languages.append(lang)
            var table: [String: XFormText] = [:]
            for text in translation.elements("text") {
                guard let id = text.attribute("id") else {
                    errors.append(FormError(question: nil, construct: "<text>", line: text.line,
                                            message: "an itext <text> has no id"))
                    continue
                }
                if table[id] != nil {
                    errors.append(FormError(question: nil, construct: "<text id=\"\(id)\">", line: text.line,
                                            message: "itext id '\(id)' appears twice in language '\(lang)'"))
                    continue
                }
                var entry = XFormText()
                for value in text.elements("value") {
                    let form = value.attribute("form") ?? ""
                    switch form {
                    case "":
                        if entry.value != nil {
                            errors.append(FormError(question: nil, construct: "<text id=\"\(id)\">", line: value.line,
                                                    message: "two default <value>s for itext id '\(id)'"))
                        }
                        entry.value = entry.value ?? value
                    case "markdown":
                        // Older pyxform repeats the label as a markdown form;
                        // the default form carries the same text.
                        break
                    default:
                        entry.otherForms.append((form, value.line))
                    }
                }
                table[id] = entry
            }
            texts.append(table)
        }
        defaultLanguage = marked ?? 0
    }

    private mutating func readSecondaryInstance(_ instance: XElement) {
        guard let id = instance.attribute("id"), !id.isEmpty else {
            errors.append(FormError(question: nil, construct: "<instance>", line: instance.line,
                                    message: "a secondary instance has no id"))
            return
        }
        if secondary[id] != nil {
            errors.append(FormError(question: nil, construct: "instance('\(id)')", line: instance.line,
                                    message: "two secondary instances with id '\(id)'"))
            return
        }
        if let src = instance.attribute("src") {
            secondary[id] = (nil, src, instance.line)
        } else {
            secondary[id] = (instance.elements.first, nil, instance.line)
        }
    }

    private mutating func readBind(_ bind: XElement) {
        guard let nodeset = bind.attribute("nodeset")?.trimmingCharacters(in: .whitespaces), !nodeset.isEmpty else {
            errors.append(FormError(question: nil, construct: "<bind>", line: bind.line,
                                    message: "a <bind> has no nodeset"))
            return
        }
        if binds[nodeset] != nil {
            errors.append(FormError(question: nodeset, construct: "<bind>", line: bind.line,
                                    message: "a second <bind> for the same node"))
            return
        }
        binds[nodeset] = XFormBind(element: bind, nodeset: nodeset)
        bindOrder.append(nodeset)
    }

    private static func unsupportedModelElement(_ element: XElement) -> FormError {
        let question = element.attribute("ref") ?? element.attribute("nodeset")
        let message: String
        switch element.name.local {
        case "setvalue":
            message = "dynamic defaults and triggers (<setvalue>) are not supported; use a calculate, "
                + "or a literal default"
        case "submission":
            message = "submission settings (submission_url, public_key) are not used: Haven seals "
                + "every record to the research team's age keys from the device config; remove them"
        case "action", "setgeopoint", "recordaudio":
            message = "model actions are not supported"
        default:
            message = "not supported in the model"
        }
        return FormError(question: question, construct: "<\(element.qname)>", line: element.line, message: message)
    }

    // MARK: - Body

    /// Absolute path of `ref`, relative refs resolved against `base`.
    func absolutePath(_ ref: String, base: String?) -> String {
        let trimmed = ref.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("/") { return trimmed }
        var components = (base ?? "/" + rootName).split(separator: "/").map(String.init)
        for part in trimmed.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !components.isEmpty { components.removeLast() }
            default: components.append(String(part))
            }
        }
        return "/" + components.joined(separator: "/")
    }

    private mutating func register(_ path: String, _ control: XFormControl) {
        if controls[path] != nil {
            errors.append(FormError(question: path, construct: "<\(control.element.qname)>", line: control.element.line,
                                    message: "a second body control for the same node"))
            return
        }
        controls[path] = control
        controlOrder.append(path)
    }

    private mutating func collectControls(in container: XElement, containerPath: String?) {
        for child in container.elements {
            let local = child.name.local
            if child.name.ns == XNS.xforms && (local == "label" || local == "hint") && containerPath != nil {
                continue  // the container's own label, read with the container
            }
            if child.is("group") {
                guard let ref = child.attribute("ref") else {
                    errors.append(FormError(question: containerPath, construct: "<group> without ref", line: child.line,
                                            message: "body groups must be bound to an instance node"))
                    collectControls(in: child, containerPath: containerPath)
                    continue
                }
                let path = absolutePath(ref, base: containerPath)
                let inner = child.elements.filter { !($0.is("label") || $0.is("hint")) }
                if inner.count == 1, let only = inner.first, only.is("repeat"),
                   let nodeset = only.attribute("nodeset"), absolutePath(nodeset, base: containerPath) == path {
                    register(path, XFormControl(kind: .repeat, element: only, wrapper: child))
                    collectControls(in: only, containerPath: path)
                } else {
                    register(path, XFormControl(kind: .group, element: child, wrapper: nil))
                    collectControls(in: child, containerPath: path)
                }
            } else if child.is("repeat") {
                guard let nodeset = child.attribute("nodeset") else {
                    errors.append(FormError(question: containerPath, construct: "<repeat> without nodeset",
                                            line: child.line, message: "repeats must be bound to an instance node"))
                    continue
                }
                let path = absolutePath(nodeset, base: containerPath)
                register(path, XFormControl(kind: .repeat, element: child, wrapper: nil))
                collectControls(in: child, containerPath: path)
            } else if let ref = child.attribute("ref"),
                      child.name.ns == XNS.xforms || child.name.ns == XNS.odk,
                      !["setvalue", "action", "setgeopoint", "recordaudio"].contains(local) {
                let kind: XFormControl.Kind
                switch (child.name.ns, local) {
                case (XNS.xforms, "input"): kind = .input
                case (XNS.xforms, "select1"): kind = .select1
                case (XNS.xforms, "select"): kind = .select
                default: kind = .other
                }
                register(absolutePath(ref, base: containerPath), XFormControl(kind: kind, element: child, wrapper: nil))
            } else {
                var error = Self.unsupportedModelElement(child)
                if let ref = child.attribute("ref") { error.question = absolutePath(ref, base: containerPath) }
                if child.is("setvalue") || child.name.local == "action" {
                    // odk-new-repeat setvalues sit in the body; same story.
                } else {
                    error.message = "not supported in the form body"
                }
                errors.append(error)
            }
        }
    }
}
