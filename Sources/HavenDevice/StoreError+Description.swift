import HavenCore

/// Messages a person can act on, for errors the core reports as values
/// (the core itself has no strings to spare on a microcontroller).
extension StoreError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .flash(let error): return "flash: \(error)"
        case .notFormatted: return "the flash image is blank: this device has not been provisioned (or it was crypto-erased)"
        case .unrecognizedImage: return "the flash image is not a Haven store (no Haven superblock: random data, zeros or another system's image)"
        case .unsupportedVersion(let v): return "the flash image uses store format version \(v), which this build does not know; update the software, do not reformat"
        case .geometryMismatch: return "the flash image was formatted for a different flash geometry than this board profile (check --board)"
        case .geometryTooSmall: return "the flash geometry is too small for the store (needs 5 blocks of at least about 3 KiB)"
        case .wrongKey: return "the data key does not belong to this store"
        case .noMatchingKeySlot: return "wrong PIN or key: no key slot opened"
        case .invalidKeySlot(let i): return "key slot \(i) does not exist"
        case .metadataCorrupt(let block): return "store metadata in block \(block) is damaged"
        case .recordNotFound(let id): return "record \(id) does not exist (never written, abandoned by a power cut, or pulled and reclaimed)"
        case .recordCorrupt(let id): return "record \(id) failed authentication (a flipped bit or tampering); other records are unaffected"
        case .bufferTooSmall(let needed): return "buffer too small: record needs \(needed) bytes"
        case .recordTooLarge(let n): return "record of \(n) bytes is larger than the store accepts"
        case .full: return "the store is full: pull and acknowledge records to free space"
        case .pulledSetTooFragmented: return "too many separate pulled ranges: acknowledge the gaps first"
        case .invalidRange(let lo, let hi): return "invalid record range \(lo)..<\(hi)"
        case .closed: return "the store is closed (locked, erased, or after a power cut): mount it again"
        }
    }
}

extension FlashError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalidGeometry: return "invalid flash geometry"
        case .outOfBounds(let b, let o, let n): return "access outside the flash: block \(b), offset \(o), \(n) bytes"
        case .misaligned(let b, let o, let n): return "program not aligned to the program unit: block \(b), offset \(o), \(n) bytes"
        case .notErased(let b, let o): return "program over bytes that are not erased: block \(b), offset \(o)"
        case .wornOut(let b): return "block \(b) is worn out"
        case .powerLost: return "power lost"
        case .io(let code): return "I/O error \(code)"
        }
    }
}
