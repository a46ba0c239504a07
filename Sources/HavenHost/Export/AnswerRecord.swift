// AnswerRecord: the host's reader of a finished interview's answer record
// (Docs/instrument-format.md §4), the plaintext inside a sealed age file.

import HavenCore

/// One finished interview, as the device's `finalize` wrote it.
///
/// The bytes come out of an age file the research team decrypted, so they
/// are authentic only if the sealing device was honest; they are still read
/// as hostile input: every length is checked against what is left, and a
/// failure names the field and the offset.
public struct AnswerRecord: Equatable, Sendable {
    public enum Value: Equatable, Sendable {
        case text(String)
        case integer(Int64)
        case decimal(Double)
        /// Days since 1970-01-01.
        case date(Int32)
        case selectOne(String)
        case selectMultiple([String])
        case calculated(String)
    }

    public struct Answer: Equatable, Sendable {
        /// Index into the instrument's node table.
        public var node: Int
        /// 0-based instance index per enclosing repeat, outermost first.
        public var instance: [Int]
        public var value: Value
    }

    public var formID: String
    public var formVersion: String
    public var instanceID: String
    public var answers: [Answer]

    public static let magic: [UInt8] = Array("HVNA".utf8)
    public static let version: UInt16 = 1

    public init(bytes: [UInt8]) throws(AnswerRecordError) {
        var r = RecordReader(bytes)
        guard Array(try r.take(4, "magic")) == Self.magic else { throw .badMagic }
        let version = try r.u16("version")
        guard version == Self.version else { throw .unsupportedVersion(version) }
        formID = try r.string(lengthBytes: 2, "form id")
        formVersion = try r.string(lengthBytes: 2, "form version")
        instanceID = try r.string(lengthBytes: 2, "instance id")
        let count = Int(try r.u32("answer count"))
        // Each answer takes at least 4 bytes: a count beyond that is a lie.
        guard count <= (bytes.count - r.offset) / 4 else {
            throw .malformed(field: "answer count", offset: r.offset - 4)
        }
        var answers: [Answer] = []
        answers.reserveCapacity(count)
        for _ in 0..<count {
            let node = Int(try r.u16("answer node"))
            let depth = Int(try r.u8("repeat depth"))
            var instance: [Int] = []
            for _ in 0..<depth { instance.append(Int(try r.u16("instance index"))) }
            let typeOffset = r.offset
            let type = try r.u8("answer type")
            let value: Value
            switch type {
            case 1: value = .text(try r.string(lengthBytes: 4, "text value"))
            case 2: value = .integer(Int64(bitPattern: try r.u64("integer value")))
            case 3: value = .decimal(Double(bitPattern: try r.u64("decimal value")))
            case 4: value = .date(Int32(bitPattern: try r.u32("date value")))
            case 5: value = .selectOne(try r.string(lengthBytes: 4, "select_one value"))
            case 6:
                let n = Int(try r.u16("select_multiple count"))
                var values: [String] = []
                for _ in 0..<n { values.append(try r.string(lengthBytes: 4, "select_multiple value")) }
                value = .selectMultiple(values)
            case 7: value = .calculated(try r.string(lengthBytes: 4, "calculate value"))
            default: throw .unknownAnswerType(type, offset: typeOffset)
            }
            answers.append(Answer(node: node, instance: instance, value: value))
        }
        guard r.offset == bytes.count else { throw .trailingBytes(offset: r.offset) }
        self.answers = answers
    }
}

/// Why an answer record could not be read.
public enum AnswerRecordError: Error, Equatable, Sendable, CustomStringConvertible {
    case badMagic
    case unsupportedVersion(UInt16)
    case truncated(field: String, offset: Int)
    case malformed(field: String, offset: Int)
    case invalidUTF8(field: String, offset: Int)
    case unknownAnswerType(UInt8, offset: Int)
    case trailingBytes(offset: Int)

    public var description: String {
        switch self {
        case .badMagic: "not a Haven answer record (no HVNA magic)"
        case .unsupportedVersion(let v): "answer record version \(v) is not supported (this haven reads version 1)"
        case .truncated(let f, let o): "answer record truncated in \(f) at byte \(o)"
        case .malformed(let f, let o): "answer record: impossible \(f) at byte \(o)"
        case .invalidUTF8(let f, let o): "answer record: \(f) at byte \(o) is not UTF-8"
        case .unknownAnswerType(let t, let o): "answer record: unknown answer type \(t) at byte \(o)"
        case .trailingBytes(let o): "answer record: unexpected bytes after the last answer at byte \(o)"
        }
    }
}

/// Little-endian reads with bounds checks (one job: never read past the end).
struct RecordReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func take(_ n: Int, _ field: String) throws(AnswerRecordError) -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - offset else { throw .truncated(field: field, offset: offset) }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    mutating func le(_ n: Int, _ field: String) throws(AnswerRecordError) -> UInt64 {
        var v: UInt64 = 0
        for (i, b) in try take(n, field).enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        return v
    }

    mutating func u8(_ f: String) throws(AnswerRecordError) -> UInt8 { UInt8(try le(1, f)) }
    mutating func u16(_ f: String) throws(AnswerRecordError) -> UInt16 { UInt16(try le(2, f)) }
    mutating func u32(_ f: String) throws(AnswerRecordError) -> UInt32 { UInt32(try le(4, f)) }
    mutating func u64(_ f: String) throws(AnswerRecordError) -> UInt64 { try le(8, f) }

    mutating func string(lengthBytes: Int, _ field: String) throws(AnswerRecordError) -> String {
        let length = Int(try le(lengthBytes, field))
        let start = offset
        let slice = try take(length, field)
        guard let s = String(validating: slice, as: UTF8.self) else { throw .invalidUTF8(field: field, offset: start) }
        return s
    }
}
