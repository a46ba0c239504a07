/// The shape of a flash part, as a board profile states it.
///
/// Constraints (checked by `init`):
/// - `programUnit` is a power of two, at least 1: the smallest region that can
///   be programmed, and the alignment of every program offset and length.
/// - `eraseBlockSize` is a multiple of `programUnit`: erase always clears a
///   whole block to 0xFF.
/// - `blockCount` is the number of erase blocks.
public struct FlashGeometry: Equatable, Sendable {
    public let programUnit: Int
    public let eraseBlockSize: Int
    public let blockCount: Int

    public init(programUnit: Int, eraseBlockSize: Int, blockCount: Int) throws(FlashError) {
        guard programUnit >= 1, programUnit & (programUnit - 1) == 0, programUnit <= 4096 else {
            throw .invalidGeometry
        }
        guard eraseBlockSize >= programUnit, eraseBlockSize % programUnit == 0,
              eraseBlockSize <= 1 << 24 else {
            throw .invalidGeometry
        }
        guard blockCount >= 1, blockCount <= 1 << 20 else { throw .invalidGeometry }
        self.programUnit = programUnit
        self.eraseBlockSize = eraseBlockSize
        self.blockCount = blockCount
    }

    /// Total size in bytes.
    public var totalSize: Int { eraseBlockSize * blockCount }

    /// `value` rounded up to the next multiple of the program unit.
    @inline(__always)
    public func alignUp(_ value: Int) -> Int {
        (value + programUnit - 1) & ~(programUnit - 1)
    }
}
