/// Everything the store can report. Each case says what and where, so the
/// host can show a person something to act on.
public enum StoreError: Error, Equatable, Sendable {
    /// The flash failed underneath (including a power cut in tests).
    case flash(FlashError)
    /// Both superblocks are blank: this part has never been formatted (or it
    /// was crypto-erased).
    case notFormatted
    /// Neither superblock carries Haven's magic: random bytes, zeros or
    /// another system's image.
    case unrecognizedImage
    /// The image was written by a newer format version.
    case unsupportedVersion(UInt16)
    /// The image was formatted for a different flash shape than this board's.
    case geometryMismatch
    /// The geometry is too small for the store (needs 2 superblocks + 3 log
    /// blocks, and blocks big enough for a header and one fragment).
    case geometryTooSmall
    /// The data key does not match the one this store was formatted with.
    case wrongKey
    /// No key slot opened with the key-encryption key offered.
    case noMatchingKeySlot
    /// A key-slot index outside the table.
    case invalidKeySlot(Int)
    /// Store metadata (anchors, block headers) is damaged beyond recovery.
    case metadataCorrupt(block: Int)
    /// No record with this id (never written, abandoned by a power cut, or
    /// reclaimed after it was pulled).
    case recordNotFound(UInt64)
    /// The record exists but failed authentication: a bit flipped or the
    /// flash was tampered with. The rest of the store is unaffected.
    case recordCorrupt(UInt64)
    /// The caller's buffer is smaller than the record.
    case bufferTooSmall(needed: Int)
    /// Record larger than the store accepts (`LogStore.maxRecordLength`).
    case recordTooLarge(Int)
    /// Not enough reclaimable space: pull and acknowledge records first.
    case full
    /// The set of pulled ids is too fragmented to record; acknowledge the
    /// gaps (or older records) first.
    case pulledSetTooFragmented
    /// An id range that is empty or includes ids never issued.
    case invalidRange(lower: UInt64, upper: UInt64)
    /// The store was closed or crypto-erased, or a power cut hit it: mount again.
    case closed
}
