/// Mounting: find the head and tail from the newest anchor, follow any block
/// opened after it, then rebuild the RAM state (next id, retired ids, write
/// offset) from the newest checkpoint onwards. Reads O(1) blocks in the
/// normal case; only a store whose anchors are all lost is scanned whole.
extension LogStore {
    func mount() throws(StoreError) {
        anchorIndex = try Superblock<F, C>.anchorFill(flash, geo, block: superblock.liveBlock)
        var located = false
        if let anchor = try latestAnchor() {
            anchorSeq = anchor.seq
            located = try locate(from: anchor)
        }
        if !located {
            try recoverByScanning()
        }
        guard hasLog else {
            if anchorSeq == 0 { try writeAnchor() }  // fresh store: anchor it once
            return
        }
        try replay()
        retired.raiseFloor(to: try readBlockHeader(tail)?.baseID ?? 1)
        if anchorSeq == 0 || !located { try writeAnchor() }
    }

    /// Uses an anchor; false when the blocks it names do not match (the
    /// caller then scans).
    private func locate(from anchor: Anchor) throws(StoreError) -> Bool {
        var seq: UInt64
        var position: Int
        if anchor.hasLog {
            guard let h = try readBlockHeader(anchor.headBlock), h.seq == anchor.headSeq,
                  let t = try readBlockHeader(anchor.tailBlock), t.seq == anchor.tailSeq else { return false }
            hasLog = true
            head = anchor.headBlock
            headHeader = h
            tail = anchor.tailBlock
            tailSeq = t.seq
            seq = h.seq
            position = ringNext(head)
        } else {
            seq = 0
            position = anchor.headBlock
        }
        // Blocks opened after the anchor was written (a cut between opening
        // a block and anchoring it), skipping a few worn-out blocks.
        var skipped = 0
        while skipped <= 4 && (!hasLog || position != tail) {
            if let h = try readBlockHeader(position), h.seq == seq + 1 {
                if !hasLog {
                    hasLog = true
                    tail = position
                    tailSeq = h.seq
                }
                head = position
                headHeader = h
                seq = h.seq
                skipped = 0
            } else {
                skipped += 1
            }
            position = ringNext(position)
        }
        return true
    }

    /// Last resort when no anchor is usable: read every ring block's header,
    /// take the highest sequence as the head, and walk back to the tail.
    private func recoverByScanning() throws(StoreError) {
        var best: (Int, BlockHeader)?
        for block in geo.ringStart..<geo.flash.blockCount {
            if let h = try readBlockHeader(block), best == nil || h.seq > best!.1.seq { best = (block, h) }
        }
        guard let (headBlock, h) = best else {
            hasLog = false
            return
        }
        hasLog = true
        head = headBlock
        headHeader = h
        tail = headBlock
        tailSeq = h.seq
        var position = ringPrevious(headBlock)
        var steps = 1
        while steps < geo.ringCount {
            if let p = try readBlockHeader(position) {
                if p.seq >= tailSeq { break }
                tail = position
                tailSeq = p.seq
            }
            position = ringPrevious(position)
            steps += 1
        }
    }

    /// Rebuilds next id, retired ids and the head's write offset.
    private func replay() throws(StoreError) {
        // The newest valid checkpoint: normally the head's own.
        var start = head
        var startSeq = headHeader.seq
        var haveCheckpoint = false
        var headHasCheckpoint = false
        while true {
            if try loadCheckpoint(block: start, seq: startSeq) {
                haveCheckpoint = true
                headHasCheckpoint = start == head
                break
            }
            guard let (previous, header) = try previousValidBlock(before: start) else { break }
            start = previous
            startSeq = header.seq
        }
        if !haveCheckpoint {
            retired.removeAll()
            start = tail
            startSeq = tailSeq
        }
        if !headHasCheckpoint { headClosed = true }

        // Replay everything after it.
        var block = start
        var seq = startSeq
        var incomplete: UInt64?
        var expectedIndex: UInt16? = 0
        // A record that began before the checkpoint and continues here: its
        // earlier fragments are not replayed, but it may still be unfinished.
        if let startHeader = try readBlockHeader(start), startHeader.continues {
            incomplete = startHeader.baseID
            expectedIndex = nil
            if startHeader.baseID >= nextID { nextID = startHeader.baseID + 1 }
        }

        while true {
            var offset = geo.afterBlockHeaders
            scan: while true {
                switch try scanStep(block: block, seq: seq, offset: offset) {
                case .end(let end):
                    if block == head { headWrite = end }
                    break scan
                case .garbage(_, let resume):
                    if block == head { headClosed = true }
                    offset = resume
                case .fragment(let h, let at, let slot):
                    offset = at + slot
                    switch h.kind {
                    case StoreLayout.Kind.data.rawValue:
                        if h.recordID >= nextID { nextID = h.recordID + 1 }
                        if h.isFirst {
                            incomplete = h.isLast ? nil : h.recordID
                            expectedIndex = 1
                        } else if let id = incomplete, id == h.recordID, expectedIndex == nil || h.index == expectedIndex {
                            expectedIndex = h.index + 1
                            if h.isLast { incomplete = nil }
                        }
                    case StoreLayout.Kind.pulled.rawValue:
                        try withUnsafeTemporaryAllocation(byteCount: Int(h.bodyLength), alignment: 8) {
                            (body) throws(StoreError) in
                            if try readBody(block: block, seq: seq, offset: at, header: h, into: body) {
                                applyPulled(UnsafeRawBufferPointer(body))
                            }
                        }
                    default:
                        break
                    }
                }
            }
            guard block != head, let (next, header) = try nextValidBlock(after: block) else { break }
            block = next
            seq = header.seq
        }
        // A record left without its last fragment at the very end of the log
        // is one whose append never returned: abandon it, and start the next
        // append in a fresh block so nothing is ever written after it.
        if let id = incomplete {
            retired.insert(id, id + 1)
            headClosed = true
        }
        // Anything programmed past the write offset (a body whose header
        // never landed) means the head must not take more writes.
        if !headClosed { headClosed = try !restOfHeadIsErased() }
    }

    private func restOfHeadIsErased() throws(StoreError) -> Bool {
        var offset = headWrite
        let end = geo.flash.eraseBlockSize
        while offset < end {
            let n = min(scratch.bytes.count, end - offset)
            let chunk = scratch.bytes.slice(0, n)
            do throws(FlashError) { try flash.read(block: head, offset: offset, into: chunk) } catch { throw fail(error) }
            if !UnsafeRawBufferPointer(chunk).isErased() { return false }
            offset += n
        }
        return true
    }

    /// Applies the checkpoint that opens `block`, if it authenticates.
    private func loadCheckpoint(block: Int, seq: UInt64) throws(StoreError) -> Bool {
        guard case .fragment(let h, let at, _) = try scanStep(block: block, seq: seq, offset: geo.afterBlockHeaders),
              h.kind == StoreLayout.Kind.checkpoint.rawValue,
              Int(h.bodyLength) <= StoreLayout.checkpointFixedSize + StoreLayout.maxRetiredRanges * StoreLayout.rangeSize
        else { return false }
        let body = checkpointScratch.bytes.slice(0, Int(h.bodyLength))
        guard try readBody(block: block, seq: seq, offset: at, header: h, into: body) else { return false }
        return applyCheckpoint(UnsafeRawBufferPointer(body))
    }
}
