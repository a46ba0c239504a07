/// Why a message payload was refused: what was wrong and at which byte
/// offset of the payload.
public struct LinkMessageError: Error, Equatable, Sendable {
    public enum Kind: UInt8, Equatable, Sendable {
        /// The payload ends before a field (offset = where the field starts).
        case truncated
        /// Bytes after the last field.
        case trailingBytes
        /// A field holds a value the spec does not allow.
        case invalidValue
        /// A reserved field is not zero.
        case reservedNotZero
    }

    public var kind: Kind
    public var offset: Int
    public var type: UInt8

    public init(_ kind: Kind, offset: Int, type: LinkMessageType) {
        self.kind = kind
        self.offset = offset
        self.type = type.rawValue
    }
}

/// A bounds-checked reader over one payload (every field access is checked,
/// so a hostile length can only produce a `LinkMessageError`).
struct PayloadReader {
    let bytes: UnsafeRawBufferPointer
    let type: LinkMessageType
    var offset = 0

    init(_ bytes: UnsafeRawBufferPointer, _ type: LinkMessageType) {
        self.bytes = bytes
        self.type = type
    }

    @inline(__always)
    mutating func need(_ n: Int) throws(LinkMessageError) {
        guard n >= 0, bytes.count - offset >= n else { throw LinkMessageError(.truncated, offset: offset, type: type) }
    }

    mutating func u8() throws(LinkMessageError) -> UInt8 {
        try need(1)
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func le<T: FixedWidthInteger>(_: T.Type) throws(LinkMessageError) -> T {
        try need(MemoryLayout<T>.size)
        defer { offset += MemoryLayout<T>.size }
        return bytes.loadLE(T.self, at: offset)
    }

    mutating func take(_ n: Int) throws(LinkMessageError) -> UnsafeRawBufferPointer {
        try need(n)
        defer { offset += n }
        return bytes.slice(offset, n)
    }

    mutating func reserved(_ n: Int) throws(LinkMessageError) {
        try need(n)
        var i = 0
        while i < n {
            if bytes[offset + i] != 0 { throw LinkMessageError(.reservedNotZero, offset: offset + i, type: type) }
            i += 1
        }
        offset += n
    }

    func invalid(at field: Int) -> LinkMessageError { LinkMessageError(.invalidValue, offset: field, type: type) }

    func finish() throws(LinkMessageError) {
        guard offset == bytes.count else { throw LinkMessageError(.trailingBytes, offset: offset, type: type) }
    }
}
