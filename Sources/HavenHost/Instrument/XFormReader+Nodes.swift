import Foundation

/// Bind attributes the reader understands; any other one is refused (a typo
/// in `bind::haven:sensitive` must not silently turn protection off).
private let knownBindAttributes: Set<XName> = [
    XName(ns: "", local: "nodeset"), XName(ns: "", local: "type"), XName(ns: "", local: "relevant"),
    XName(ns: "", local: "constraint"), XName(ns: "", local: "required"), XName(ns: "", local: "readonly"),
    XName(ns: "", local: "calculate"), XName(ns: XNS.jr, local: "constraintMsg"),
    XName(ns: XNS.jr, local: "requiredMsg"), XName(ns: XNS.jr, local: "preload"),
    XName(ns: XNS.jr, local: "preloadParams"), XName(ns: XNS.haven, local: "sensitive"),
    XName(ns: XNS.haven, local: "not-private"),
]

extension XFormAssembler {
    /// Walks the primary instance in document order and builds the nodes;
    /// then reports binds and controls that matched no node.
    mutating func assemble() -> FormModel {
        visitChildren(of: primaryRoot, parent: nil, components: [])
        for path in bindOrder where !usedBinds.contains(path) {
            let bind = binds[path]!
            errors.append(FormError(question: path, construct: "<bind>", line: bind.line,
                                    message: "the bind's nodeset is not a node of the primary instance"))
        }
        for path in controlOrder where !usedControls.contains(path) {
            let control = controls[path]!
            errors.append(FormError(question: path, construct: "<\(control.element.qname)>", line: control.element.line,
                                    message: "the body control's ref is not a node of the primary instance"))
        }
        for (id, instance) in secondary.sorted(by: { $0.value.line < $1.value.line })
        where instance.src != nil && !reportedExternal.contains(id) {
            errors.append(FormError(question: nil, construct: "external instance '\(id)'", line: instance.line,
                                    message: "external data files (src=\"\(instance.src!)\", from pulldata(), "
                                        + "search() or select_one_from_file) are not supported"))
        }
        return FormModel(formID: formID, version: version, title: title, rootName: rootName, languages: languages,
                         defaultLanguage: defaultLanguage, nodes: nodes, choiceLists: choiceLists)
    }

    private func path(_ components: [String]) -> String {
        "/" + ([rootName] + components).joined(separator: "/")
    }

    private mutating func visitChildren(of element: XElement, parent: Int?, components: [String]) {
        var seen: [String: Bool] = [:]  // element name → is a repeat
        for child in element.elements {
            let childComponents = components + [child.qname]
            let childPath = path(childComponents)
            let isRepeat = controls[childPath]?.kind == .repeat || child.attribute("template", ns: XNS.jr) != nil
            if let seenRepeat = seen[child.qname] {
                if !seenRepeat {
                    errors.append(FormError(question: childPath, construct: "<\(child.qname)>", line: child.line,
                                            message: "two instance nodes with the same path"))
                }
                continue  // later copies of a repeat instance: the first (template) describes them
            }
            seen[child.qname] = isRepeat
            do {
                let index = try buildNode(child, parent: parent, components: childComponents)
                if nodes[index].kind == .group || nodes[index].kind == .repeat {
                    visitChildren(of: child, parent: index, components: childComponents)
                }
            } catch {
                errors.append(error)
                markUsed(child, components: childComponents)
            }
        }
    }

    /// A refused node hides its subtree: its binds and controls are not
    /// reported again as orphans.
    private mutating func markUsed(_ element: XElement, components: [String]) {
        let p = path(components)
        usedBinds.insert(p)
        usedControls.insert(p)
        for child in element.elements { markUsed(child, components: components + [child.qname]) }
    }

    // MARK: - One node

    private mutating func buildNode(_ element: XElement, parent: Int?, components: [String]) throws(FormError) -> Int {
        let q = path(components)
        let bind = binds[q]
        let control = controls[q]
        if bind != nil { usedBinds.insert(q) }
        if control != nil { usedControls.insert(q) }
        let hasChildren = !element.elements.isEmpty
        let isTemplate = element.attribute("template", ns: XNS.jr) != nil

        // What kind of node, and the line that stands for it.
        var kind: FormNode.Kind
        var line: Int
        if let control {
            line = control.element.line
            switch control.kind {
            case .group: kind = .group
            case .repeat: kind = .repeat
            case .input, .select1, .select:
                kind = try questionKind(control, bind: bind, element: element, q: q)
                if hasChildren {
                    throw FormError(question: q, construct: "<\(control.element.qname)>", line: line,
                                    message: "a question's instance node has child elements")
                }
            case .other:
                throw Self.unsupportedControl(control.element, q: q)
            }
            if let preload = bind?.value("preload", ns: XNS.jr) {
                throw preloadError(preload, bind: bind!, q: q, onControl: true)
            }
        } else if isTemplate {
            throw FormError(question: q, construct: "jr:template", line: element.line,
                            message: "a repeat template in the instance without a <repeat> in the body")
        } else if hasChildren {
            kind = .group  // a group with no body control (meta)
            line = element.line
        } else if let bind {
            line = bind.line
            if let preload = bind.value("preload", ns: XNS.jr) {
                guard preload == "uid" else { throw preloadError(preload, bind: bind, q: q, onControl: false) }
                kind = .preloadUID
            } else if bind.value("calculate") != nil {
                kind = .calculate
            } else {
                throw FormError(question: q, construct: "question without a control", line: line,
                                message: "the node has neither a body control nor a calculation "
                                    + "(XLSForm type 'hidden'?); it could never get a value")
            }
        } else {
            throw FormError(question: q, construct: "<\(element.qname)>", line: element.line,
                            message: "an instance node with neither a bind nor a body control")
        }
        if isTemplate && kind != .repeat {
            throw FormError(question: q, construct: "jr:template", line: element.line,
                            message: "jr:template on a node that is not a repeat")
        }
        for attribute in element.attributes where !(attribute.name == XName(ns: XNS.jr, local: "template")) {
            throw FormError(question: q, construct: "instance attribute '\(attribute.qname)'", line: element.line,
                            message: "attributes on instance nodes are not supported")
        }

        // The bind: known attributes only, expressions in the subset.
        var node = FormNode(kind: kind, name: element.qname, parent: parent, path: components, line: line)
        if let bind {
            for attribute in bind.element.attributes where !knownBindAttributes.contains(attribute.name) {
                throw FormError(question: q, construct: "bind attribute '\(attribute.qname)'", line: bind.line,
                                message: "not supported (known: type, relevant, constraint, required, readonly, "
                                    + "calculate, jr:constraintMsg, jr:requiredMsg, jr:preload=\"uid\", "
                                    + "haven:sensitive, haven:not-private)")
            }
            node.relevant = try expression(bind, "relevant", q: q)
            node.constraint = try expression(bind, "constraint", q: q)
            node.required = try expression(bind, "required", q: q)
            node.readonly = try expression(bind, "readonly", q: q)
            node.calculate = try expression(bind, "calculate", q: q)
            node.constraintMessage = try message(bind, "constraintMsg", q: q)
            node.requiredMessage = try message(bind, "requiredMsg", q: q)
            (node.sensitive, node.notPrivate) = try sensitivity(bind, kind: kind, q: q)
        }
        if kind != .group && kind != .repeat && kind != .preloadUID {
            let text = element.text
            node.defaultValue = text.isEmpty ? nil : text
        }

        // The body control: attributes, appearance, label, hint, choices.
        if let control {
            try checkControlAttributes(control, q: q)
            let holder = control.wrapper ?? control.element
            try checkChildren(of: holder, control: control, q: q)
            if control.wrapper != nil { try checkChildren(of: control.element, control: control, q: q) }
            node.label = try text(holder.first("label") ?? control.element.first("label"), q: q)
            node.hint = try text(holder.first("hint") ?? control.element.first("hint"), q: q)
            if kind == .selectOne || kind == .selectMultiple {
                (node.choiceList, node.choiceFilter) = try choices(control.element, q: q)
            }
            if kind == .repeat {
                try repeatCount(control.element, q: q, into: &node)
            }
            // A readonly string input with nothing to show but its label is a
            // note; with a default or a calculation it is a readonly text
            // question whose value is recorded (as ODK does).
            if kind == .text, node.readonly == "true()", node.defaultValue == nil, node.calculate == nil {
                node.kind = .note
            }
        }

        nodes.append(node)
        nodeIndex[q] = nodes.count - 1
        return nodes.count - 1
    }

    private func questionKind(_ control: XFormControl, bind: XFormBind?, element: XElement, q: String)
        throws(FormError) -> FormNode.Kind
    {
        var type = bind?.value("type") ?? "string"
        for prefix in ["xsd:", "xs:"] where type.hasPrefix(prefix) { type = String(type.dropFirst(prefix.count)) }
        let line = control.element.line
        switch (control.kind, type) {
        case (.input, "string"): return .text
        case (.input, "int"), (.input, "integer"): return .integer
        case (.input, "decimal"): return .decimal
        case (.input, "date"): return .date
        case (.select1, "string"), (.select1, "select1"): return .selectOne
        case (.select, "string"), (.select, "select"): return .selectMultiple
        case (.input, _):
            let xlsform: String
            switch type {
            case "dateTime": xlsform = "datetime"
            default: xlsform = type
            }
            throw FormError(question: q, construct: "question type '\(xlsform)'", line: line,
                            message: "the device supports text, integer, decimal, date, select_one, "
                                + "select_multiple, note and calculate questions")
        default:
            throw FormError(question: q, construct: "type '\(type)' on <\(control.element.qname)>",
                            line: bind?.line ?? line, message: "a select must have type string")
        }
    }

    private static func unsupportedControl(_ element: XElement, q: String) -> FormError {
        let xlsform: String
        switch element.name.local {
        case "trigger": xlsform = "acknowledge"
        case "range": xlsform = "range"
        case "rank": xlsform = "rank"
        case "upload":
            let media = element.attribute("mediatype") ?? ""
            if media.hasPrefix("image/") {
                xlsform = "image"
            } else if media.hasPrefix("audio/") {
                xlsform = "audio"
            } else if media.hasPrefix("video/") {
                xlsform = "video"
            } else {
                xlsform = "file"
            }
        default:
            return FormError(question: q, construct: "<\(element.qname)>", line: element.line,
                             message: "this body control is not supported")
        }
        return FormError(question: q, construct: "question type '\(xlsform)'", line: element.line,
                         message: "the device supports text, integer, decimal, date, select_one, "
                             + "select_multiple, note and calculate questions")
    }

    private func preloadError(_ preload: String, bind: XFormBind, q: String, onControl: Bool) -> FormError {
        let params = bind.value("preloadParams", ns: XNS.jr)
        var construct = "jr:preload=\"\(preload)\""
        if let params { construct += " jr:preloadParams=\"\(params)\"" }
        if preload == "uid" && onControl {
            return FormError(question: q, construct: construct, line: bind.line,
                             message: "the instance ID preload belongs on a node without a body control")
        }
        let metadata: String
        switch (preload, params) {
        case ("timestamp", "start"?): metadata = "start"
        case ("timestamp", "end"?): metadata = "end"
        case ("date", "today"?): metadata = "today"
        case ("property", let p?): metadata = p
        default: metadata = preload
        }
        return FormError(question: q, construct: construct, line: bind.line,
                         message: "metadata '\(metadata)' is not supported: the device records only the "
                             + "instance ID (no timestamps, device or user identifiers); remove the row")
    }

    private func expression(_ bind: XFormBind, _ attribute: String, q: String) throws(FormError) -> String? {
        guard let source = bind.value(attribute) else { return nil }
        if let problem = XPathScan.check(source, context: .bind) {
            throw FormError(question: q, construct: problem.construct, line: bind.line,
                            message: "\(attribute) \"\(source)\": \(problem.message)")
        }
        return source
    }

    private func message(_ bind: XFormBind, _ attribute: String, q: String) throws(FormError) -> LocalizedText? {
        guard let value = bind.value(attribute, ns: XNS.jr) else { return nil }
        if let id = Self.itextID(value) {
            return try localized(id, q: q, line: bind.line)
        }
        return .plain(value, languageCount: languages.count)
    }

    private func sensitivity(_ bind: XFormBind, kind: FormNode.Kind, q: String)
        throws(FormError) -> (Bool, FormNode.NotPrivateAction)
    {
        var sensitive = false
        if let raw = bind.value("sensitive", ns: XNS.haven) {
            switch raw.trimmingCharacters(in: .whitespaces) {
            case "true()", "true", "yes": sensitive = true
            case "false()", "false", "no", "": sensitive = false
            default:
                throw FormError(question: q, construct: "haven:sensitive=\"\(raw)\"", line: bind.line,
                                message: "must be true() or false(); a section's sensitivity cannot depend on answers")
            }
            if sensitive && kind != .group && kind != .repeat {
                throw FormError(question: q, construct: "haven:sensitive", line: bind.line,
                                message: "only a group or repeat can be a sensitive section; put the question "
                                    + "in a begin_group with bind::haven:sensitive")
            }
        }
        var action = FormNode.NotPrivateAction.skip
        if let raw = bind.value("not-private", ns: XNS.haven) {
            switch raw.trimmingCharacters(in: .whitespaces) {
            case "skip": action = .skip
            case "postpone": action = .postpone
            default:
                throw FormError(question: q, construct: "haven:not-private=\"\(raw)\"", line: bind.line,
                                message: "must be skip or postpone")
            }
            if !sensitive {
                throw FormError(question: q, construct: "haven:not-private", line: bind.line,
                                message: "applies only to a group with haven:sensitive=\"true()\"")
            }
        }
        return (sensitive, action)
    }

    private func checkControlAttributes(_ control: XFormControl, q: String) throws(FormError) {
        var allowed: Set<XName> = [XName(ns: "", local: "appearance")]
        switch control.kind {
        case .repeat:
            allowed.formUnion([XName(ns: "", local: "nodeset"), XName(ns: XNS.jr, local: "count"),
                               XName(ns: XNS.jr, local: "noAddRemove")])
        default:
            allowed.insert(XName(ns: "", local: "ref"))
        }
        var elements = [control.element]
        if let wrapper = control.wrapper { elements.insert(wrapper, at: 0) }
        for element in elements {
            let allowedHere = element === control.wrapper ? [XName(ns: "", local: "ref"), XName(ns: "", local: "appearance")]
                : allowed
            for attribute in element.attributes where !allowedHere.contains(attribute.name) {
                throw FormError(question: q, construct: "attribute '\(attribute.qname)' on <\(element.qname)>",
                                line: element.line, message: "not supported")
            }
            if let appearance = element.attribute("appearance") {
                for token in appearance.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
                where !XFormReader.isDisplayAppearance(String(token)) {
                    throw FormError(question: q, construct: "appearance '\(token)'", line: element.line,
                                    message: "only display appearances are accepted (and ignored): "
                                        + "\(XFormReader.displayAppearances.sorted().joined(separator: ", ")), "
                                        + "columns-N, wN")
                }
            }
        }
    }

    /// Children of a control other than its label, hint and choices (and,
    /// for groups and repeats, the controls inside them) are refused.
    private func checkChildren(of element: XElement, control: XFormControl, q: String) throws(FormError) {
        var counts: [String: Int] = [:]
        for child in element.elements {
            let local = child.name.local
            let isXForms = child.name.ns == XNS.xforms
            if isXForms && (local == "label" || local == "hint") {
                counts[local, default: 0] += 1
                if counts[local]! > 1 {
                    throw FormError(question: q, construct: "<\(child.qname)>", line: child.line,
                                    message: "more than one <\(local)>")
                }
                continue
            }
            switch control.kind {
            case .group, .repeat:
                continue  // inner controls are collected and checked as nodes of their own
            case .select1 where isXForms && (local == "item" || local == "itemset"),
                 .select where isXForms && (local == "item" || local == "itemset"):
                continue
            default:
                throw FormError(question: q, construct: "<\(child.qname)> in <\(element.qname)>", line: child.line,
                                message: local == "help" || local == "alert" ? "not supported"
                                    : "not supported inside a question")
            }
        }
    }

    private func repeatCount(_ repeatElement: XElement, q: String, into node: inout FormNode) throws(FormError) {
        let line = repeatElement.line
        if let count = repeatElement.attribute("count", ns: XNS.jr) {
            if let problem = XPathScan.check(count, context: .repeatCount) {
                throw FormError(question: q, construct: problem.construct, line: line,
                                message: "jr:count \"\(count)\": \(problem.message)")
            }
            node.repeatCount = count
            node.repeatLimit = constantCount(count, repeatPath: q)
        } else if let fixed = repeatElement.attribute("noAddRemove", ns: XNS.jr),
                  fixed.trimmingCharacters(in: .whitespaces) != "false()" {
            throw FormError(question: q, construct: "jr:noAddRemove", line: line,
                            message: "a fixed set of repeat instances without jr:count is not supported; "
                                + "use repeat_count")
        }
    }

    /// The repeat's own limit when its count is a constant: a literal, or
    /// (pyxform's way of writing repeat_count = 3) a calculate whose
    /// calculation is a literal.
    private func constantCount(_ count: String, repeatPath: String) -> Int? {
        let trimmed = count.trimmingCharacters(in: .whitespaces)
        if let n = Int(trimmed) { return (1...65_535).contains(n) ? n : nil }
        guard !trimmed.isEmpty, trimmed.allSatisfy({ $0.isLetter || $0.isNumber || "/._-:".contains($0) }) else {
            return nil
        }
        let target = absolutePath(trimmed, base: repeatPath)
        guard let index = nodeIndex[target], nodes[index].kind == .calculate,
              let source = nodes[index].calculate?.trimmingCharacters(in: .whitespaces),
              let n = Int(source), (1...65_535).contains(n) else { return nil }
        return n
    }
}
