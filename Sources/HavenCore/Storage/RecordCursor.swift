/// One entry of a walk over the records still owed to the host (not yet
/// pulled), oldest first.
public enum RecordEntry: Equatable, Sendable {
    /// A complete record (its headers authenticated; `read` checks the bytes).
    case record(id: UInt64, length: Int)
    /// A record that was stored but cannot be read back whole: a flipped bit
    /// or tampering. Reported once, in id order.
    case corrupt(id: UInt64)
}

/// Position of a walk; make one with `LogStore.makeCursor()`.
public struct RecordCursor: Sendable {
    var block: Int
    var seq: UInt64
    var offset: Int
    var finished: Bool
    /// Lowest id not yet reported or skipped.
    var expected: UInt64
    /// A record whose fragments are being followed: id, next index, total, sum.
    var pendingID: UInt64
    var pendingIndex: UInt16
    var pendingTotal: UInt32
    var pendingSum: UInt32
    var hasPending: Bool
    var pendingDamaged = false
    /// Authenticate every body on the way (a full verification pass).
    var verifying = false
}

extension LogStore {
    /// A walk over the records not yet pulled. With `verifyingContents`, every
    /// fragment body is authenticated too (decrypted in place into scratch
    /// and wiped), so a flipped bit anywhere is reported as `.corrupt`.
    public func makeCursor(verifyingContents: Bool = false) throws(StoreError) -> RecordCursor {
        try ensureOpen()
        guard hasLog, let tailHeader = try readBlockHeader(tail) else {
            return RecordCursor(block: 0, seq: 0, offset: 0, finished: true, expected: nextID, pendingID: 0,
                                pendingIndex: 0, pendingTotal: 0, pendingSum: 0, hasPending: false)
        }
        let first = max(retired.floor, tailHeader.continues ? tailHeader.baseID + 1 : tailHeader.baseID)
        return RecordCursor(block: tail, seq: tailHeader.seq, offset: geo.afterBlockHeaders, finished: false,
                            expected: first, pendingID: 0, pendingIndex: 0, pendingTotal: 0, pendingSum: 0,
                            hasPending: false, verifying: verifyingContents)
    }

    /// The next entry, or nil at the end. Allocates nothing.
    public func next(_ c: inout RecordCursor) throws(StoreError) -> RecordEntry? {
        try ensureOpen()
        while true {
            if c.finished { return skipMissing(&c, before: nextID) }
            switch try scanStep(block: c.block, seq: c.seq, offset: c.offset) {
            case .end:
                if c.block == head { c.finished = true; continue }
                guard let (next, header) = try nextValidBlock(after: c.block) else { c.finished = true; continue }
                c.block = next
                c.seq = header.seq
                c.offset = geo.afterBlockHeaders
            case .garbage(_, let resume):
                c.offset = resume
            case .fragment(let h, let at, let slot):
                guard h.kind == StoreLayout.Kind.data.rawValue else { c.offset = at + slot; continue }
                if h.isFirst {
                    // Ids skipped before this record, and an unfinished one.
                    if let missing = skipMissing(&c, before: h.recordID) { return missing }
                    c.offset = at + slot
                    if h.recordID < c.expected { continue }  // already reported
                    c.expected = h.recordID + 1
                    if retired.contains(h.recordID) { continue }
                    var intact = true
                    if c.verifying { intact = try verifyBody(block: c.block, seq: c.seq, offset: at, header: h) }
                    if h.isLast {
                        guard intact, h.bodyLength == h.totalLength else { return .corrupt(id: h.recordID) }
                        return .record(id: h.recordID, length: Int(h.totalLength))
                    }
                    c.hasPending = true
                    c.pendingID = h.recordID
                    c.pendingIndex = 1
                    c.pendingTotal = h.totalLength
                    c.pendingSum = h.bodyLength
                    c.pendingDamaged = !intact
                    continue
                }
                c.offset = at + slot
                guard c.hasPending, h.recordID == c.pendingID, h.index == c.pendingIndex else { continue }
                c.pendingIndex += 1
                c.pendingSum &+= h.bodyLength
                if c.verifying, try !verifyBody(block: c.block, seq: c.seq, offset: at, header: h) {
                    c.pendingDamaged = true
                }
                if h.isLast {
                    c.hasPending = false
                    guard !c.pendingDamaged, c.pendingSum == c.pendingTotal else { return .corrupt(id: h.recordID) }
                    return .record(id: h.recordID, length: Int(h.totalLength))
                }
            }
        }
    }

    /// Authenticates one fragment body without keeping its plaintext.
    private func verifyBody(block: Int, seq: UInt64, offset: Int, header: FragmentHeader) throws(StoreError) -> Bool {
        let n = Int(header.bodyLength)
        let sealed = scratch.bytes.slice(0, geo.bodyOffset + n + CryptoSizes.tag)
        do throws(FlashError) { try flash.read(block: block, offset: offset, into: sealed) } catch { throw fail(error) }
        let plain = sealed.slice(geo.bodyOffset, n)
        let ok = codec.openBody(UnsafeRawBufferPointer(sealed), header: header, block: block, offset: offset,
                                seq: seq, into: plain)
        C.zeroize(plain)
        return ok
    }

    /// Reports an unfinished pending record, then ids below `limit` that
    /// never appeared, unless they are retired (pulled, reclaimed, abandoned).
    private func skipMissing(_ c: inout RecordCursor, before limit: UInt64?) -> RecordEntry? {
        if c.hasPending {
            c.hasPending = false
            if !retired.contains(c.pendingID) { return .corrupt(id: c.pendingID) }
        }
        guard let limit else { return nil }
        while c.expected < limit {
            let id = c.expected
            c.expected += 1
            if !retired.contains(id) { return .corrupt(id: id) }
        }
        return nil
    }
}
