/// Unicode-scalar views of UTF-8 bytes, for the functions that count or cut
/// "characters" (`string-length`, `substr`, `regex`): XForms users count
/// what they see, not bytes. Strings reaching the VM are valid UTF-8 (the
/// instrument decoder and the answer store check); a stray byte still
/// counts as one scalar (U+FFFD) rather than trapping.
enum UTF8Scalars {
    /// Number of scalars: every byte that is not a continuation byte.
    static func count(_ bytes: UnsafeRawBufferPointer) -> Int {
        var n = 0
        var i = 0
        while i < bytes.count {
            if bytes[i] & 0xC0 != 0x80 { n += 1 }
            i += 1
        }
        return n
    }

    /// Byte offset of scalar `index` (0-based; `count` gives the end).
    static func offset(ofScalar index: Int, in bytes: UnsafeRawBufferPointer) -> Int {
        var seen = 0
        var i = 0
        while i < bytes.count {
            if bytes[i] & 0xC0 != 0x80 {
                if seen == index { return i }
                seen += 1
            }
            i += 1
        }
        return bytes.count
    }

    /// The scalar starting at byte `at` (< count) and its length in bytes.
    @inline(__always)
    static func decode(_ bytes: UnsafeRawBufferPointer, at: Int) -> (scalar: UInt32, length: Int) {
        let b0 = UInt32(bytes[at])
        if b0 < 0x80 { return (b0, 1) }
        let need: Int
        var value: UInt32
        if b0 & 0xE0 == 0xC0 { need = 1; value = b0 & 0x1F }
        else if b0 & 0xF0 == 0xE0 { need = 2; value = b0 & 0x0F }
        else if b0 & 0xF8 == 0xF0 { need = 3; value = b0 & 0x07 }
        else { return (0xFFFD, 1) }
        if at + need >= bytes.count { return (0xFFFD, 1) }
        var i = 1
        while i <= need {
            let b = UInt32(bytes[at + i])
            if b & 0xC0 != 0x80 { return (0xFFFD, 1) }
            value = value << 6 | (b & 0x3F)
            i += 1
        }
        return (value, need + 1)
    }
}
