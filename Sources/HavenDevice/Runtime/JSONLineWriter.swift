import Glibc

/// Writes one JSON object into a fixed `SecretBuffer` (no Swift strings of
/// the texts it carries: labels and answers are copied byte by byte from
/// the engine's buffers), for a screen model line. When the buffer is full
/// further writes are dropped and `overflowed` is set; the caller then
/// sends a short error line instead.
public struct JSONLineWriter {
    public let buffer: SecretBuffer
    public private(set) var overflowed = false
    /// A comma is due before the next member or element.
    private var needsComma = false

    public init(buffer: SecretBuffer) {
        self.buffer = buffer
        buffer.count = 0
    }

    mutating func raw(_ b: UInt8) {
        if !buffer.append(byte: b) { overflowed = true }
    }

    mutating func raw(_ s: StaticString) {
        let p = UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)
        if !buffer.append(p) { overflowed = true }
    }

    mutating func comma() {
        if needsComma { raw(0x2C) }
        needsComma = false
    }

    public mutating func beginObject() {
        comma()
        raw(0x7B)
    }

    public mutating func endObject() {
        raw(0x7D)
        needsComma = true
    }

    public mutating func beginArray() {
        comma()
        raw(0x5B)
    }

    public mutating func endArray() {
        raw(0x5D)
        needsComma = true
    }

    public mutating func key(_ name: StaticString) {
        comma()
        raw(0x22)
        raw(name)
        raw(0x22)
        raw(0x3A)
    }

    /// A string value from UTF-8 bytes (escaped; invalid bytes pass through
    /// as U+FFFD so the line stays valid JSON).
    public mutating func string(_ bytes: UnsafeRawBufferPointer) {
        comma()
        raw(0x22)
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case 0x22: raw("\\\"")
            case 0x5C: raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0x00..<0x20, 0x7F:
                raw("\\u00")
                raw(Self.hex[Int(c >> 4)])
                raw(Self.hex[Int(c & 15)])
            case 0x01...0x7E: raw(c)
            default:
                let n = Self.sequenceLength(bytes, i)
                if n == 0 {
                    raw("\u{FFFD}")
                    i += 1
                    continue
                }
                for k in 0..<n { raw(bytes[i + k]) }
                i += n
                continue
            }
            i += 1
        }
        raw(0x22)
        needsComma = true
    }

    public mutating func string(_ s: StaticString) {
        string(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// A string value from a Swift string (only for texts that are not
    /// secret: enum names, error descriptions).
    public mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { string(UnsafeRawBufferPointer($0)) }
    }

    public mutating func int(_ v: Int64) {
        comma()
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var magnitude = v.magnitude
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[n] = UInt8(0x30 + magnitude % 10)
                magnitude /= 10
                n += 1
            } while magnitude > 0
            if v < 0 { raw(0x2D) }
            while n > 0 {
                n -= 1
                raw(d[n])
            }
        }
        needsComma = true
    }

    public mutating func int(_ v: Int) { int(Int64(v)) }

    /// A finite double, shortest round-trip form (printf %.17g trimmed by
    /// trying shorter precisions first).
    public mutating func double(_ v: Double) {
        guard v.isFinite else {
            null()
            return
        }
        comma()
        withUnsafeTemporaryAllocation(byteCount: 40, alignment: 1) { tmp in
            let base = tmp.baseAddress!.assumingMemoryBound(to: CChar.self)
            var precision: Int32 = 1
            while precision <= 17 {
                _ = withVaList([precision, v]) { vsnprintf(base, 40, "%.*g", $0) }
                if strtod(base, nil) == v { break }
                precision += 1
            }
            let n = strlen(base)
            if !buffer.append(UnsafeRawBufferPointer(start: tmp.baseAddress, count: n)) { overflowed = true }
            tmp.initializeMemory(as: UInt8.self, repeating: 0)
        }
        needsComma = true
    }

    public mutating func bool(_ v: Bool) {
        comma()
        raw(v ? "true" : "false")
        needsComma = true
    }

    public mutating func null() {
        comma()
        raw("null")
        needsComma = true
    }

    /// Ends the line.
    public mutating func newline() {
        raw(0x0A)
        needsComma = false
    }

    static let hex: [StaticString] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]

    /// Length of a well-formed UTF-8 sequence starting at `i` (0: invalid).
    static func sequenceLength(_ b: UnsafeRawBufferPointer, _ i: Int) -> Int {
        let c = b[i]
        let n: Int
        if c & 0xE0 == 0xC0 && c >= 0xC2 { n = 2 } else if c & 0xF0 == 0xE0 { n = 3 } else if c & 0xF8 == 0xF0 && c <= 0xF4 {
            n = 4
        } else { return 0 }
        guard i + n <= b.count else { return 0 }
        for k in 1..<n where b[i + k] & 0xC0 != 0x80 { return 0 }
        // No overlong forms, no surrogates, nothing above U+10FFFF.
        let second = b[i + 1]
        if c == 0xE0 && second < 0xA0 { return 0 }
        if c == 0xED && second > 0x9F { return 0 }
        if c == 0xF0 && second < 0x90 { return 0 }
        if c == 0xF4 && second > 0x8F { return 0 }
        return n
    }
}
