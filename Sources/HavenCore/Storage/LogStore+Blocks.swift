/// Block headers, fragment scanning, and writing single fragments.
extension LogStore {
    /// Reads a block's header, trying the second copy when the first fails.
    /// Nil for an erased block, another key's block, or a damaged one.
    func readBlockHeader(_ block: Int) throws(StoreError) -> BlockHeader? {
        let need = geo.blockHeaderSlot
        for copy in 0..<2 {
            let offset = copy * geo.blockHeaderSlot
            let header: BlockHeader? = try withUnsafeTemporaryAllocation(byteCount: need + 32, alignment: 16) {
                (buf) throws(StoreError) -> BlockHeader? in
                let sealed = buf.slice(0, need)
                do throws(FlashError) { try flash.read(block: block, offset: offset, into: sealed) } catch { throw fail(error) }
                let s = UnsafeRawBufferPointer(sealed)
                if copy == 0, s.slice(0, StoreLayout.fragmentHeaderSealedSize).isErased() { return nil }
                guard let h = codec.openEitherHeader(s, block: block, offset: offset, seq: 0),
                      h.kind == StoreLayout.Kind.blockHeader.rawValue,
                      h.bodyLength == UInt32(StoreLayout.blockHeaderBodySize) else { return nil }
                let body = buf.slice(need, 32)
                guard codec.openBody(s, header: h, block: block, offset: offset, seq: 0, into: body) else { return nil }
                return BlockHeader.decode(UnsafeRawBufferPointer(body))
            }
            if let header { return header }
        }
        return nil
    }

    /// Reads the fragment header at `offset` of `block` (sequence `seq`); on
    /// damage, finds where valid data or erased space resumes.
    func scanStep(block: Int, seq: UInt64, offset: Int) throws(StoreError) -> ScanStep {
        let size = StoreLayout.fragmentHeaderSealedSize
        let blockSize = geo.flash.eraseBlockSize
        let buf = headerScratch.bytes.slice(0, size)
        var probe = offset
        while probe + size <= blockSize {
            do throws(FlashError) { try flash.read(block: block, offset: probe, into: buf) } catch { throw fail(error) }
            let s = UnsafeRawBufferPointer(buf)
            if s.isErased() {
                return probe == offset ? .end(offset: offset) : .garbage(offset: offset, resume: probe)
            }
            var header = codec.openHeader(s, block: block, offset: probe, seq: seq)
            if header == nil && probe + geo.fragmentHeaderSlot + size <= blockSize {
                // The first copy is damaged: the second says whether this
                // fragment was committed (it is programmed after the first).
                do throws(FlashError) {
                    try flash.read(block: block, offset: probe + geo.fragmentHeaderSlot, into: buf)
                } catch { throw fail(error) }
                header = codec.openHeader(UnsafeRawBufferPointer(buf), block: block, offset: probe, seq: seq)
                header?.copy = 1
            }
            if let h = header {
                let slot = geo.fragmentSlot(body: Int(h.bodyLength))
                if Int(h.bodyLength) <= blockSize && probe + slot <= blockSize {
                    return probe == offset ? .fragment(h, offset: offset, slot: slot)
                                           : .garbage(offset: offset, resume: probe)
                }
            }
            probe += geo.flash.programUnit
        }
        return probe == offset ? .end(offset: offset) : .garbage(offset: offset, resume: blockSize)
    }

    /// Reads a fragment's body into `out` (at least `bodyLength` bytes).
    func readBody(block: Int, seq: UInt64, offset: Int, header: FragmentHeader,
                  into out: UnsafeMutableRawBufferPointer) throws(StoreError) -> Bool {
        let sealedSize = geo.bodyOffset + Int(header.bodyLength) + CryptoSizes.tag
        let sealed = scratch.bytes.slice(0, sealedSize)
        do throws(FlashError) { try flash.read(block: block, offset: offset, into: sealed) } catch { throw fail(error) }
        return codec.openBody(UnsafeRawBufferPointer(sealed), header: header, block: block, offset: offset,
                              seq: seq, into: out)
    }

    /// Seals and programs one fragment at the head's write offset. Returns
    /// false when the block refused the write (worn out): the head is closed
    /// and the caller retries in a new block.
    func writeFragment(_ header: FragmentHeader, body: UnsafeRawBufferPointer) throws(StoreError) -> Bool {
        let slot = geo.fragmentSlot(body: body.count)
        precondition(headWrite + slot <= geo.flash.eraseBlockSize, "fragment overflows the block")
        let out = scratch.bytes.slice(0, slot)
        codec.seal(header: header, body: body, block: head, offset: headWrite, seq: headHeader.seq, into: out)
        // Body first, header last: the header is the commit.
        let headerSlot = geo.fragmentHeaderSlot
        let bodyOffset = geo.bodyOffset
        do throws(FlashError) {
            try flash.program(block: head, offset: headWrite + bodyOffset,
                              from: UnsafeRawBufferPointer(out.slice(bodyOffset, slot - bodyOffset)))
            // Both copies in one operation: units are programmed in order, so
            // a cut leaves copy 1 whole (or torn) before copy 2 is touched.
            try flash.program(block: head, offset: headWrite, from: UnsafeRawBufferPointer(out.slice(0, bodyOffset)))
        } catch {
            if error == .powerLost { throw fail(error) }
            headClosed = true
            return false
        }
        headWrite += slot
        return true
    }

    /// The next block after `block` with a valid header, not going past `head`.
    func nextValidBlock(after block: Int) throws(StoreError) -> (Int, BlockHeader)? {
        var b = block
        while b != head {
            b = ringNext(b)
            if let h = try readBlockHeader(b) { return (b, h) }
        }
        return nil
    }

    /// The previous block before `block` with a valid header, not going past `tail`.
    func previousValidBlock(before block: Int) throws(StoreError) -> (Int, BlockHeader)? {
        var b = block
        while b != tail {
            b = ringPrevious(b)
            if let h = try readBlockHeader(b) { return (b, h) }
        }
        return nil
    }

    /// Opens the block after the head: erase, two header copies, checkpoint,
    /// anchor. Skips blocks that are worn out; reclaims from the tail when
    /// the ring is full.
    func openNextBlock(baseID: UInt64, continues: Bool) throws(StoreError) {
        var candidate = hasLog ? ringNext(head) : geo.ringStart
        var attempts = 0
        while attempts < geo.ringCount {
            attempts += 1
            if hasLog && candidate == tail {
                _ = try collectGarbage()
                if candidate == tail { throw .full }
            }
            let old = try readBlockHeader(candidate)
            let header = BlockHeader(seq: hasLog ? headHeader.seq + 1 : 1, baseID: baseID,
                                     eraseCount: (old?.eraseCount ?? 0) &+ 1,
                                     flags: continues ? StoreLayout.blockFlagContinues : 0)
            do throws(FlashError) {
                try flash.erase(block: candidate)
            } catch {
                if error == .powerLost { throw fail(error) }
                candidate = ringNext(candidate)
                continue
            }
            if try !programBlockHeaders(header, block: candidate) {
                candidate = ringNext(candidate)
                continue
            }
            head = candidate
            headHeader = header
            headWrite = geo.afterBlockHeaders
            headClosed = false
            if !hasLog {
                hasLog = true
                tail = candidate
                tailSeq = header.seq
            }
            if try !writeCheckpoint() {
                candidate = ringNext(candidate)
                continue
            }
            try writeAnchor()
            return
        }
        throw .full
    }

    /// Both header copies in one program operation.
    private func programBlockHeaders(_ header: BlockHeader, block: Int) throws(StoreError) -> Bool {
        let slot = geo.blockHeaderSlot
        let out = scratch.bytes.slice(0, 2 * slot)
        let frag = FragmentHeader(kind: StoreLayout.Kind.blockHeader.rawValue, flags: 0, index: 0,
                                  bodyLength: UInt32(StoreLayout.blockHeaderBodySize), recordID: 0,
                                  totalLength: UInt32(StoreLayout.blockHeaderBodySize))
        withUnsafeTemporaryAllocation(byteCount: StoreLayout.blockHeaderBodySize, alignment: 8) { body in
            header.encode(into: body)
            for copy in 0..<2 {
                codec.seal(header: frag, body: UnsafeRawBufferPointer(body), block: block, offset: copy * slot,
                           seq: 0, into: out.slice(copy * slot, slot))
            }
        }
        do throws(FlashError) {
            try flash.program(block: block, offset: 0, from: UnsafeRawBufferPointer(out))
        } catch {
            if error == .powerLost { throw fail(error) }
            return false
        }
        return true
    }

    /// Checkpoint body: next id u64, floor u64, range count u32, reserved u32,
    /// then (lower u64, upper u64) per range.
    private func writeCheckpoint() throws(StoreError) -> Bool {
        let n = retired.rangeCount
        let size = StoreLayout.checkpointFixedSize + n * StoreLayout.rangeSize
        let body = checkpointScratch.bytes.slice(0, size)
        body.storeLE(nextID, at: 0)
        body.storeLE(retired.floor, at: 8)
        body.storeLE(UInt32(n), at: 16)
        body.storeLE(UInt32(0), at: 20)
        for i in 0..<n {
            body.storeLE(retired.lower(i), at: 24 + 16 * i)
            body.storeLE(retired.upper(i), at: 32 + 16 * i)
        }
        let header = FragmentHeader(kind: StoreLayout.Kind.checkpoint.rawValue, flags: 0, index: 0,
                                    bodyLength: UInt32(size), recordID: 0, totalLength: UInt32(size))
        return try writeFragment(header, body: UnsafeRawBufferPointer(body))
    }

    /// Applies a checkpoint body; false if it is malformed.
    func applyCheckpoint(_ body: UnsafeRawBufferPointer) -> Bool {
        guard body.count >= StoreLayout.checkpointFixedSize else { return false }
        let n = Int(body.loadLE(UInt32.self, at: 16))
        guard n <= StoreLayout.maxRetiredRanges,
              body.count == StoreLayout.checkpointFixedSize + n * StoreLayout.rangeSize else { return false }
        let next: UInt64 = body.loadLE(at: 0)
        let floor: UInt64 = body.loadLE(at: 8)
        guard next >= 1, floor >= 1, floor <= next else { return false }
        nextID = max(nextID, next)
        retired.removeAll()
        retired.raiseFloor(to: floor)
        for i in 0..<n {
            let lo: UInt64 = body.loadLE(at: 24 + 16 * i)
            let hi: UInt64 = body.loadLE(at: 32 + 16 * i)
            if lo < hi { retired.insert(lo, hi) }
        }
        return true
    }

    /// Applies a "pulled" body: count u32, reserved u32, then ranges.
    func applyPulled(_ body: UnsafeRawBufferPointer) {
        guard body.count >= 8 else { return }
        let n = Int(body.loadLE(UInt32.self, at: 0))
        guard body.count == 8 + n * StoreLayout.rangeSize else { return }
        for i in 0..<n {
            let lo: UInt64 = body.loadLE(at: 8 + 16 * i)
            let hi: UInt64 = body.loadLE(at: 16 + 16 * i)
            if lo < hi { retired.insert(lo, hi) }
        }
    }
}
