// JSONNode: a tiny ordered JSON tree for export lines (keys keep the form's
// order, which a dictionary-based serializer would not).

struct JSONNode: Sendable {
    enum Step { case key(String), array(String, Int) }

    indirect enum Content: Sendable {
        case object([(String, JSONNode)])
        case array([JSONNode])
        case value(String)
    }

    var content: Content

    static func object(_ members: [(String, JSONNode)]) -> JSONNode { JSONNode(content: .object(members)) }

    mutating func insert(path: [Step], value: String) {
        guard let first = path.first else { content = .value(value); return }
        let rest = Array(path.dropFirst())
        guard case .object(var members) = content else { return }
        switch first {
        case .key(let k):
            if let i = members.firstIndex(where: { $0.0 == k }) {
                members[i].1.insert(path: rest, value: value)
            } else {
                var child = JSONNode.object([])
                child.insert(path: rest, value: value)
                members.append((k, child))
            }
        case .array(let k, let index):
            var items: [JSONNode] = []
            var at = members.firstIndex(where: { $0.0 == k })
            if let i = at, case .array(let existing) = members[i].1.content { items = existing }
            while items.count <= index { items.append(.object([])) }
            items[index].insert(path: rest, value: value)
            if at == nil { members.append((k, JSONNode(content: .array([])))); at = members.count - 1 }
            members[at!].1 = JSONNode(content: .array(items))
        }
        content = .object(members)
    }

    func render(extra: [(String, String)] = []) -> String {
        switch content {
        case .value(let v): return v
        case .array(let items): return "[" + items.map { $0.render() }.joined(separator: ",") + "]"
        case .object(let members):
            let parts = members.map { JSONText.quoted($0.0) + ":" + $0.1.render() } +
                extra.map { JSONText.quoted($0.0) + ":" + $0.1 }
            return "{" + parts.joined(separator: ",") + "}"
        }
    }
}
