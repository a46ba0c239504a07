/// A raw flash part: the whole contract between the store and a chip,
/// modelled on littlefs's block-device callbacks.
///
/// Rules every implementation enforces (they are the rules of NOR and NAND
/// parts, and the store is tested against them):
/// - `read` may read any byte range inside one block.
/// - `program` writes whole program units (offset and length multiples of
///   `geometry.programUnit`) and only over bytes that are erased (0xFF);
///   programming a byte twice without an erase is `.notErased`.
/// - `erase` sets a whole block to 0xFF. Blocks have finite endurance: a worn
///   block reports `.wornOut` from `erase` or `program`, and the caller must
///   stop using it.
/// - `sync` returns once everything programmed or erased so far is durable.
///
/// Classes (not values) because a flash part is a single shared resource.
public protocol Flash: AnyObject {
    var geometry: FlashGeometry { get }

    func read(block: Int, offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(FlashError)
    func program(block: Int, offset: Int, from data: UnsafeRawBufferPointer) throws(FlashError)
    func erase(block: Int) throws(FlashError)
    func sync() throws(FlashError)
}

/// Why a flash operation failed.
public enum FlashError: Error, Equatable, Sendable {
    /// A geometry that breaks the constraints of `FlashGeometry`.
    case invalidGeometry
    /// The range leaves the block or the part.
    case outOfBounds(block: Int, offset: Int, count: Int)
    /// Program offset or length is not a multiple of the program unit.
    case misaligned(block: Int, offset: Int, count: Int)
    /// A program over bytes that are not erased.
    case notErased(block: Int, offset: Int)
    /// The block has reached its endurance and can no longer be trusted.
    case wornOut(block: Int)
    /// Power was cut (fault injection): nothing after this operation happened.
    case powerLost
    /// The backing medium failed (an errno from the file or MTD driver).
    case io(code: Int32)
}

extension Flash {
    /// Checks a range against the geometry; shared by every implementation.
    @inline(__always)
    public func checkRange(block: Int, offset: Int, count: Int) throws(FlashError) {
        let g = geometry
        guard block >= 0, block < g.blockCount, offset >= 0, count >= 0,
              offset <= g.eraseBlockSize, count <= g.eraseBlockSize - offset else {
            throw .outOfBounds(block: block, offset: offset, count: count)
        }
    }

    /// Checks the alignment rule for `program`.
    @inline(__always)
    public func checkProgramAlignment(block: Int, offset: Int, count: Int) throws(FlashError) {
        let unit = geometry.programUnit
        guard offset & (unit - 1) == 0, count & (unit - 1) == 0 else {
            throw .misaligned(block: block, offset: offset, count: count)
        }
    }
}
