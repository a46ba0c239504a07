/// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
/// U+10FFFF. Instruments and saved interview states are hostile input, and
/// every string the engine shows, stores or records must be well-formed, so
/// a renderer or an exporter never meets a malformed sequence.
enum UTF8Validation {
    /// Offset of the first byte of the first malformed sequence, or nil
    /// when all of `bytes` is well-formed.
    static func firstInvalid(_ bytes: UnsafeRawBufferPointer) -> Int? {
        let n = bytes.count
        var i = 0
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 {
                i += 1
                continue
            }
            var need = 0
            var lowest: UInt32 = 0
            var scalar: UInt32 = 0
            if b0 >= 0xC2 && b0 <= 0xDF {
                need = 1; lowest = 0x80; scalar = UInt32(b0 & 0x1F)
            } else if b0 >= 0xE0 && b0 <= 0xEF {
                need = 2; lowest = 0x800; scalar = UInt32(b0 & 0x0F)
            } else if b0 >= 0xF0 && b0 <= 0xF4 {
                need = 3; lowest = 0x10000; scalar = UInt32(b0 & 0x07)
            } else {
                return i
            }
            if n - i <= need { return i }
            var k = 1
            while k <= need {
                let b = bytes[i + k]
                if !isContinuation(b) { return i }
                scalar = scalar << 6 | UInt32(b & 0x3F)
                k += 1
            }
            if scalar < lowest || scalar > 0x10FFFF || (scalar >= 0xD800 && scalar <= 0xDFFF) { return i }
            i += need + 1
        }
        return nil
    }

    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool { firstInvalid(bytes) == nil }

    @inline(__always)
    static func isContinuation(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }

    /// The largest prefix length ≤ `limit` of well-formed `bytes` that does
    /// not cut a character in two (for truncating display text).
    static func boundary(_ bytes: UnsafeRawBufferPointer, atMost limit: Int) -> Int {
        if limit >= bytes.count { return bytes.count }
        var cut = max(limit, 0)
        while cut > 0 && isContinuation(bytes[cut]) { cut -= 1 }
        return cut
    }
}
