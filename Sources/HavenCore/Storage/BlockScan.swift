/// The decoded body of a block header (`Docs/store-format.md` §3.1).
struct BlockHeader: Equatable {
    var seq: UInt64
    var baseID: UInt64
    var eraseCount: UInt32
    var flags: UInt32

    var continues: Bool { flags & StoreLayout.blockFlagContinues != 0 }

    func encode(into b: UnsafeMutableRawBufferPointer) {
        b.storeLE(seq, at: 0)
        b.storeLE(baseID, at: 8)
        b.storeLE(eraseCount, at: 16)
        b.storeLE(flags, at: 20)
        b.storeLE(UInt64(0), at: 24)
    }

    static func decode(_ b: UnsafeRawBufferPointer) -> BlockHeader {
        BlockHeader(seq: b.loadLE(at: 0), baseID: b.loadLE(at: 8), eraseCount: b.loadLE(at: 16),
                    flags: b.loadLE(at: 20))
    }
}

/// One step of walking the fragments of a block.
enum ScanStep {
    /// A fragment whose header authenticated, at `offset`, `slot` bytes long.
    case fragment(FragmentHeader, offset: Int, slot: Int)
    /// Bytes at `offset` that are neither erased nor a valid fragment (torn
    /// write or bit flip); scanning resumes at `resume`.
    case garbage(offset: Int, resume: Int)
    /// Erased from `offset` to the end of the block.
    case end(offset: Int)
}
