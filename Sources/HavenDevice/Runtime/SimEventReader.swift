import Glibc
import HavenSodium

/// Parses one JSON object (one input line) into a `SimEvent` without making
/// Swift strings of its values: strings are unescaped into a fixed scratch
/// buffer and handed out as byte views. Only the field names and the event
/// type are compared; unknown fields are ignored. Hostile input gets an
/// error naming the byte, never a crash.
public final class SimEventReader {
    public let scratch: SecretBuffer

    public init(capacity: Int = 64 * 1024) {
        scratch = SecretBuffer(capacity: capacity)
    }

    /// Zeroizes the scratch (call once the event has been applied).
    public func wipe() { scratch.wipe() }

    public func read(_ line: UnsafeRawBufferPointer) throws(SimEventError) -> SimEvent {
        scratch.count = 0
        var p = Parser(text: line, out: scratch)
        var kind: SimEvent.Kind?
        var event = SimEvent(kind: .screen)
        p.skipSpace()
        try p.expect(0x7B, "expected '{'")
        p.skipSpace()
        if p.peek == 0x7D {
            p.i += 1
        } else {
            while true {
                p.skipSpace()
                let name = try p.string()
                p.skipSpace()
                try p.expect(0x3A, "expected ':'")
                p.skipSpace()
                if Self.equals(name, "type") {
                    let t = try p.string()
                    kind = Self.kind(t)
                    guard kind != nil else { throw .unknownType }
                } else if Self.equals(name, "value") {
                    if p.peek == 0x22 {
                        event.value = try p.string()
                    } else {
                        event.value = try p.number()
                        event.valueIsNumber = true
                    }
                } else if Self.equals(name, "key") {
                    event.key = try p.string()
                } else if Self.equals(name, "id") {
                    event.id = try p.integer("id")
                } else if Self.equals(name, "index") {
                    event.index = try p.integer("index")
                } else if Self.equals(name, "ms") {
                    event.ms = try p.integer("ms")
                } else if Self.equals(name, "code") {
                    event.code = try p.integer("code")
                } else if Self.equals(name, "digit") {
                    event.value = try p.string()
                } else if Self.equals(name, "down") {
                    event.down = try p.bool("down")
                } else if Self.equals(name, "needlesHex") {
                    event.maskedNeedles = try p.hexArray()
                } else {
                    try p.skipValue(depth: 0)
                }
                p.skipSpace()
                if p.peek == 0x2C {
                    p.i += 1
                    continue
                }
                try p.expect(0x7D, "expected ',' or '}'")
                break
            }
        }
        p.skipSpace()
        guard p.i == line.count else { throw .malformed(at: p.i, what: "text after the object") }
        guard let kind else { throw .missingType }
        event.kind = kind
        return event
    }

    static func kind(_ name: UnsafeRawBufferPointer) -> SimEvent.Kind? {
        for k in SimEvent.Kind.allCases where equals(name, k.rawValue) { return k }
        return nil
    }

    static func equals(_ bytes: UnsafeRawBufferPointer, _ text: String) -> Bool {
        var text = text
        return text.withUTF8 { t in
            t.count == bytes.count && (t.count == 0 || memcmp(t.baseAddress!, bytes.baseAddress!, t.count) == 0)
        }
    }
}

/// The byte-level JSON reader behind `SimEventReader`.
struct Parser {
    let text: UnsafeRawBufferPointer
    let out: SecretBuffer
    var i = 0

    init(text: UnsafeRawBufferPointer, out: SecretBuffer) {
        self.text = text
        self.out = out
    }

    var peek: UInt8? { i < text.count ? text[i] : nil }

    mutating func skipSpace() {
        while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 }
    }

    mutating func expect(_ c: UInt8, _ what: String) throws(SimEventError) {
        guard peek == c else { throw .malformed(at: i, what: what) }
        i += 1
    }

    /// A JSON string, unescaped into the scratch buffer; a view of it.
    mutating func string() throws(SimEventError) -> UnsafeRawBufferPointer {
        try expect(0x22, "expected a string")
        let start = out.count
        while true {
            guard let c = peek else { throw .malformed(at: i, what: "unterminated string") }
            i += 1
            if c == 0x22 { break }
            if c < 0x20 { throw .malformed(at: i - 1, what: "control character in a string") }
            if c != 0x5C {
                try put(c)
                continue
            }
            guard let e = peek else { throw .malformed(at: i, what: "unterminated escape") }
            i += 1
            switch e {
            case 0x22, 0x5C, 0x2F: try put(e)
            case 0x62: try put(0x08)
            case 0x66: try put(0x0C)
            case 0x6E: try put(0x0A)
            case 0x72: try put(0x0D)
            case 0x74: try put(0x09)
            case 0x75:
                var scalar = try hex4()
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    guard peek == 0x5C, i + 1 < text.count, text[i + 1] == 0x75 else {
                        throw .malformed(at: i, what: "lone surrogate")
                    }
                    i += 2
                    let low = try hex4()
                    guard low >= 0xDC00 && low < 0xE000 else { throw .malformed(at: i, what: "bad surrogate pair") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw .malformed(at: i, what: "lone surrogate")
                }
                try putScalar(scalar)
            default:
                throw .malformed(at: i - 1, what: "unknown escape")
            }
        }
        return UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(out.bytes)[start..<out.count])
    }

    mutating func put(_ b: UInt8) throws(SimEventError) {
        guard out.append(byte: b) else { throw .tooLong(limit: out.capacity) }
    }

    mutating func putScalar(_ v: UInt32) throws(SimEventError) {
        if v < 0x80 {
            try put(UInt8(v))
        } else if v < 0x800 {
            try put(UInt8(0xC0 | (v >> 6)))
            try put(UInt8(0x80 | (v & 0x3F)))
        } else if v < 0x10000 {
            try put(UInt8(0xE0 | (v >> 12)))
            try put(UInt8(0x80 | ((v >> 6) & 0x3F)))
            try put(UInt8(0x80 | (v & 0x3F)))
        } else {
            try put(UInt8(0xF0 | (v >> 18)))
            try put(UInt8(0x80 | ((v >> 12) & 0x3F)))
            try put(UInt8(0x80 | ((v >> 6) & 0x3F)))
            try put(UInt8(0x80 | (v & 0x3F)))
        }
    }

    static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: return UInt32(c - 0x30)
        case 0x41...0x46: return UInt32(c - 0x41 + 10)
        case 0x61...0x66: return UInt32(c - 0x61 + 10)
        default: return nil
        }
    }

    // Swift 6.3.1's release pipeline crashed on this function (SIL
    // verification before OwnershipModelEliminator) in its earlier form, a
    // `guard let` of two optionals in a typed-throws loop: rewritten without
    // it, and not optimized (four iterations per \u escape: no cost).
    @_optimize(none)
    mutating func hex4() throws(SimEventError) -> UInt32 {
        var v: UInt32 = 0
        var k = 0
        while k < 4 {
            let h = i < text.count ? (Self.hexValue(text[i]) ?? 16) : 16
            if h > 15 { throw .malformed(at: i, what: "bad \\u escape") }
            v = v << 4 | h
            i += 1
            k += 1
        }
        return v
    }

    /// A JSON number's text (copied to the scratch buffer).
    mutating func number() throws(SimEventError) -> UnsafeRawBufferPointer {
        let start = i
        if peek == 0x2D { i += 1 }
        var digits = 0
        while let c = peek, (c >= 0x30 && c <= 0x39) || c == 0x2E || c == 0x65 || c == 0x45 || c == 0x2B || c == 0x2D {
            if c >= 0x30 && c <= 0x39 { digits += 1 }
            i += 1
        }
        guard digits > 0 else { throw .malformed(at: start, what: "expected a value") }
        let begin = out.count
        for k in start..<i { try put(text[k]) }
        return UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(out.bytes)[begin..<out.count])
    }

    mutating func integer(_ name: String) throws(SimEventError) -> Int64 {
        let start = i
        var negative = false
        if peek == 0x2D {
            negative = true
            i += 1
        }
        var v: Int64 = 0
        var digits = 0
        while let c = peek, c >= 0x30 && c <= 0x39 {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(c - 0x30))
            guard !o1, !o2 else { throw .badField(name) }
            v = a
            digits += 1
            i += 1
        }
        guard digits > 0 else {
            i = start
            throw .badField(name)
        }
        if let c = peek, c == 0x2E || c == 0x65 || c == 0x45 { throw .badField(name) }
        return negative ? -v : v
    }

    mutating func bool(_ name: String) throws(SimEventError) -> Bool {
        if matchLiteral("true") { return true }
        if matchLiteral("false") { return false }
        throw .badField(name)
    }

    mutating func matchLiteral(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard i + n <= text.count else { return false }
        let w = word.utf8Start
        for k in 0..<n where text[i + k] != w[k] { return false }
        i += n
        return true
    }

    /// An array of hex strings, each decoded into the scratch XOR the needle mask.
    mutating func hexArray() throws(SimEventError) -> [UnsafeRawBufferPointer] {
        try expect(0x5B, "expected '['")
        var result: [UnsafeRawBufferPointer] = []
        skipSpace()
        if peek == 0x5D {
            i += 1
            return result
        }
        while true {
            skipSpace()
            try expect(0x22, "expected a hex string")
            let start = out.count
            while let c = peek, c != 0x22 {
                guard i + 1 < text.count, let hi = Self.hexValue(c), let lo = Self.hexValue(text[i + 1]) else {
                    throw .badField("needlesHex")
                }
                try put(UInt8(hi << 4 | lo) ^ SimEvent.needleMask)
                i += 2
            }
            try expect(0x22, "unterminated string")
            result.append(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(out.bytes)[start..<out.count]))
            skipSpace()
            if peek == 0x2C {
                i += 1
                continue
            }
            try expect(0x5D, "expected ',' or ']'")
            return result
        }
    }

    /// Skips any JSON value (for unknown fields); nesting is bounded.
    mutating func skipValue(depth: Int) throws(SimEventError) {
        guard depth < 32 else { throw .malformed(at: i, what: "nested too deep") }
        skipSpace()
        guard let c = peek else { throw .malformed(at: i, what: "expected a value") }
        switch c {
        case 0x22:
            let mark = out.count
            _ = try string()
            out.count = mark
        case 0x7B, 0x5B:
            let close: UInt8 = c == 0x7B ? 0x7D : 0x5D
            i += 1
            skipSpace()
            if peek == close {
                i += 1
                return
            }
            while true {
                skipSpace()
                if c == 0x7B {
                    let mark = out.count
                    _ = try string()
                    out.count = mark
                    skipSpace()
                    try expect(0x3A, "expected ':'")
                }
                try skipValue(depth: depth + 1)
                skipSpace()
                if peek == 0x2C {
                    i += 1
                    continue
                }
                try expect(close, "expected ',' or a closing bracket")
                return
            }
        case 0x74, 0x66, 0x6E:
            guard matchLiteral("true") || matchLiteral("false") || matchLiteral("null") else {
                throw .malformed(at: i, what: "expected a value")
            }
        default:
            let mark = out.count
            _ = try number()
            out.count = mark
        }
    }
}
