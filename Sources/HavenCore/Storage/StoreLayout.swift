/// Sizes and offsets of the on-flash format, version 1. `Docs/store-format.md`
/// is the specification; this file is its single copy in code.
public enum StoreLayout {
    public static let formatVersion: UInt16 = 1

    /// Blocks 0 and 1 are the superblock pair; the log ring is the rest.
    public static let superblockCount = 2
    public static let minimumRingBlocks = 3

    // MARK: Superblock header (plaintext, CRC-protected)
    public static let superMagic: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
        (0x48, 0x41, 0x56, 0x4E, 0x53, 0x54, 0x4F, 0x52)  // "HAVNSTOR"
    public static let keySlotCount = 4
    public static let keySlotSize = 112
    public static let keyCheckOffset = 32
    public static let keyCheckSize = 16
    public static let slotsOffset = 48
    /// The PIN guard (Docs/safety.md §2): u32 consecutive failed PIN
    /// attempts, u32 flags, u64 reserved. Plaintext so it can be read and
    /// written while the device is locked; the CRC makes a torn write
    /// visible and the power-safe header move makes every update atomic.
    public static let pinGuardOffset = slotsOffset + keySlotCount * keySlotSize  // 496
    public static let pinGuardSize = 16
    /// The checkpoint epoch: 16 random bytes mixed into the key that wraps
    /// in-progress interview keys. Replacing it (a header move erases the
    /// old copy) makes every earlier checkpoint undecryptable, even with the
    /// data key (Docs/safety.md §5).
    public static let checkpointEpochOffset = pinGuardOffset + pinGuardSize  // 512
    public static let checkpointEpochSize = 16
    public static let superHeaderBodySize = checkpointEpochOffset + checkpointEpochSize  // 528
    public static let superHeaderSize = superHeaderBodySize + 4  // + CRC-32 = 532

    // MARK: Anchors (encrypted, appended after the superblock header)
    public static let anchorPlainSize = 48
    public static let anchorSealedSize = CryptoSizes.xNonce + anchorPlainSize + CryptoSizes.tag  // 88

    // MARK: Fragments (everything in the log ring)
    public static let fragmentHeaderPlainSize = 24
    /// nonce ‖ encrypted header: what must be read to learn a fragment's shape.
    public static let fragmentHeaderSealedSize = CryptoSizes.xNonce + fragmentHeaderPlainSize  // 48

    public static let blockHeaderBodySize = 32
    public static let checkpointFixedSize = 24
    public static let rangeSize = 16
    /// Retired-id ranges a checkpoint (and the RAM set) can hold.
    public static let maxRetiredRanges = 64

    /// Fragment kinds.
    public enum Kind: UInt8 {
        case blockHeader = 1
        case checkpoint = 2
        case data = 3
        case pulled = 4
    }

    public static let flagFirst: UInt8 = 1
    public static let flagLast: UInt8 = 2
    public static let blockFlagContinues: UInt32 = 1
}

/// Derived sizes for one geometry.
public struct StoreGeometry: Sendable {
    public let flash: FlashGeometry
    /// Aligned size of one block-header copy; two copies open every block.
    public let blockHeaderSlot: Int
    /// Aligned size of one copy of a fragment's nonce ‖ sealed header. Two
    /// copies precede the body, each in units of its own, so the body is
    /// programmed first and the headers last: a header that authenticates
    /// proves its body was fully programmed (the header is the commit), and
    /// the second copy tells a bit flip in the first from a torn commit.
    public let fragmentHeaderSlot: Int
    /// Where a fragment's body starts: after both header copies.
    public var bodyOffset: Int { 2 * fragmentHeaderSlot }
    /// Aligned size of the superblock header; anchors start here.
    public let anchorsOffset: Int
    /// Aligned size of one anchor entry.
    public let anchorSlot: Int
    public let anchorsPerSuperblock: Int
    public var ringStart: Int { StoreLayout.superblockCount }
    public var ringCount: Int { flash.blockCount - StoreLayout.superblockCount }

    public init(_ flash: FlashGeometry) throws(StoreError) {
        self.flash = flash
        fragmentHeaderSlot = flash.alignUp(StoreLayout.fragmentHeaderSealedSize)
        blockHeaderSlot = 2 * fragmentHeaderSlot + flash.alignUp(StoreLayout.blockHeaderBodySize + CryptoSizes.tag)
        anchorsOffset = flash.alignUp(StoreLayout.superHeaderSize)
        anchorSlot = flash.alignUp(StoreLayout.anchorSealedSize)
        anchorsPerSuperblock = (flash.eraseBlockSize - anchorsOffset) / anchorSlot
        guard flash.blockCount >= StoreLayout.superblockCount + StoreLayout.minimumRingBlocks,
              anchorsPerSuperblock >= 2,
              flash.eraseBlockSize >= 2 * blockHeaderSlot
                + 4 * fragmentHeaderSlot
                + flash.alignUp(CryptoSizes.tag + StoreLayout.checkpointFixedSize
                                + StoreLayout.maxRetiredRanges * StoreLayout.rangeSize)
                + flash.alignUp(CryptoSizes.tag + 256),
              flash.eraseBlockSize <= Int(Int32.max) else {
            throw .geometryTooSmall
        }
    }

    /// First byte after the two block-header copies.
    public var afterBlockHeaders: Int { 2 * blockHeaderSlot }

    /// Aligned size of a fragment with `body` bytes.
    @inline(__always)
    public func fragmentSlot(body: Int) -> Int { bodyOffset + flash.alignUp(body + CryptoSizes.tag) }

    /// The largest body whose fragment fits in `space` bytes (space aligned).
    @inline(__always)
    public func bodyCapacity(space: Int) -> Int { space - bodyOffset - CryptoSizes.tag }

    public func checkpointSlot(ranges: Int) -> Int {
        fragmentSlot(body: StoreLayout.checkpointFixedSize + ranges * StoreLayout.rangeSize)
    }
}
