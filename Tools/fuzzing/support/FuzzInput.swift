// Shared by every fuzz target (compiled into each one): turns libFuzzer's
// (pointer, length) into bytes, and carves structured pieces out of them.

/// The input as an array (libFuzzer may pass a null pointer with size 0).
func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// Reads pieces from the front of an input; past the end it yields zeros
/// and empty slices, so every input is a valid script.
struct FuzzReader {
    let bytes: [UInt8]
    var at = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var remaining: Int { bytes.count - at }
    mutating func u8() -> UInt8 {
        guard at < bytes.count else { return 0 }
        defer { at += 1 }
        return bytes[at]
    }
    mutating func u16() -> UInt16 { UInt16(u8()) | UInt16(u8()) << 8 }
    mutating func take(_ n: Int) -> [UInt8] {
        let k = max(0, min(n, remaining))
        defer { at += k }
        return Array(bytes[at..<(at + k)])
    }
    mutating func rest() -> [UInt8] { take(remaining) }
}
