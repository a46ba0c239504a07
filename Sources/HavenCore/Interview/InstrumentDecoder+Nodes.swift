/// The NODES section: 64-byte records in document order, every field
/// checked against the node's kind and the tables decoded before it.
extension InstrumentDecoder {
    mutating func nodesSection() throws(InstrumentError) {
        let (start, end, n) = try count(.nodes)
        guard n <= Self.maxNodes else { throw .invalidField(section: .nodes, offset: start) }
        guard end - start == 4 + n * Self.nodeRecordSize else { throw .sizeMismatch(section: .nodes, offset: start) }
        nodes.reserveCapacity(n)
        var depth = [UInt8](repeating: 0, count: n)
        var i = 0
        while i < n {
            let r = start + 4 + i * Self.nodeRecordSize
            guard let kind = NodeKind(rawValue: u8(r)) else { throw .invalidField(section: .nodes, offset: r) }
            let flags = u8(r + 1)
            let sensitive = flags & 0x01 != 0
            guard flags & ~0x03 == 0, !sensitive || kind.isContainer, flags & 0x02 == 0 || sensitive else {
                throw .invalidField(section: .nodes, offset: r + 1)
            }
            let parent = u16(r + 2)
            if parent != InstrumentRef.noNode {
                guard Int(parent) < i, nodes[Int(parent)].kind.isContainer else { throw .badParent(offset: r + 2) }
                // Document order: the parent is the previous node or one of
                // its ancestors, so every subtree is a contiguous run.
                var open = UInt16(i - 1)
                while open != InstrumentRef.noNode && open != parent { open = nodes[Int(open)].parent }
                guard open == parent else { throw .badParent(offset: r + 2) }
                let p = Int(parent)
                depth[i] = depth[p] + (nodes[p].kind == .repeat ? 1 : 0)
            }
            if kind == .repeat && Int(depth[i]) >= Self.maxRepeatDepth { throw .repeatTooDeep(offset: r) }
            try checkString(u32(r + 4), .nodes, at: r + 4)
            var t = 8
            while t <= 20 {
                try checkText(u32(r + t), .nodes, at: r + t)
                t += 4
            }
            let relevant = u32(r + 24), constraint = u32(r + 28), required = u32(r + 32)
            let readonly = u32(r + 36), calculate = u32(r + 40), filter = u32(r + 52), repeatCount = u32(r + 60)
            try checkExpression(relevant, at: r + 24)
            try checkExpression(constraint, at: r + 28)
            try checkExpression(required, at: r + 32)
            try checkExpression(readonly, at: r + 36)
            try checkExpression(calculate, at: r + 40)
            try checkExpression(filter, at: r + 52)
            try checkExpression(repeatCount, at: r + 60)
            let defaultValue = u32(r + 44)
            try checkString(defaultValue, .nodes, at: r + 44)
            // Notes may carry instance text (ignored); containers and uid preloads may not.
            guard defaultValue == 0 || kind.isQuestion || kind == .calculate || kind == .note else {
                throw .invalidField(section: .nodes, offset: r + 44)
            }
            let list = u32(r + 48)
            if kind.isSelect {
                guard list < UInt32(lists.count) else { throw .outOfRange(section: .nodes, offset: r + 48) }
            } else {
                guard list == InstrumentRef.none else { throw .invalidField(section: .nodes, offset: r + 48) }
                guard filter == InstrumentRef.none else { throw .invalidField(section: .nodes, offset: r + 52) }
            }
            // A calculation gives a value: calculates, and questions whose
            // value the form computes (a read-only text with a calculation).
            guard calculate == InstrumentRef.none || kind == .calculate || kind.isQuestion else {
                throw .invalidField(section: .nodes, offset: r + 40)
            }
            let capacity = u16(r + 56)
            guard kind == .repeat ? capacity >= 1 : capacity == 0 else { throw .invalidField(section: .nodes, offset: r + 56) }
            guard u16(r + 58) == 0 else { throw .invalidField(section: .nodes, offset: r + 58) }
            guard repeatCount == InstrumentRef.none || kind == .repeat else {
                throw .invalidField(section: .nodes, offset: r + 60)
            }
            nodes.append(InstrumentNode(kind: kind, flags: flags, parent: parent, name: u32(r + 4), label: u32(r + 8),
                                        hint: u32(r + 12), constraintMessage: u32(r + 16), requiredMessage: u32(r + 20),
                                        relevant: relevant, constraint: constraint, required: required,
                                        readonly: readonly, calculate: calculate, defaultValue: defaultValue,
                                        choiceList: list, choiceFilter: filter, repeatCapacity: capacity,
                                        repeatCount: repeatCount))
            i += 1
        }
    }
}
