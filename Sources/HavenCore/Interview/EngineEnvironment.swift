/// The engine's side of `ExpressionEnvironment`: what an expression sees
/// from one evaluation context (a node in one repeat instance, and for
/// choice filters the item being filtered). A small value built per
/// evaluation; it borrows the instrument, layout and store, so building it
/// allocates nothing.
struct EngineEnvironment: ExpressionEnvironment {
    let instrument: Instrument
    let layout: AnswerLayout
    unowned(unsafe) let store: AnswerStore
    /// Context node and its instance path.
    let node: Int
    let path: InstancePath
    /// Choice filters: the list and item being tested (list -1 otherwise).
    let list: Int
    let item: Int
    let language: Int
    let day: Int32
    var rng: SplitMix64

    /// `target`'s instance path seen from the context: the context's index
    /// for each enclosing repeat the two share, the first instance for the
    /// others; nil when that instance does not exist.
    func resolve(_ target: Int) -> InstancePath? {
        let depth = layout.depth(target)
        let contextDepth = layout.depth(node)
        var p = InstancePath()
        var k = 0
        while k < depth {
            let r = layout.ancestor(target, level: k)
            let index = k < contextDepth && layout.ancestor(node, level: k) == r ? path[k] : 0
            if index >= Int(store.counters[layout.counter(r, p)]) { return nil }
            p.append(index)
            k += 1
        }
        return p
    }

    func value(of node: UInt16) -> ExprValue {
        let n = Int(node)
        guard n < instrument.nodeCount, let p = resolve(n) else { return .empty }
        return Self.value(instrument: instrument, store: store, node: n, slot: layout.slot(n, p))
    }

    func contextValue() -> ExprValue {
        Self.value(instrument: instrument, store: store, node: node, slot: layout.slot(node, path))
    }

    func contextHasValue() -> Bool {
        store.slots[layout.slot(node, path)].tag != .empty
    }

    func instanceCount(of node: UInt16) -> Int {
        let n = Int(node)
        guard n < instrument.nodeCount, instrument.nodes[n].kind == .repeat, let p = resolve(n) else { return 0 }
        return Int(store.counters[layout.counter(n, p)])
    }

    func position() -> Int {
        path.depth == 0 ? 0 : path.last + 1
    }

    func itemColumn(_ column: UInt16) -> ExprValue {
        guard list >= 0 else { return .empty }
        return .string(instrument.choiceColumn(list: list, item: item, column: Int(column), language: language))
    }

    func choiceLabel(node: UInt16, value: UnsafeRawBufferPointer) -> ExprValue {
        let n = Int(node)
        guard n < instrument.nodeCount, instrument.nodes[n].kind.isSelect else { return .empty }
        let list = Int(instrument.nodes[n].choiceList)
        guard let index = instrument.choiceIndex(list: list, value: value) else { return .empty }
        return .string(instrument.choiceLabel(list: list, item: index, language: language))
    }

    func string(_ ref: UInt32) -> UnsafeRawBufferPointer { instrument.string(ref) }

    func today() -> Int32 { day }

    mutating func random() -> Double {
        Double(rng.next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A stored answer as an expression value (ODK's typing: numbers for
    /// integer and decimal, the choice's value for select_one, the
    /// space-separated values for select_multiple, strings for text and
    /// calculates). Inactive (non-relevant) nodes are empty.
    static func value(instrument: Instrument, store: AnswerStore, node: Int, slot: Int) -> ExprValue {
        let s = store.slots[slot]
        guard s.isActive else { return .empty }
        switch s.tag {
        case .empty: return .empty
        case .text, .choices, .calculated: return .string(store.bytes(slot))
        case .integer: return .number(Double(Int64(bitPattern: s.bits)))
        case .decimal: return .number(Double(bitPattern: s.bits))
        case .date: return .date(Int32(truncatingIfNeeded: Int64(bitPattern: s.bits)))
        case .choice:
            return .string(instrument.choiceValue(list: Int(instrument.nodes[node].choiceList), item: Int(s.bits)))
        }
    }
}
