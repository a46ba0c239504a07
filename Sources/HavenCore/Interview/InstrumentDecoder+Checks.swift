/// Checks that need more than one section: defaults against their
/// question's type and choice list, and every expression's bytecode against
/// the string, node and column counts.
extension InstrumentDecoder {

    func stringBytes(_ ref: UInt32) -> UnsafeRawBufferPointer {
        let entry = stringTable + Int(ref) * 8
        return b.slice(stringBlob + Int(u32(entry)), Int(u32(entry + 4)))
    }

    func hasChoice(list: Int, value: UnsafeRawBufferPointer) -> Bool {
        let info = lists[list]
        var item = 0
        while item < info.itemCount {
            if bytesEqual(stringBytes(u32(info.itemsOffset + item * info.itemSize)), value) { return true }
            item += 1
        }
        return false
    }

    /// Defaults parse as their question's type: the engine applies them
    /// without re-checking.
    func checkDefaults() throws(InstrumentError) {
        let scratch = NumberScratch.allocate()
        defer { scratch.deallocate() }
        var i = 0
        let nodesStart = section(.nodes).start + 4
        while i < nodes.count {
            let node = nodes[i]
            let at = nodesStart + i * Self.nodeRecordSize + 44
            i += 1
            guard node.defaultValue != 0 else { continue }
            let value = stringBytes(node.defaultValue)
            var ok = true
            switch node.kind {
            case .integer: ok = ValueText.parseInteger(value) != nil
            case .decimal: ok = scratch.parseDecimal(value)?.isFinite ?? false
            case .date: ok = CivilDate.parse(value) != nil
            case .selectOne: ok = hasChoice(list: Int(node.choiceList), value: value)
            case .selectMultiple:
                var tokens = SpaceSeparated(value)
                var any = false
                while let token = tokens.next() {
                    any = true
                    if !hasChoice(list: Int(node.choiceList), value: token) { ok = false }
                }
                ok = ok && any
            default: ok = true
            }
            guard ok else { throw .badDefault(offset: at) }
        }
    }

    /// Every expression's bytecode, checked once at load (Docs §3: a
    /// malformed program is refused here, not when it runs). Choice filters
    /// may read their list's columns; nothing else may.
    func checkBytecode() throws(InstrumentError) {
        var columns = [Int](repeating: -1, count: Int(expressionCount))
        var i = 0
        while i < nodes.count {
            let node = nodes[i]
            if node.choiceFilter != InstrumentRef.none {
                let available = 2 + lists[Int(node.choiceList)].extraColumnCount
                let f = Int(node.choiceFilter)
                columns[f] = columns[f] < 0 ? available : min(columns[f], available)
            }
            i += 1
        }
        var e = 0
        while e < Int(expressionCount) {
            let entry = expressionTable + e * 8
            let code = b.slice(expressionBlob + Int(u32(entry)), Int(u16(entry + 4)))
            let maxStack = Int(u16(entry + 6))
            do throws(ExpressionError) {
                try BytecodeValidator.validate(code, maxStack: maxStack, stringCount: stringCount,
                                               nodeCount: UInt16(nodes.count),
                                               columnCount: columns[e] < 0 ? nil : UInt16(columns[e]))
            } catch {
                throw .badExpression(index: UInt32(e), offset: entry, error)
            }
            e += 1
        }
    }
}
