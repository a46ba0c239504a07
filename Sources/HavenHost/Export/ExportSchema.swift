// ExportSchema: which tables and columns an instrument exports to, with
// ODK Central's naming (Docs/export-format.md).

import HavenCore

/// The tables of one form's export: the main table (one row per finished
/// interview) and one table per repeat (one row per instance), each with
/// its columns in the form's own order.
///
/// Column names follow ODK Central's CSV export so analysis scripts written
/// for ODK data keep working: the names of the enclosing groups and the
/// question, joined with `-`, starting below the nearest enclosing repeat
/// (`consent-agree`, `meta-instanceID`). A repeat gets its own table named
/// `<form id>-<repeat name>`, linked by `PARENT_KEY` → `KEY`.
public struct ExportSchema: Sendable {
    public struct Column: Sendable, Equatable {
        /// The value-holding node this column shows.
        public var node: Int
        public var name: String
        public var kind: NodeKind
    }

    public struct Table: Sendable, Equatable {
        /// `nil` for the main table, else the repeat node.
        public var repeatNode: Int?
        /// File stem: `<form id>` or `<form id>-<repeat name>`.
        public var name: String
        /// Node name path, for JSON nesting.
        public var repeatName: String?
        public var columns: [Column]
        /// The enclosing repeat's table (nil for the main table and
        /// top-level repeats' parent is the main table, index 0).
        public var parentTable: Int?
    }

    public let formID: String
    public let formVersion: String
    /// Table 0 is the main table.
    public let tables: [Table]
    /// For each node: the table its value belongs to (nil for containers
    /// and notes).
    public let tableOfNode: [Int?]
    /// For each node: its name (UTF-8 decoded).
    public let nodeNames: [String]
    public let nodeKinds: [NodeKind]
    public let nodeParents: [Int?]
    /// For each value-holding node: its column in its table.
    public let columnOfNode: [Int?]
    /// For each repeat node: its table.
    public let tableOfRepeatNode: [Int?]

    public init(instrument: Instrument) {
        func text(_ raw: UnsafeRawBufferPointer) -> String { String(decoding: raw, as: UTF8.self) }
        formID = text(instrument.string(instrument.formID))
        formVersion = text(instrument.string(instrument.formVersion))
        let nodes = instrument.nodes
        nodeNames = nodes.map { text(instrument.string($0.name)) }
        nodeKinds = nodes.map(\.kind)
        nodeParents = nodes.map { $0.hasParent ? Int($0.parent) : nil }

        var tables = [Table(repeatNode: nil, name: formID, repeatName: nil, columns: [], parentTable: nil)]
        var tableOfRepeatNode = [Int?](repeating: nil, count: nodes.count)
        var columnOfNode = [Int?](repeating: nil, count: nodes.count)
        var tableOfNode = [Int?](repeating: nil, count: nodes.count)
        // Nodes are stored parents-first, so a repeat's table exists before
        // any node inside it is placed.
        for (i, node) in nodes.enumerated() {
            var enclosing: Int? = nil
            var path: [String] = []
            var p = nodeParents[i]
            while let q = p {
                if nodeKinds[q] == .repeat { enclosing = q; break }
                path.insert(nodeNames[q], at: 0)
                p = nodeParents[q]
            }
            let table = enclosing.flatMap { tableOfRepeatNode[$0] } ?? 0
            if node.kind == .repeat {
                let name = (path + [nodeNames[i]]).joined(separator: "-")
                tableOfRepeatNode[i] = tables.count
                tables.append(Table(repeatNode: i, name: "\(formID)-\(nodeNames[i])", repeatName: name,
                                    columns: [], parentTable: table))
            } else if node.kind.holdsValue {
                columnOfNode[i] = tables[table].columns.count
                tables[table].columns.append(Column(node: i, name: (path + [nodeNames[i]]).joined(separator: "-"),
                                                    kind: node.kind))
                tableOfNode[i] = table
            }
        }
        self.tables = tables
        self.tableOfNode = tableOfNode
        self.columnOfNode = columnOfNode
        self.tableOfRepeatNode = tableOfRepeatNode
    }

    /// The repeat nodes enclosing `node`, outermost first.
    public func enclosingRepeats(of node: Int) -> [Int] {
        var out: [Int] = []
        var p = nodeParents[node]
        while let q = p {
            if nodeKinds[q] == .repeat { out.insert(q, at: 0) }
            p = nodeParents[q]
        }
        return out
    }

    /// The table of a repeat node.
    public func table(ofRepeat node: Int) -> Int? { tableOfRepeatNode[node] }
}
