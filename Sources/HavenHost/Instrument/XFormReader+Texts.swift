import Foundation

extension XFormAssembler {
    /// `jr:itext('id')` → `id`; nil when `ref` is not an itext reference.
    static func itextID(_ ref: String) -> String? {
        let trimmed = ref.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("jr:itext("), trimmed.hasSuffix(")") else { return nil }
        let inner = trimmed.dropFirst("jr:itext(".count).dropLast().trimmingCharacters(in: .whitespaces)
        guard inner.count >= 2, let quote = inner.first, quote == "'" || quote == "\"", inner.last == quote else {
            return nil
        }
        let id = String(inner.dropFirst().dropLast())
        return id.contains(quote) ? nil : id
    }

    /// A `<label>` / `<hint>`: an itext reference, or literal text with
    /// outputs (the same in every language). Nil for a missing or empty one.
    func text(_ element: XElement?, q: String) throws(FormError) -> LocalizedText? {
        guard let element else { return nil }
        if let ref = element.attribute("ref") {
            guard let id = Self.itextID(ref) else {
                throw FormError(question: q, construct: "<\(element.qname) ref=\"\(ref)\">", line: element.line,
                                message: "a label or hint ref must be jr:itext('…')")
            }
            return try localized(id, q: q, line: element.line)
        }
        for attribute in element.attributes {
            throw FormError(question: q, construct: "attribute '\(attribute.qname)' on <\(element.qname)>",
                            line: element.line, message: "not supported")
        }
        let segments = try self.segments(element, q: q)
        if segments.isEmpty { return nil }
        return LocalizedText(translations: Array(repeating: segments, count: languages.count))
    }

    /// The itext `id` in every language; a language without it takes the
    /// default language's text (or the first language that has one).
    func localized(_ id: String, q: String, line: Int) throws(FormError) -> LocalizedText {
        guard let fallback = texts[defaultLanguage][id] ?? texts.lazy.compactMap({ $0[id] }).first else {
            throw FormError(question: q, construct: "jr:itext('\(id)')", line: line,
                            message: "no text with this id in <itext>")
        }
        var translations: [[LocalizedText.Segment]] = []
        for language in texts.indices {
            let entry = texts[language][id] ?? fallback
            if let other = entry.otherForms.first {
                let construct = other.form == "guidance" ? "guidance_hint" : "media form '\(other.form)'"
                let message = other.form == "guidance"
                    ? "guidance hints are not supported; fold the text into the hint"
                    : "images, audio and video are not supported on the device; remove the media column"
                throw FormError(question: q, construct: construct, line: other.line, message: message)
            }
            translations.append(try entry.value.map { (value) throws(FormError) in try segments(value, q: q) } ?? [])
        }
        return LocalizedText(translations: translations)
    }

    /// Mixed content of a label or itext value: text and `<output value="…"/>`.
    func segments(_ element: XElement, q: String) throws(FormError) -> [LocalizedText.Segment] {
        var segments: [LocalizedText.Segment] = []
        for child in element.children {
            switch child {
            case .text(let string):
                if case .literal(let previous)? = segments.last {
                    segments[segments.count - 1] = .literal(previous + string)
                } else if !string.isEmpty {
                    segments.append(.literal(string))
                }
            case .element(let inner):
                guard inner.is("output"), let source = inner.attribute("value") ?? inner.attribute("ref") else {
                    throw FormError(question: q, construct: "<\(inner.qname)> in <\(element.qname)>", line: inner.line,
                                    message: "only text and <output value=\"…\"/> are supported in labels")
                }
                if let problem = XPathScan.check(source, context: .output) {
                    throw FormError(question: q, construct: problem.construct, line: inner.line,
                                    message: "output \"\(source)\": \(problem.message)")
                }
                segments.append(.output(source))
            }
        }
        return segments
    }

    // MARK: - Choices

    /// The choice list index and filter of a select: its `<itemset>` or its inline `<item>`s.
    mutating func choices(_ select: XElement, q: String) throws(FormError) -> (Int, String?) {
        let itemsets = select.elements("itemset")
        let items = select.elements("item")
        if itemsets.count > 1 || (!itemsets.isEmpty && !items.isEmpty) {
            throw FormError(question: q, construct: "<\(select.qname)>", line: select.line,
                            message: "a select needs one <itemset> or inline <item>s, not both")
        }
        if let itemset = itemsets.first {
            return try itemsetChoices(itemset, q: q)
        }
        guard !items.isEmpty else {
            throw FormError(question: q, construct: "<\(select.qname)>", line: select.line,
                            message: "a select without choices")
        }
        var list: [ChoiceList.Item] = []
        for item in items {
            for child in item.elements where !(child.is("label") || child.is("value")) {
                throw FormError(question: q, construct: "<\(child.qname)> in <item>", line: child.line,
                                message: "not supported")
            }
            guard let value = item.first("value")?.text.trimmingCharacters(in: .whitespacesAndNewlines),
                  !value.isEmpty else {
                throw FormError(question: q, construct: "<item>", line: item.line, message: "a choice without a value")
            }
            let label = try text(item.first("label"), q: q) ?? .plain("", languageCount: languages.count)
            list.append(ChoiceList.Item(value: value, label: label))
        }
        choiceLists.append(ChoiceList(instanceID: nil, extraColumns: [], items: list))
        return (choiceLists.count - 1, nil)
    }

    private mutating func itemsetChoices(_ itemset: XElement, q: String) throws(FormError) -> (Int, String?) {
        let line = itemset.line
        let nodeset = itemset.attribute("nodeset") ?? ""
        if nodeset.trimmingCharacters(in: .whitespaces).hasPrefix("randomize(") {
            throw FormError(question: q, construct: "function 'randomize'", line: line,
                            message: "randomized choice order (parameters randomize=true) is not supported; "
                                + "the study design would silently change")
        }
        guard let parsed = Self.parseItemsetNodeset(nodeset) else {
            throw FormError(question: q, construct: "itemset nodeset \"\(nodeset)\"", line: line,
                            message: "only instance('list')/root/item with an optional [filter] is supported")
        }
        for attribute in itemset.attributes where attribute.name != XName(ns: "", local: "nodeset") {
            throw FormError(question: q, construct: "attribute '\(attribute.qname)' on <itemset>", line: line,
                            message: "not supported")
        }
        for child in itemset.elements where !(child.is("value") || child.is("label")) {
            throw FormError(question: q, construct: "<\(child.qname)> in <itemset>", line: child.line,
                            message: "not supported")
        }
        guard let instance = secondary[parsed.instance] else {
            throw FormError(question: q, construct: "instance('\(parsed.instance)')", line: line,
                            message: "no secondary instance with this id")
        }
        if let src = instance.src {
            reportedExternal.insert(parsed.instance)
            throw FormError(question: q, construct: "external instance '\(parsed.instance)'", line: line,
                            message: "choices from a file (src=\"\(src)\", select_one_from_file) are not "
                                + "supported; put them in the choices sheet")
        }
        guard let valueRef = itemset.first("value")?.attribute("ref"), Self.isColumnName(valueRef) else {
            throw FormError(question: q, construct: "<itemset> value", line: line,
                            message: "the itemset needs <value ref=\"column\"/>")
        }
        guard let labelRef = itemset.first("label")?.attribute("ref") else {
            throw FormError(question: q, construct: "<itemset> label", line: line,
                            message: "the itemset needs <label ref=\"column\"/> or <label ref=\"jr:itext(column)\"/>")
        }
        let labelColumn: String
        let translated: Bool
        let trimmedLabel = labelRef.trimmingCharacters(in: .whitespaces)
        if trimmedLabel.hasPrefix("jr:itext("), trimmedLabel.hasSuffix(")") {
            labelColumn = String(trimmedLabel.dropFirst("jr:itext(".count).dropLast())
                .trimmingCharacters(in: .whitespaces)
            translated = true
        } else {
            labelColumn = trimmedLabel
            translated = false
        }
        guard Self.isColumnName(labelColumn) else {
            throw FormError(question: q, construct: "<itemset> label ref \"\(labelRef)\"", line: line,
                            message: "the itemset label must name a column, or jr:itext(column)")
        }
        var filter: String?
        if let predicate = parsed.filter {
            if let problem = XPathScan.check(predicate, context: .choiceFilter) {
                throw FormError(question: q, construct: problem.construct, line: line,
                                message: "choice_filter \"\(predicate)\": \(problem.message)")
            }
            filter = predicate
        }

        let key = "\(parsed.instance)\u{0}\(valueRef)\u{0}\(labelRef)\u{0}\(parsed.root)\u{0}\(parsed.item)"
        if let index = choiceListIndex[key] { return (index, filter) }

        guard let root = instance.root, root.qname == parsed.root else {
            throw FormError(question: q, construct: "instance('\(parsed.instance)')", line: instance.line,
                            message: "the secondary instance has no <\(parsed.root)> root")
        }
        let itemElements = root.elements.filter { $0.qname == parsed.item }
        var columns: [String] = []
        var rows: [[String: (value: String, line: Int)]] = []
        for item in itemElements {
            var row: [String: (value: String, line: Int)] = [:]
            for cell in item.elements {
                if !cell.elements.isEmpty {
                    throw FormError(question: q, construct: "instance('\(parsed.instance)')", line: cell.line,
                                    message: "choice columns must hold plain text")
                }
                if row[cell.qname] == nil, cell.qname != valueRef, cell.qname != labelColumn,
                   !columns.contains(cell.qname) {
                    columns.append(cell.qname)
                }
                row[cell.qname] = (cell.text, cell.line)
            }
            rows.append(row)
        }
        var list: [ChoiceList.Item] = []
        for (item, row) in zip(itemElements, rows) {
            guard let value = row[valueRef]?.value.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
                throw FormError(question: q, construct: "instance('\(parsed.instance)')", line: item.line,
                                message: "a choice without a value in column '\(valueRef)'")
            }
            let label: LocalizedText
            if translated {
                guard let id = row[labelColumn]?.value, !id.isEmpty else {
                    throw FormError(question: q, construct: "instance('\(parsed.instance)')", line: item.line,
                                    message: "choice '\(value)' has no '\(labelColumn)' text id")
                }
                label = try localized(id, q: q, line: row[labelColumn]!.line)
            } else {
                label = .plain(row[labelColumn]?.value ?? "", languageCount: languages.count)
            }
            list.append(ChoiceList.Item(value: value, label: label, extra: columns.map { row[$0]?.value ?? "" }))
        }
        choiceLists.append(ChoiceList(instanceID: parsed.instance, extraColumns: columns, items: list))
        choiceListIndex[key] = choiceLists.count - 1
        return (choiceLists.count - 1, filter)
    }

    /// `instance('id')/root/item[filter]` → its parts; nil for anything else.
    static func parseItemsetNodeset(_ nodeset: String)
        -> (instance: String, root: String, item: String, filter: String?)?
    {
        var rest = Substring(nodeset.trimmingCharacters(in: .whitespaces))
        guard rest.hasPrefix("instance(") else { return nil }
        rest = rest.dropFirst("instance(".count).drop(while: { $0 == " " })
        guard let quote = rest.first, quote == "'" || quote == "\"" else { return nil }
        rest = rest.dropFirst()
        guard let close = rest.firstIndex(of: quote) else { return nil }
        let id = String(rest[..<close])
        rest = rest[rest.index(after: close)...].drop(while: { $0 == " " })
        guard rest.hasPrefix(")") else { return nil }
        rest = rest.dropFirst()
        var filter: String?
        if let open = rest.firstIndex(of: "[") {
            guard rest.hasSuffix("]") else { return nil }
            filter = String(rest[rest.index(after: open)..<rest.index(before: rest.endIndex)])
            rest = rest[..<open]
        }
        let steps = rest.split(separator: "/", omittingEmptySubsequences: false)
        guard steps.count == 3, steps[0].isEmpty,
              isColumnName(String(steps[1])), isColumnName(String(steps[2])), !id.isEmpty else { return nil }
        return (id, String(steps[1]), String(steps[2]), filter)
    }

    static func isColumnName(_ name: String) -> Bool {
        guard let first = name.first, first.isLetter || first == "_" else { return false }
        return name.allSatisfy { $0.isLetter || $0.isNumber || "_-.".contains($0) }
    }
}
