/// Reads a saved interview state: bounds-checked little-endian fields,
/// each failure naming the byte offset.
struct StateReader {
    let bytes: UnsafeRawBufferPointer
    var offset: Int

    mutating func need(_ n: Int) throws(InterviewError) {
        guard n <= bytes.count - offset else { throw .stateTruncated(offset: offset) }
    }

    mutating func u8() throws(InterviewError) -> UInt8 {
        try need(1)
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws(InterviewError) -> UInt16 {
        try need(2)
        defer { offset += 2 }
        return bytes.loadLE(UInt16.self, at: offset)
    }

    mutating func u32() throws(InterviewError) -> UInt32 {
        try need(4)
        defer { offset += 4 }
        return bytes.loadLE(UInt32.self, at: offset)
    }

    mutating func u64() throws(InterviewError) -> UInt64 {
        try need(8)
        defer { offset += 8 }
        return bytes.loadLE(UInt64.self, at: offset)
    }

    mutating func take(_ n: Int) throws(InterviewError) -> UnsafeRawBufferPointer {
        try need(n)
        defer { offset += n }
        return bytes.slice(offset, n)
    }
}
