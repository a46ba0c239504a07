/// Where a record's first fragment sits.
struct FragmentLocation {
    var block: Int
    var seq: UInt64
    var offset: Int
    var header: FragmentHeader
}

/// Reading records by id: a binary search over the ring by block base id
/// (O(log blocks) header reads), then a walk inside one block.
extension LogStore {
    /// Length of record `id`, from its authenticated first header.
    public func recordLength(_ id: UInt64) throws(StoreError) -> Int {
        try ensureOpen()
        return Int(try locate(id).header.totalLength)
    }

    /// Whether record `id` has been marked pulled.
    public func isPulled(_ id: UInt64) -> Bool { retired.contains(id) }

    /// Reads record `id` into `buffer` and returns its length. Every fragment
    /// is authenticated; a flipped bit anywhere gives `.recordCorrupt(id)`.
    public func read(_ id: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(StoreError) -> Int {
        try ensureOpen()
        var at = try locate(id)
        let total = Int(at.header.totalLength)
        guard buffer.count >= total else { throw .bufferTooSmall(needed: total) }
        var written = 0
        while true {
            let n = Int(at.header.bodyLength)
            guard written + n <= total,
                  try readBody(block: at.block, seq: at.seq, offset: at.offset, header: at.header,
                               into: buffer.slice(written, n)) else {
                C.zeroize(buffer.slice(0, total))
                throw lost(id)
            }
            written += n
            if at.header.isLast { break }
            guard let next = try nextFragment(of: at) else {
                C.zeroize(buffer.slice(0, total))
                throw lost(id)
            }
            at = next
        }
        guard written == total else {
            C.zeroize(buffer.slice(0, total))
            throw lost(id)
        }
        return total
    }

    /// A record that cannot be read whole is corrupt if it is still owed to
    /// the host; if it was pulled (or abandoned by a power cut) it is gone.
    private func lost(_ id: UInt64) -> StoreError {
        retired.contains(id) ? .recordNotFound(id) : .recordCorrupt(id)
    }

    /// Finds the first fragment of `id`.
    func locate(_ id: UInt64) throws(StoreError) -> FragmentLocation {
        guard hasLog, id >= 1, id < nextID, id >= retired.floor else { throw .recordNotFound(id) }
        // Largest ring distance whose block's base id is ≤ id.
        let span = ringDistance(from: tail, to: head)
        var lo = 0, hi = span
        var best: (Int, BlockHeader)?
        while lo <= hi {
            let mid = (lo + hi) / 2
            var d = mid
            var found: BlockHeader?
            while d <= hi {
                if let h = try readBlockHeader(ringAdvance(tail, by: d)) { found = h; break }
                d += 1
            }
            guard let h = found else { hi = mid - 1; continue }
            if h.baseID <= id {
                best = (ringAdvance(tail, by: d), h)
                lo = d + 1
            } else {
                hi = mid - 1
            }
        }
        guard var (block, header) = best else { throw .recordCorrupt(id) }
        // A record that spans blocks starts in an earlier one.
        while header.baseID == id && header.continues {
            guard let previous = try previousValidBlock(before: block) else { throw .recordCorrupt(id) }
            (block, header) = previous
        }
        // Walk the block for the first fragment of `id`.
        var offset = geo.afterBlockHeaders
        var sawDamage = false
        while true {
            switch try scanStep(block: block, seq: header.seq, offset: offset) {
            case .end:
                throw sawDamage || !retired.contains(id) ? .recordCorrupt(id) : .recordNotFound(id)
            case .garbage(_, let resume):
                sawDamage = true
                offset = resume
            case .fragment(let h, let at, let slot):
                if h.kind == StoreLayout.Kind.data.rawValue {
                    if h.recordID == id && h.isFirst {
                        return FragmentLocation(block: block, seq: header.seq, offset: at, header: h)
                    }
                    if h.recordID > id {
                        throw sawDamage || !retired.contains(id) ? .recordCorrupt(id) : .recordNotFound(id)
                    }
                }
                offset = at + slot
            }
        }
    }

    /// The fragment after `at` of the same record: the next data fragment in
    /// log order, which must carry the same id and the next index.
    func nextFragment(of at: FragmentLocation) throws(StoreError) -> FragmentLocation? {
        var block = at.block
        var seq = at.seq
        var offset = at.offset + geo.fragmentSlot(body: Int(at.header.bodyLength))
        while true {
            switch try scanStep(block: block, seq: seq, offset: offset) {
            case .end:
                guard block != head, let (next, header) = try nextValidBlock(after: block) else { return nil }
                block = next
                seq = header.seq
                offset = geo.afterBlockHeaders
            case .garbage(_, let resume):
                offset = resume
            case .fragment(let h, let pos, let slot):
                if h.kind == StoreLayout.Kind.data.rawValue {
                    guard h.recordID == at.header.recordID, h.index == at.header.index &+ 1, !h.isFirst else {
                        return nil
                    }
                    return FragmentLocation(block: block, seq: seq, offset: pos, header: h)
                }
                offset = pos + slot
            }
        }
    }
}

extension LogStore {
    /// Convenience for host code and tests: the record as an array.
    public func read(_ id: UInt64) throws(StoreError) -> [UInt8] {
        let length = try recordLength(id)
        var out = [UInt8](repeating: 0, count: length)
        var failure: StoreError?
        out.withUnsafeMutableBytes { b in
            do throws(StoreError) { _ = try read(id, into: b) } catch { failure = error }
        }
        if let failure { throw failure }
        return out
    }

    /// Convenience: appends an array.
    @discardableResult
    public func append(_ record: [UInt8]) throws(StoreError) -> UInt64 {
        var result: Result<UInt64, StoreError> = .failure(.closed)
        record.withUnsafeBytes { b in
            do throws(StoreError) { result = .success(try append(b)) } catch { result = .failure(error) }
        }
        return try result.get()
    }
}
