/// Appends bytes to a fixed buffer owned by someone else and remembers
/// whether anything did not fit, instead of growing: the interview engine
/// renders screen text and encodes records into buffers sized once at start.
struct ByteWriter {
    let buffer: UnsafeMutableRawBufferPointer
    /// Counts instead of writing (to size an encoding before writing it).
    let measuring: Bool
    private(set) var count = 0
    /// Set when an append was cut short.
    private(set) var overflowed = false

    init(_ buffer: UnsafeMutableRawBufferPointer) {
        self.buffer = buffer
        measuring = false
    }

    /// A writer that only counts bytes.
    static func measure() -> ByteWriter { ByteWriter(measuringOnly: ()) }

    private init(measuringOnly: ()) {
        buffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        measuring = true
    }

    var remaining: Int { measuring ? Int.max - count : buffer.count - count }

    /// The bytes written so far.
    /// Overwrites a little-endian value written earlier (a count known
    /// only after what it counts).
    mutating func patchLE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        if measuring || offset + MemoryLayout<T>.size > count { return }
        buffer.storeLE(value, at: offset)
    }

    var written: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<count])
    }

    mutating func append(_ byte: UInt8) {
        if measuring {
            count += 1
            return
        }
        guard count < buffer.count else {
            overflowed = true
            return
        }
        buffer[count] = byte
        count += 1
    }

    /// Appends all of `bytes`, or nothing (and flags an overflow).
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if measuring {
            count += bytes.count
            return
        }
        guard bytes.count <= remaining else {
            overflowed = true
            return
        }
        buffer.copy(bytes, to: count)
        count += bytes.count
    }

    /// Appends as much of the well-formed UTF-8 `text` as fits without
    /// cutting a character (display text degrades, never breaks).
    mutating func appendText(_ text: UnsafeRawBufferPointer) {
        if measuring {
            count += text.count
            return
        }
        let n = UTF8Validation.boundary(text, atMost: remaining)
        if n < text.count { overflowed = true }
        buffer.copy(text.slice(0, n), to: count)
        count += n
    }

    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        let size = MemoryLayout<T>.size
        if measuring {
            count += size
            return
        }
        guard size <= remaining else {
            overflowed = true
            return
        }
        buffer.storeLE(value, at: count)
        count += size
    }

    mutating func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Decimal digits of `value`, most significant first.
    mutating func appendDecimal(_ value: UInt64) {
        var divisor: UInt64 = 1
        while value / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            append(UInt8(truncatingIfNeeded: value / divisor % 10) + 48)
            divisor /= 10
        }
    }

    /// Decimal digits of `value`, zero-padded to at least `width`.
    mutating func appendDecimal(_ value: UInt64, width: Int) {
        var digitsNeeded = 1
        var v = value
        while v >= 10 {
            v /= 10
            digitsNeeded += 1
        }
        var pad = width - digitsNeeded
        while pad > 0 {
            append(48)
            pad -= 1
        }
        appendDecimal(value)
    }

    mutating func appendSigned(_ value: Int64) {
        if value < 0 { append(45) }
        appendDecimal(value.magnitude)
    }

    // MARK: The number formatter's vocabulary (DecimalFormatter, CivilDate)

    /// Bytes written, or nil if some did not fit.
    var result: Int? { overflowed ? nil : count }

    mutating func byte(_ b: UInt8) { append(b) }

    mutating func ascii(_ text: StaticString) -> Int? {
        var i = 0
        while i < text.utf8CodeUnitCount {
            append(text.utf8Start[i])
            i += 1
        }
        return result
    }

    /// As many of `source`'s bytes as fit.
    mutating func bytes(_ source: UnsafeRawBufferPointer) {
        var i = 0
        while i < source.count {
            append(source[i])
            i += 1
        }
    }

    /// Digit values 0…9 as ASCII.
    mutating func digits(_ values: UnsafeMutablePointer<UInt8>, _ n: Int) {
        var i = 0
        while i < n {
            append(0x30 + values[i])
            i += 1
        }
    }

    mutating func integer(_ value: UInt64) { appendDecimal(value) }

    /// At least `width` digits, zero-padded.
    mutating func integer(_ value: UInt64, width: Int) { appendDecimal(value, width: width) }
}
