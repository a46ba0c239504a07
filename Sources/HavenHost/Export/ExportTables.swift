// ExportTables: answer records of one form laid out as ODK-style tables and
// JSON documents (Docs/export-format.md).

import HavenCore

/// The rows of every table of one form, built record by record.
public struct ExportTables: Sendable {
    public struct Row: Sendable, Equatable {
        public var key: String
        public var parentKey: String?
        /// One entry per column of the table ("" when unanswered).
        public var values: [String]
    }

    public let schema: ExportSchema
    /// Parallel to `schema.tables`.
    public private(set) var rows: [[Row]]
    /// One JSON object per record, in the order added.
    public private(set) var jsonLines: [String] = []
    public private(set) var instanceIDs: Set<String> = []

    public init(schema: ExportSchema) {
        self.schema = schema
        rows = Array(repeating: [], count: schema.tables.count)
    }

    /// Adds one finished interview. A record of another form, a node out of
    /// range or a repeat path that does not match the instrument is refused
    /// (the record and the instrument disagree: exporting would mislabel
    /// answers). Returns false when the instance was already added.
    @discardableResult
    public mutating func add(_ record: AnswerRecord) throws(ExportError) -> Bool {
        guard record.formID == schema.formID, record.formVersion == schema.formVersion else {
            throw .formMismatch(record: "\(record.formID) version \(record.formVersion)",
                                instrument: "\(schema.formID) version \(schema.formVersion)")
        }
        guard !instanceIDs.contains(record.instanceID) else { return false }

        // Rows keyed by table and instance path, in first-seen order.
        var tableRows: [[String: Int]] = Array(repeating: [:], count: schema.tables.count)
        var newRows: [[Row]] = Array(repeating: [], count: schema.tables.count)
        newRows[0].append(Row(key: record.instanceID, parentKey: nil,
                              values: Array(repeating: "", count: schema.tables[0].columns.count)))
        tableRows[0][""] = 0
        let json = JSONNode.object([])
        var jsonRoot = json

        for answer in record.answers {
            let node = answer.node
            guard node >= 0, node < schema.nodeKinds.count, let table = schema.tableOfNode[node] else {
                throw .answerDoesNotFit(instance: record.instanceID, node: node)
            }
            let repeats = schema.enclosingRepeats(of: node)
            guard repeats.count == answer.instance.count else {
                throw .answerDoesNotFit(instance: record.instanceID, node: node)
            }
            // Make sure every enclosing repeat instance has its row.
            var parentKey = record.instanceID
            var keyPath = ""
            for (depth, rep) in repeats.enumerated() {
                guard let t = schema.table(ofRepeat: rep) else {
                    throw .answerDoesNotFit(instance: record.instanceID, node: node)
                }
                keyPath += "/" + segment(to: rep) + "[\(answer.instance[depth] + 1)]"
                if tableRows[t][keyPath] == nil {
                    tableRows[t][keyPath] = newRows[t].count
                    newRows[t].append(Row(key: record.instanceID + keyPath, parentKey: parentKey,
                                          values: Array(repeating: "", count: schema.tables[t].columns.count)))
                }
                parentKey = record.instanceID + keyPath
            }
            let rowIndex = tableRows[table][keyPath]!
            guard let column = schema.columnOfNode[node] else {
                throw .answerDoesNotFit(instance: record.instanceID, node: node)
            }
            newRows[table][rowIndex].values[column] = answer.value.exportText
            jsonRoot.insert(path: jsonPath(node: node, instance: answer.instance), value: answer.value.jsonText)
        }
        for t in rows.indices { rows[t] += newRows[t] }
        instanceIDs.insert(record.instanceID)
        jsonLines.append(jsonRoot.render(extra: [("__id", JSONText.quoted(record.instanceID)),
                                                ("__formID", JSONText.quoted(record.formID)),
                                                ("__formVersion", JSONText.quoted(record.formVersion))]))
        return true
    }

    /// CSV text of table `t`: header then rows (CRLF line ends, RFC 4180).
    public func csv(table t: Int, excelSafe: Bool = false) -> String {
        let table = schema.tables[t]
        var header = table.columns.map(\.name)
        if t != 0 { header.append("PARENT_KEY") }
        header.append("KEY")
        var out = CSVText.line(header)
        for row in rows[t] {
            var fields = row.values
            if t != 0 { fields.append(row.parentKey ?? "") }
            fields.append(row.key)
            out += CSVText.line(fields, excelSafe: excelSafe)
        }
        return out
    }

    /// Group names from the previous repeat (exclusive) down to `rep`,
    /// joined with `/`, as in ODK repeat keys.
    private func segment(to rep: Int) -> String {
        var names = [schema.nodeNames[rep]]
        var p = schema.nodeParents[rep]
        while let q = p, schema.nodeKinds[q] != .repeat {
            names.insert(schema.nodeNames[q], at: 0)
            p = schema.nodeParents[q]
        }
        return names.joined(separator: "/")
    }

    /// JSON path: group names as object keys, repeats as array indices.
    private func jsonPath(node: Int, instance: [Int]) -> [JSONNode.Step] {
        var chain: [Int] = [node]
        var p = schema.nodeParents[node]
        while let q = p { chain.insert(q, at: 0); p = schema.nodeParents[q] }
        var steps: [JSONNode.Step] = []
        var depth = 0
        for n in chain {
            if schema.nodeKinds[n] == .repeat {
                steps.append(.array(schema.nodeNames[n], instance[depth]))
                depth += 1
            } else {
                steps.append(.key(schema.nodeNames[n]))
            }
        }
        return steps
    }
}

/// Why an export could not be made.
public enum ExportError: Error, Equatable, Sendable, CustomStringConvertible {
    case formMismatch(record: String, instrument: String)
    case answerDoesNotFit(instance: String, node: Int)
    case noInstrument(form: String)

    public var description: String {
        switch self {
        case .formMismatch(let r, let i): "the record is of form \(r), the instrument is \(i)"
        case .answerDoesNotFit(let id, let n): "record \(id): answer for node \(n) does not fit the instrument (wrong instrument version?)"
        case .noInstrument(let f): "no instrument given for form \(f): pass it with --instrument or --config"
        }
    }
}
