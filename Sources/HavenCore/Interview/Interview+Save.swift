/// Saving an interview in progress (Docs/instrument-format.md §5):
/// position, pending revisit, history, instance counts, privacy-check
/// outcomes and answers, in a compact encoding the caller encrypts and
/// stores after every change.
extension Interview {
    static var stateMagic: StaticString { "HVNS" }
    static var stateHeaderSize: Int { 28 }

    /// The state as bytes (empty once the interview was wiped).
    public func save() -> [UInt8] {
        guard !closed else { return [] }
        var measure = ByteWriter.measure()
        writeState(&measure)
        var bytes = [UInt8](repeating: 0, count: measure.count)
        bytes.withUnsafeMutableBytes { out in
            var w = ByteWriter(out)
            writeState(&w)
            Self.sealState(out)
        }
        return bytes
    }

    /// The state written into `buffer` without allocating; returns its length.
    public func save(into buffer: UnsafeMutableRawBufferPointer) throws(InterviewError) -> Int {
        guard !closed else { throw .closed }
        var measure = ByteWriter.measure()
        writeState(&measure)
        guard measure.count <= buffer.count else { throw .bufferTooSmall(needed: measure.count) }
        var w = ByteWriter(buffer)
        writeState(&w)
        Self.sealState(buffer.slice(0, w.count))
        return w.count
    }

    /// Total length and CRC-32 of a written state.
    static func sealState(_ state: UnsafeMutableRawBufferPointer) {
        state.storeLE(UInt32(truncatingIfNeeded: state.count), at: 8)
        state.storeLE(CRC32.checksum(UnsafeRawBufferPointer(state).slice(16, state.count - 16)), at: 12)
    }

    func writeState(_ w: inout ByteWriter) {
        w.append(Self.stateMagic)
        w.appendLE(UInt16(1))
        w.appendLE(UInt16(0))
        w.appendLE(UInt32(0))  // total length, sealed afterwards
        w.appendLE(UInt32(0))  // CRC, sealed afterwards
        w.appendLE(instrument.checksum)
        w.appendLE(UInt32(truncatingIfNeeded: instrument.byteCount))
        w.appendLE(UInt16(language))
        w.append(revisit == nil ? 0 : 1)
        w.append(UInt8(instanceID.count))
        w.append(instanceID)
        switch position {
        case .end: w.append(0)
        case .question(let n, let p): w.append(1); writeAddress(Int(n), p, &w)
        case .privacyCheck(let n, let p): w.append(2); writeAddress(Int(n), p, &w)
        case .repeatPrompt(let n, let p): w.append(3); writeAddress(Int(n), p, &w)
        }
        if let r = revisit { writeAddress(r.node, r.path, &w) }
        w.appendLE(UInt16(history.count))
        var h = 0
        while h < history.count {
            writeAddress(history[h].node, history[h].path, &w)
            h += 1
        }
        // Instance counts, section states, answers: node order, instance order.
        var table = 0
        while table < 3 {
            let countOffset = w.count
            w.appendLE(UInt32(0))
            var entries: UInt32 = 0
            var n = 0
            while n < instrument.nodeCount {
                let node = instrument.nodes[n]
                let relevantNode = table == 0 ? node.kind == .repeat : table == 1 ? node.isSensitive : node.kind.holdsValue
                if relevantNode {
                    var index = 0
                    let span = instanceSpan(n)
                    while index < span {
                        if let path = existingPath(n, linear: index), writeEntry(table, n, path, &w) { entries += 1 }
                        index += 1
                    }
                }
                n += 1
            }
            w.patchLE(entries, at: countOffset)
            table += 1
        }
    }

    /// One entry of table 0 (counts), 1 (section states) or 2 (answers), if
    /// there is something to keep.
    func writeEntry(_ table: Int, _ n: Int, _ path: InstancePath, _ w: inout ByteWriter) -> Bool {
        switch table {
        case 0:
            let count = store.counters[layout.counter(n, path)]
            guard count > 0 else { return false }
            writeAddress(n, path, &w)
            w.appendLE(count)
        case 1:
            let privacy = store.slots[layout.slot(n, path)].privacy
            guard privacy != .notAsked else { return false }
            writeAddress(n, path, &w)
            w.append(privacy.rawValue)
        default:
            let s = layout.slot(n, path)
            let slot = store.slots[s]
            guard slot.tag != .empty else { return false }
            writeAddress(n, path, &w)
            w.append(slot.tag.rawValue)
            switch slot.tag {
            case .empty: break
            case .text, .choices, .calculated: writeLongString(store.bytes(s), &w)
            case .integer, .decimal: w.appendLE(slot.bits)
            case .date: w.appendLE(Int32(truncatingIfNeeded: Int64(bitPattern: slot.bits)))
            case .choice: w.appendLE(UInt32(truncatingIfNeeded: slot.bits))
            }
        }
        return true
    }
}
