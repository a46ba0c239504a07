/// The superblock header's PIN guard field (Docs/store-format.md §2.1,
/// Docs/safety.md §2): how many PIN attempts in a row have failed.
///
/// It lives in the plaintext header, not in the encrypted log, because it
/// has to be read and written while the device is locked, before any key
/// exists. Every change moves the header to the twin block (generation + 1,
/// then the old block is erased), so an update is atomic under power loss:
/// after a cut the device sees either the old count or the new one, never a
/// torn value, and the CRC refuses anything else.
public struct PinGuard: Equatable, Sendable {
    /// Consecutive failed PIN attempts since the last successful unlock.
    public var failures: UInt32
    /// Reserved for future use; written as 0 and preserved on rewrite.
    public var flags: UInt32

    public init(failures: UInt32 = 0, flags: UInt32 = 0) {
        self.failures = failures
        self.flags = flags
    }

    public static let clear = PinGuard()

    /// u32 failures ‖ u32 flags ‖ u64 reserved (0), little-endian.
    func encode(into out: UnsafeMutableRawBufferPointer) {
        out.storeLE(failures, at: 0)
        out.storeLE(flags, at: 4)
        out.storeLE(UInt64(0), at: 8)
    }

    static func decode(_ b: UnsafeRawBufferPointer) -> PinGuard {
        PinGuard(failures: b.loadLE(at: 0), flags: b.loadLE(at: 4))
    }
}

/// 16 random bytes in the superblock header that the key wrapping
/// in-progress interview keys is derived from (with the data key). A header
/// move that replaces it erases the old value with the old block, so every
/// checkpoint written under it becomes undecryptable even to someone who
/// holds the data key: that is how a finished interview's checkpoints stop
/// being readable with a coerced PIN (Docs/safety.md §5).
public struct CheckpointEpoch: Equatable, Sendable {
    public var low: UInt64
    public var high: UInt64

    public init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    /// A fresh epoch from the suite's CSPRNG.
    public static func random<C: CryptoSuite>(_: C.Type) -> CheckpointEpoch {
        withUnsafeTemporaryAllocation(byteCount: 16, alignment: 8) { buf in
            C.randomBytes(buf)
            let e = decode(UnsafeRawBufferPointer(buf))
            C.zeroize(buf)
            return e
        }
    }

    /// The 16 bytes, little-endian (low first), for the duration of `body`.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeTemporaryAllocation(byteCount: 16, alignment: 8) { buf in
            encode(into: buf)
            return body(UnsafeRawBufferPointer(buf))
        }
    }

    func encode(into out: UnsafeMutableRawBufferPointer) {
        out.storeLE(low, at: 0)
        out.storeLE(high, at: 8)
    }

    static func decode(_ b: UnsafeRawBufferPointer) -> CheckpointEpoch {
        CheckpointEpoch(low: b.loadLE(at: 0), high: b.loadLE(at: 8))
    }
}
