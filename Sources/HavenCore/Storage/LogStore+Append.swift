/// Appending records, marking them pulled, and reclaiming space.
extension LogStore {
    /// Smallest fragment worth splitting a record for; below this the rest of
    /// the block is left empty.
    static var minimumSplit: Int { 256 }

    /// Appends a record and returns its id once it is durable. Allocates
    /// nothing. If this throws, the record is not visible (now or after a
    /// reboot).
    @discardableResult
    public func append(_ record: UnsafeRawBufferPointer) throws(StoreError) -> UInt64 {
        try ensureOpen()
        guard record.count <= maxRecordLength else { throw .recordTooLarge(record.count) }
        try ensureCapacity(for: record.count)
        let id = nextID
        let blockSize = geo.flash.eraseBlockSize
        var written = 0
        var index: UInt16 = 0
        do throws(StoreError) {
            repeat {
                if !hasLog || headClosed {
                    try openNextBlock(baseID: id, continues: index > 0)
                }
                let remaining = record.count - written
                let space = blockSize - headWrite
                var take: Int
                if geo.fragmentSlot(body: remaining) <= space {
                    take = remaining
                } else if geo.bodyCapacity(space: space) >= Self.minimumSplit {
                    take = geo.bodyCapacity(space: space)
                } else {
                    headClosed = true
                    continue
                }
                if take > remaining { take = remaining }
                var flags: UInt8 = index == 0 ? StoreLayout.flagFirst : 0
                if written + take == record.count { flags |= StoreLayout.flagLast }
                let header = FragmentHeader(kind: StoreLayout.Kind.data.rawValue, flags: flags, index: index,
                                            bodyLength: UInt32(take), recordID: id,
                                            totalLength: UInt32(record.count))
                if try writeFragment(header, body: record.slice(written, take)) {
                    written += take
                    index += 1
                }
            } while written < record.count || index == 0
            do throws(FlashError) { try flash.sync() } catch { throw fail(error) }
        } catch {
            // Fragments may already be on flash: retire the id so it is never
            // reused, and never append after them in this block.
            if isOpen {
                nextID = id + 1
                retired.insert(id, id + 1)
                headClosed = true
            }
            throw error
        }
        nextID = id + 1
        return id
    }

    /// Throws `.full` unless the record fits, reclaiming pulled blocks first
    /// if needed. Pure arithmetic over the fragmenting rule of `append`.
    func ensureCapacity(for length: Int) throws(StoreError) {
        // One block stays in reserve for "pulled" entries: recording a pull
        // must never need the space that only the pull can free.
        let reserve = 1
        if blocksNeeded(for: length) + reserve <= freeBlocks { return }
        _ = try collectGarbage()
        if blocksNeeded(for: length) + reserve > freeBlocks { throw .full }
    }

    func blocksNeeded(for length: Int) -> Int {
        let blockSize = geo.flash.eraseBlockSize
        var offset = hasLog && !headClosed ? headWrite : blockSize
        let fresh = geo.afterBlockHeaders + geo.checkpointSlot(ranges: retired.rangeCount + 1)
        var remaining = length
        var blocks = 0
        while geo.fragmentSlot(body: remaining) > blockSize - offset {
            let room = geo.bodyCapacity(space: blockSize - offset)
            if room >= Self.minimumSplit { remaining -= room }
            blocks += 1
            offset = fresh
        }
        return blocks
    }

    /// Marks `lower..<upper` as pulled: the host has them safely. Durable on return.
    public func markPulled(_ lower: UInt64, _ upper: UInt64) throws(StoreError) {
        try ensureOpen()
        guard lower >= 1, lower < upper, upper <= nextID else { throw .invalidRange(lower: lower, upper: upper) }
        if retired.containsAll(lower, upper) { return }
        guard retired.canInsert(lower, upper) else { throw .pulledSetTooFragmented }
        let bodySize = 8 + StoreLayout.rangeSize
        try withUnsafeTemporaryAllocation(byteCount: bodySize, alignment: 8) { (body) throws(StoreError) in
            body.storeLE(UInt32(1), at: 0)
            body.storeLE(UInt32(0), at: 4)
            body.storeLE(lower, at: 8)
            body.storeLE(upper, at: 16)
            let header = FragmentHeader(kind: StoreLayout.Kind.pulled.rawValue, flags: 0, index: 0,
                                        bodyLength: UInt32(bodySize), recordID: 0, totalLength: UInt32(bodySize))
            var done = false
            while !done {
                if !hasLog || headClosed || geo.fragmentSlot(body: bodySize) > geo.flash.eraseBlockSize - headWrite {
                    if freeBlocks == 0 { _ = try collectGarbage() }
                    try openNextBlock(baseID: nextID, continues: false)
                }
                done = try writeFragment(header, body: UnsafeRawBufferPointer(body))
            }
        }
        do throws(FlashError) { try flash.sync() } catch { throw fail(error) }
        retired.insert(lower, upper)
    }

    /// Marks one record pulled.
    public func markPulled(_ id: UInt64) throws(StoreError) {
        try markPulled(id, id &+ 1)
    }

    /// Reclaims blocks at the tail whose records are all pulled (or
    /// abandoned) and returns how many. The blocks are erased when the head
    /// next needs them, in ring order, which is what levels wear.
    @discardableResult
    public func collectGarbage() throws(StoreError) -> Int {
        try ensureOpen()
        guard hasLog else { return 0 }
        var reclaimed = 0
        var tailHeader = try readBlockHeader(tail)
        while tail != head {
            guard let (next, nextHeader) = try nextValidBlock(after: tail) else { break }
            if let th = tailHeader {
                let upper = nextHeader.continues ? nextHeader.baseID + 1 : nextHeader.baseID
                if !retired.containsAll(th.baseID, upper) { break }
            }
            tail = next
            tailSeq = nextHeader.seq
            tailHeader = nextHeader
            reclaimed += 1
        }
        if reclaimed > 0 {
            if let th = tailHeader { retired.raiseFloor(to: th.baseID) }
            try writeAnchor()
        }
        return reclaimed
    }
}
