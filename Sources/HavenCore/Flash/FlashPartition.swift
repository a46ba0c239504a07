/// A contiguous range of blocks of another flash part, seen as a flash part
/// of its own (block 0 of the partition is block `firstBlock` of the part).
///
/// Why: one chip holds both the log store and the config area
/// (Docs/config-format.md §5). Each gets a partition, so neither can reach
/// the other's blocks whatever its bugs: every operation is range-checked
/// against the partition's own geometry before it is forwarded.
public final class FlashPartition<F: Flash>: Flash {
    public let base: F
    public let firstBlock: Int
    public let geometry: FlashGeometry

    /// Blocks `firstBlock ..< firstBlock + blockCount` of `base`.
    public init(_ base: F, firstBlock: Int, blockCount: Int) throws(FlashError) {
        let g = base.geometry
        guard firstBlock >= 0, blockCount >= 1, firstBlock <= g.blockCount - blockCount else {
            throw .invalidGeometry
        }
        self.base = base
        self.firstBlock = firstBlock
        geometry = try FlashGeometry(programUnit: g.programUnit, eraseBlockSize: g.eraseBlockSize,
                                     blockCount: blockCount)
    }

    public func read(block: Int, offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(FlashError) {
        try checkRange(block: block, offset: offset, count: buffer.count)
        do throws(FlashError) {
            try base.read(block: firstBlock + block, offset: offset, into: buffer)
        } catch {
            throw local(error)
        }
    }

    public func program(block: Int, offset: Int, from data: UnsafeRawBufferPointer) throws(FlashError) {
        try checkRange(block: block, offset: offset, count: data.count)
        do throws(FlashError) {
            try base.program(block: firstBlock + block, offset: offset, from: data)
        } catch {
            throw local(error)
        }
    }

    public func erase(block: Int) throws(FlashError) {
        try checkRange(block: block, offset: 0, count: 0)
        do throws(FlashError) {
            try base.erase(block: firstBlock + block)
        } catch {
            throw local(error)
        }
    }

    public func sync() throws(FlashError) { try base.sync() }

    /// Errors name blocks in the partition's numbering, as its user knows them.
    private func local(_ error: FlashError) -> FlashError {
        switch error {
        case .outOfBounds(let b, let o, let c): return .outOfBounds(block: b - firstBlock, offset: o, count: c)
        case .misaligned(let b, let o, let c): return .misaligned(block: b - firstBlock, offset: o, count: c)
        case .notErased(let b, let o): return .notErased(block: b - firstBlock, offset: o)
        case .wornOut(let b): return .wornOut(block: b - firstBlock)
        default: return error
        }
    }
}
