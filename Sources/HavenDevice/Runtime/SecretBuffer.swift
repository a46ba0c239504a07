import Glibc
import HavenCore
import HavenSodium

/// A fixed heap buffer for bytes that may be secret (PINs, answers on their
/// way in or out, the device secret): allocated once, never grown or copied,
/// zeroized with `Sodium.zeroize` when asked and when freed. The simulator
/// moves every answer through buffers like this one instead of Swift
/// strings, so nothing of an interview survives in freed heap memory
/// (the `debug-scan` command checks it).
public final class SecretBuffer {
    public let bytes: UnsafeMutableRawBufferPointer
    /// Bytes in use from the start.
    public var count = 0

    public init(capacity: Int) {
        bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(capacity, 1), alignment: 16)
        bytes.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit {
        Sodium.zeroize(bytes)
        bytes.deallocate()
    }

    public var capacity: Int { bytes.count }

    /// The bytes in use.
    public var used: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[0..<count]) }

    /// Appends if it fits; false (and nothing written) otherwise.
    @discardableResult
    public func append(_ data: UnsafeRawBufferPointer) -> Bool {
        guard data.count <= capacity - count else { return false }
        if let base = data.baseAddress, data.count > 0 {
            (bytes.baseAddress! + count).copyMemory(from: base, byteCount: data.count)
        }
        count += data.count
        return true
    }

    @discardableResult
    public func append(byte: UInt8) -> Bool {
        guard count < capacity else { return false }
        bytes[count] = byte
        count += 1
        return true
    }

    /// Drops the last UTF-8 scalar (backspace).
    public func removeLastScalar() {
        while count > 0 {
            count -= 1
            let b = bytes[count]
            bytes[count] = 0
            if b & 0xC0 != 0x80 { break }
        }
    }

    /// Zeroizes the used part (enough when every use ends with a wipe).
    public func wipeUsed() {
        if count > 0 { Sodium.zeroize(UnsafeMutableRawBufferPointer(rebasing: bytes[0..<count])) }
        count = 0
    }

    /// Zeroizes everything (not only the used part: earlier, longer contents too).
    public func wipe() {
        Sodium.zeroize(bytes)
        count = 0
    }
}
