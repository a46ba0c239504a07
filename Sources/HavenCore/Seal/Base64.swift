/// Standard base64 (RFC 4648 §4) without `=` padding, as the age v1 header
/// uses it: encoding into a caller's buffer, and a strict decoder that
/// accepts only the canonical encoding (RFC 4648 §3.5) — no padding, no
/// characters outside the alphabet (line breaks and spaces included), and
/// zero bits in the unused low bits of the last character. Both directions
/// are allocation-free and table-free (no global arrays to initialise).
public enum Base64 {
    /// Characters needed for `byteCount` bytes, unpadded.
    @inline(__always)
    public static func encodedCount(_ byteCount: Int) -> Int {
        precondition(byteCount >= 0, "negative byte count")
        let rest = byteCount % 3
        return byteCount / 3 * 4 + (rest == 0 ? 0 : rest + 1)
    }

    /// Bytes `characterCount` characters decode to, or nil when no canonical
    /// unpadded encoding has that length (`count % 4 == 1`).
    @inline(__always)
    public static func decodedCount(_ characterCount: Int) -> Int? {
        guard characterCount >= 0 else { return nil }
        switch characterCount % 4 {
        case 0: return characterCount / 4 * 3
        case 2: return characterCount / 4 * 3 + 1
        case 3: return characterCount / 4 * 3 + 2
        default: return nil
        }
    }

    /// Writes the encoding of `input` to the start of `output` and returns
    /// the number of characters written (`encodedCount(input.count)`).
    /// `output` must hold at least that many bytes and must not overlap
    /// `input`.
    @discardableResult
    public static func encode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        let needed = encodedCount(input.count)
        precondition(output.count >= needed, "base64 output buffer too small")
        var i = 0
        var o = 0
        let n = input.count
        while i + 3 <= n {
            let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            output[o] = character(v >> 18)
            output[o + 1] = character(v >> 12 & 63)
            output[o + 2] = character(v >> 6 & 63)
            output[o + 3] = character(v & 63)
            i += 3
            o += 4
        }
        if n - i == 1 {
            let v = UInt32(input[i]) << 16
            output[o] = character(v >> 18)
            output[o + 1] = character(v >> 12 & 63)
            o += 2
        } else if n - i == 2 {
            let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            output[o] = character(v >> 18)
            output[o + 1] = character(v >> 12 & 63)
            output[o + 2] = character(v >> 6 & 63)
            o += 3
        }
        return o
    }

    /// Decodes `input` (canonical, unpadded) to the start of `output` and
    /// returns the number of bytes written. On error nothing useful is left
    /// in `output` (bytes already written are cleared).
    public static func decode(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws(Base64Error) -> Int {
        guard let needed = decodedCount(input.count) else { throw .invalidLength(input.count) }
        guard output.count >= needed else { throw .outputTooSmall(needed: needed) }
        var i = 0
        var o = 0
        let n = input.count
        while i < n {
            // Up to four characters, 6 bits each.
            let group = min(4, n - i)
            var v: UInt32 = 0
            var k = 0
            while k < group {
                let c = input[i + k]
                guard let bits = value(c) else {
                    if o > 0 { UnsafeMutableRawBufferPointer(rebasing: output[0..<o]).initializeMemory(as: UInt8.self, repeating: 0) }
                    if c == UInt8(ascii: "=") { throw .padding(offset: i + k) }
                    throw .invalidCharacter(offset: i + k)
                }
                v = v << 6 | UInt32(bits)
                k += 1
            }
            switch group {
            case 4:
                output[o] = UInt8(truncatingIfNeeded: v >> 16)
                output[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                output[o + 2] = UInt8(truncatingIfNeeded: v)
                o += 3
            case 3:
                // 18 bits carry 2 bytes; the low 2 bits must be zero.
                if v & 0x3 != 0 { return try nonCanonical(output, o) }
                output[o] = UInt8(truncatingIfNeeded: v >> 10)
                output[o + 1] = UInt8(truncatingIfNeeded: v >> 2)
                o += 2
            default:  // 2: 12 bits carry 1 byte; the low 4 bits must be zero.
                if v & 0xF != 0 { return try nonCanonical(output, o) }
                output[o] = UInt8(truncatingIfNeeded: v >> 4)
                o += 1
            }
            i += group
        }
        return o
    }

    private static func nonCanonical(_ output: UnsafeMutableRawBufferPointer, _ written: Int) throws(Base64Error) -> Int {
        if written > 0 {
            UnsafeMutableRawBufferPointer(rebasing: output[0..<written]).initializeMemory(as: UInt8.self, repeating: 0)
        }
        throw .nonCanonical
    }

    /// The alphabet character for a 6-bit value.
    @inline(__always)
    static func character(_ v: UInt32) -> UInt8 {
        let b = UInt8(truncatingIfNeeded: v)
        if b < 26 { return 0x41 + b }        // A–Z
        if b < 52 { return 0x61 + b - 26 }   // a–z
        if b < 62 { return 0x30 + b - 52 }   // 0–9
        return b == 62 ? 0x2B : 0x2F         // + /
    }

    /// The 6-bit value of an alphabet character, nil for anything else.
    @inline(__always)
    static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x41...0x5A: return c - 0x41
        case 0x61...0x7A: return c - 0x61 + 26
        case 0x30...0x39: return c - 0x30 + 52
        case 0x2B: return 62
        case 0x2F: return 63
        default: return nil
        }
    }
}

/// Why a base64 string was refused.
public enum Base64Error: Error, Equatable, Sendable {
    /// No canonical unpadded encoding has this many characters (`count % 4 == 1`).
    case invalidLength(Int)
    /// A character outside the standard alphabet (space, line break, `-`, `_`, …).
    case invalidCharacter(offset: Int)
    /// An `=` padding character: age's base64 is unpadded.
    case padding(offset: Int)
    /// The unused low bits of the last character are not zero, so another
    /// string decodes to the same bytes (RFC 4648 §3.5).
    case nonCanonical
    /// The caller's output buffer is smaller than the decoded bytes.
    case outputTooSmall(needed: Int)
}
