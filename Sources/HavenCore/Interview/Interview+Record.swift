/// Finalizing: the answer record of Docs/instrument-format.md §4, the bytes
/// that are then sealed to the research team.
extension Interview {
    /// The answer record. Refuses while a relevant required question is
    /// unanswered or a relevant answer breaks its constraint (naming the
    /// first, in document order), as ODK does at finalization.
    public func finalize() throws(InterviewError) -> [UInt8] {
        try prepareFinalize()
        var measure = ByteWriter.measure()
        writeRecord(&measure)
        var bytes = [UInt8](repeating: 0, count: measure.count)
        bytes.withUnsafeMutableBytes { out in
            var w = ByteWriter(out)
            writeRecord(&w)
        }
        return bytes
    }

    /// The answer record written into `buffer` (no allocation); returns its
    /// length.
    public func finalize(into buffer: UnsafeMutableRawBufferPointer) throws(InterviewError) -> Int {
        try prepareFinalize()
        var measure = ByteWriter.measure()
        writeRecord(&measure)
        guard measure.count <= buffer.count else { throw .bufferTooSmall(needed: measure.count) }
        var w = ByteWriter(buffer)
        writeRecord(&w)
        return w.count
    }

    func prepareFinalize() throws(InterviewError) {
        try begin()
        update()
        var n = 0
        while n < instrument.nodeCount {
            if instrument.nodes[n].kind.isQuestion {
                var index = 0
                let span = instanceSpan(n)
                while index < span {
                    if let path = existingPath(n, linear: index), store.slots[layout.slot(n, path)].isActive {
                        switch check(n, path) {
                        case .required?: throw .requiredUnanswered(node: UInt16(n), instance: path)
                        case .constraint?: throw .constraintViolated(node: UInt16(n), instance: path)
                        case nil: break
                        }
                    }
                    index += 1
                }
            }
            n += 1
        }
    }

    /// Header, then every active answered node in node order, then instance order.
    func writeRecord(_ w: inout ByteWriter) {
        w.append("HVNA")
        w.appendLE(UInt16(1))
        writeShortString(instrument.string(instrument.formID), &w)
        writeShortString(instrument.string(instrument.formVersion), &w)
        writeShortString(instanceID, &w)
        let countOffset = w.count
        w.appendLE(UInt32(0))
        var answers: UInt32 = 0
        var n = 0
        while n < instrument.nodeCount {
            if instrument.nodes[n].kind.holdsValue {
                var index = 0
                let span = instanceSpan(n)
                while index < span {
                    if let path = existingPath(n, linear: index) {
                        let s = layout.slot(n, path)
                        if store.slots[s].isActive && store.slots[s].tag != .empty {
                            writeAnswer(n, path, slot: s, &w)
                            answers += 1
                        }
                    }
                    index += 1
                }
            }
            n += 1
        }
        w.patchLE(answers, at: countOffset)
    }

    /// u16 length ‖ UTF-8, cut at a character boundary below 64 KiB.
    func writeShortString(_ s: UnsafeRawBufferPointer, _ w: inout ByteWriter) {
        let length = UTF8Validation.boundary(s, atMost: Int(UInt16.max))
        w.appendLE(UInt16(length))
        w.append(s.slice(0, length))
    }

    func writeLongString(_ s: UnsafeRawBufferPointer, _ w: inout ByteWriter) {
        w.appendLE(UInt32(truncatingIfNeeded: s.count))
        w.append(s)
    }

    /// u16 node, u8 depth, depth × u16 instance, u8 type, value.
    func writeAnswer(_ n: Int, _ path: InstancePath, slot s: Int, _ w: inout ByteWriter) {
        writeAddress(n, path, &w)
        let slot = store.slots[s]
        w.append(slot.tag.rawValue)
        switch slot.tag {
        case .empty: break
        case .text, .calculated: writeLongString(store.bytes(s), &w)
        case .integer: w.appendLE(slot.bits)
        case .decimal: w.appendLE(slot.bits)
        case .date: w.appendLE(Int32(truncatingIfNeeded: Int64(bitPattern: slot.bits)))
        case .choice:
            writeLongString(instrument.choiceValue(list: Int(instrument.nodes[n].choiceList), item: Int(slot.bits)), &w)
        case .choices:
            let values = store.bytes(s)
            var count: UInt16 = 0
            var tokens = SpaceSeparated(values)
            while tokens.next() != nil { count += 1 }
            w.appendLE(count)
            tokens = SpaceSeparated(values)
            while let token = tokens.next() { writeLongString(token, &w) }
        }
    }

    func writeAddress(_ n: Int, _ path: InstancePath, _ w: inout ByteWriter) {
        w.appendLE(UInt16(n))
        w.append(UInt8(path.depth))
        var k = 0
        while k < path.depth {
            w.appendLE(UInt16(path[k]))
            k += 1
        }
    }
}
