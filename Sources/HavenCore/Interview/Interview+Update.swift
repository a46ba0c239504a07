/// Relevance, defaults, calculates and repeat instances: everything that
/// follows from the answers, recomputed after each change.
extension Interview {
    /// Re-evaluates relevance and calculates in document order until nothing
    /// changes (a later calculate can feed an earlier relevance), at most
    /// `limits.maxUpdatePasses` passes so a form that never settles still
    /// returns.
    func update() {
        var pass = 0
        while pass < max(limits.maxUpdatePasses, 1) {
            if !updatePass() { return }
            pass += 1
        }
    }

    /// One pass over every existing (node, instance); true if anything changed.
    func updatePass() -> Bool {
        var changed = false
        let count = instrument.nodeCount
        var n = 0
        while n < count {
            var index = 0
            let span = instanceSpan(n)
            while index < span {
                if let path = existingPath(n, linear: index), updateSlot(n, path) { changed = true }
                index += 1
            }
            n += 1
        }
        return changed
    }

    /// How many linear instance indices of `node` can exist: those below the
    /// outermost repeat's current count (linear order is instance order).
    func instanceSpan(_ node: Int) -> Int {
        let depth = layout.depth(node)
        guard depth > 0 else { return 1 }
        let outer = layout.ancestor(node, level: 0)
        var stride = 1
        var k = 1
        while k < depth {
            stride *= layout.capacity[layout.ancestor(node, level: k)]
            k += 1
        }
        return Int(store.counters[layout.counter(outer, .root)]) * stride
    }

    /// The instance path with mixed-radix index `linear`, if that instance exists.
    func existingPath(_ node: Int, linear: Int) -> InstancePath? {
        let depth = layout.depth(node)
        if depth == 0 { return .root }
        var rest = linear
        var indices = InstancePath()
        // Decode innermost first into a scratch path, then check outermost first.
        var digits = (0, 0, 0, 0)
        var k = depth - 1
        while k >= 0 {
            let capacity = layout.capacity[layout.ancestor(node, level: k)]
            let digit = rest % capacity
            rest /= capacity
            switch k {
            case 0: digits.0 = digit
            case 1: digits.1 = digit
            case 2: digits.2 = digit
            default: digits.3 = digit
            }
            k -= 1
        }
        k = 0
        while k < depth {
            let digit = k == 0 ? digits.0 : k == 1 ? digits.1 : k == 2 ? digits.2 : digits.3
            let r = layout.ancestor(node, level: k)
            if digit >= Int(store.counters[layout.counter(r, indices)]) { return nil }
            indices.append(digit)
            k += 1
        }
        return indices
    }

    /// Brings one slot up to date; true if its relevance or value changed.
    /// A repeat's own slot is per parent instance, so its `relevant` is
    /// evaluated once for all its instances (in the parent's context).
    func updateSlot(_ n: Int, _ path: InstancePath) -> Bool {
        let node = instrument.nodes[n]
        let s = layout.slot(n, path)
        var relevant = true
        if let p = parentSlot(n, path) { relevant = store.slots[p].isActive }
        if relevant { relevant = evaluateBool(node.relevant, node: n, path: path, absent: true) }
        let privacy = store.slots[s].privacy
        let active = relevant && privacy != .declined && privacy != .postponed
        let wasActive = store.slots[s].isActive
        var changed = false
        if store.slots[s].isRelevant != relevant || wasActive != active {
            store.slots[s].isRelevant = relevant
            store.slots[s].isActive = active
            changed = true
        }
        guard active else {
            // ODK: a node that is not relevant has no value.
            if store.slots[s].tag != .empty {
                store.clearValue(s)
                changed = true
            }
            return changed
        }
        if !wasActive && store.slots[s].tag == .empty && applyDefault(n, slot: s) { changed = true }
        if node.calculate != InstrumentRef.none && storeCalculate(n, path, slot: s) { changed = true }
        return changed
    }

    /// The form's default (checked when the instrument was loaded), or the
    /// instance id for `jr:preload="uid"`. Applied whenever a node becomes
    /// relevant while empty: at start, in new repeat instances, and after a
    /// section comes back (so a default is not lost to a relevance flip).
    func applyDefault(_ n: Int, slot s: Int) -> Bool {
        let node = instrument.nodes[n]
        if node.kind == .preloadUID {
            return store.setBytes(s, tag: .text, instanceID)
        }
        guard node.defaultValue != 0 else { return false }
        let value = instrument.string(node.defaultValue)
        switch node.kind {
        case .text: return store.setBytes(s, tag: .text, value)
        case .calculate: return store.setBytes(s, tag: .calculated, value)
        case .integer:
            guard let v = ValueText.parseInteger(value) else { return false }
            store.setScalar(s, tag: .integer, bits: UInt64(bitPattern: v))
        case .decimal:
            guard let x = vm.scratch.parseDecimal(value) else { return false }
            store.setScalar(s, tag: .decimal, bits: x.bitPattern)
        case .date:
            guard let d = CivilDate.parse(value) else { return false }
            store.setScalar(s, tag: .date, bits: UInt64(bitPattern: Int64(d)))
        case .selectOne:
            guard let item = instrument.choiceIndex(list: Int(node.choiceList), value: value) else { return false }
            store.setScalar(s, tag: .choice, bits: UInt64(item))
        case .selectMultiple:
            return storeSelection(n, slot: s, toggling: -1, from: value)
        default: return false
        }
        return true
    }

    /// Evaluates node `n`'s calculation and stores the result if it differs
    /// from the stored value: a calculate keeps `string()` of it (as ODK),
    /// nothing for a numeric NaN;
    /// a question with a calculation (a read-only computed text, say) gets
    /// the result converted to its type, or no value when it does not
    /// convert. True if the stored value changed.
    func storeCalculate(_ n: Int, _ path: InstancePath, slot s: Int) -> Bool {
        let node = instrument.nodes[n]
        let value = evaluate(node.calculate, node: n, path: path)
        // A numeric NaN (a calculation over unanswered questions) is no
        // value, as in JavaRosa: `once(int(random() * ${size}) + 1)` must
        // wait for `size` instead of freezing on NaN.
        if case .number(let x) = value, x.isNaN { return clear(s) }
        let old = store.slots[s]
        switch node.kind {
        case .calculate, .text:
            guard let bytes = text(of: value), UTF8Validation.isValid(bytes) else { return false }
            let tag: AnswerTag = node.kind == .text ? .text : .calculated
            if bytes.count == 0 { return clear(s) }
            if old.tag == tag && bytesEqual(store.bytes(s), bytes) { return false }
            guard bytes.count <= limits.maxValueBytes, store.setBytes(s, tag: tag, bytes) else {
                storageExhausted = true
                return false
            }
            return true
        case .integer, .decimal, .date:
            let x = vm.number(of: value)
            guard x.isFinite, x > -9.2e18, x < 9.2e18 else { return clear(s) }
            var bits: UInt64
            var tag = AnswerTag.decimal
            switch node.kind {
            case .integer:
                tag = .integer
                bits = UInt64(bitPattern: Int64(x))
            case .date:
                tag = .date
                guard x > -2.0e9, x < 2.0e9 else { return clear(s) }
                bits = UInt64(bitPattern: Int64(Int32(x)))
            default:
                bits = x.bitPattern
            }
            if old.tag == tag && old.bits == bits { return false }
            store.setScalar(s, tag: tag, bits: bits)
            return true
        case .selectOne:
            guard let bytes = text(of: value),
                  let item = instrument.choiceIndex(list: Int(node.choiceList), value: bytes) else { return clear(s) }
            if old.tag == .choice && old.bits == UInt64(item) { return false }
            store.setScalar(s, tag: .choice, bits: UInt64(item))
            return true
        case .selectMultiple:
            guard let bytes = text(of: value) else { return false }
            let before = store.bytes(s)
            // Compare through the staging copy the selection is built in.
            guard storeSelection(n, slot: s, toggling: -1, from: bytes, onlyIfChanged: before) else { return false }
            return true
        default:
            return false
        }
    }

    /// Clears slot `s`; true if it held a value.
    func clear(_ s: Int) -> Bool {
        guard store.slots[s].tag != .empty else { return false }
        store.clearValue(s)
        return true
    }

    /// Builds a select_multiple value from `from` (space-separated values)
    /// with item `toggling` flipped (-1: none), in list order, and stores
    /// it. False when it does not fit.
    func storeSelection(_ n: Int, slot s: Int, toggling: Int, from: UnsafeRawBufferPointer,
                        onlyIfChanged current: UnsafeRawBufferPointer? = nil) -> Bool {
        let list = Int(instrument.nodes[n].choiceList)
        let items = instrument.choiceLists[list].itemCount
        var w = ByteWriter(store.staging)
        var item = 0
        while item < items {
            let value = instrument.choiceValue(list: list, item: item)
            var selected = Self.contains(from, token: value)
            if item == toggling { selected = !selected }
            if selected {
                if w.count > 0 { w.append(32) }
                w.append(value)
            }
            item += 1
        }
        guard !w.overflowed else { return false }
        if let current, bytesEqual(current, w.written) { return false }
        if w.count == 0 {
            store.clearValue(s)
            return true
        }
        return store.setBytes(s, tag: .choices, w.written)
    }

    /// Is `token` one of the space-separated values in `list`?
    static func contains(_ list: UnsafeRawBufferPointer, token: UnsafeRawBufferPointer) -> Bool {
        var tokens = SpaceSeparated(list)
        while let t = tokens.next() {
            if bytesEqual(t, token) { return true }
        }
        return false
    }

    // MARK: Repeat instances

    /// Sets the instance count of repeat `r` under `parent`, clearing the
    /// answers (and nested instances) of trimmed instances.
    func setInstanceCount(_ r: Int, parent: InstancePath, to count: Int) {
        let c = layout.counter(r, parent)
        var old = Int(store.counters[c])
        while old > count {
            old -= 1
            clearInstance(r, parent.appending(old))
        }
        store.counters[c] = UInt16(truncatingIfNeeded: count)
    }

    /// Resets every slot and nested counter below instance `prefix` of `r`.
    func clearInstance(_ r: Int, _ prefix: InstancePath) {
        var m = r + 1
        let end = layout.subtreeEnd[r]
        while m < end {
            let range = layout.slotRange(m, prefix: prefix)
            store.resetSlots(range.start, range.count)
            if instrument.nodes[m].kind == .repeat {
                let counters = layout.counterRange(m, prefix: prefix)
                store.resetCounters(counters.start, counters.count)
            }
            m += 1
        }
    }

    /// On entering repeat `r`: a `jr:count` repeat gets the evaluated count
    /// (clamped to its capacity; trimmed instances lose their answers); an
    /// "add another" repeat gets its first instance if it has none (as a
    /// pyxform form's initial instance).
    func prepareRepeat(_ r: Int, parent: InstancePath) {
        let node = instrument.nodes[r]
        let current = Int(store.counters[layout.counter(r, parent)])
        var target = current
        if node.repeatCount != InstrumentRef.none {
            let x = vm.number(of: evaluate(node.repeatCount, node: r, path: parent))
            if x.isNaN || x < 1 {
                target = 0
            } else {
                target = x >= Double(layout.capacity[r]) ? layout.capacity[r] : Int(x)
            }
        } else if current == 0 {
            target = 1
        }
        if target != current {
            setInstanceCount(r, parent: parent, to: target)
            update()
        }
    }
}
