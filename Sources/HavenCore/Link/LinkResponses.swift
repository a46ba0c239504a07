/// Response payloads (Docs/link-protocol.md §5–§12). Every response starts
/// with status u8, detail u8, reserved u16; the body that follows is
/// defined for status `ok` only (other statuses carry no body in v1).

/// The 4-byte status prefix and the body after it.
public struct LinkResponse {
    public var rawStatus: UInt8
    public var detail: UInt8
    public var body: UnsafeRawBufferPointer

    /// nil for a status this code does not know (a newer device).
    public var status: LinkStatusCode? { LinkStatusCode(rawValue: rawStatus) }

    public static func decode(_ bytes: UnsafeRawBufferPointer, type: LinkMessageType) throws(LinkMessageError) -> LinkResponse {
        var r = PayloadReader(bytes, type)
        let status = try r.u8()
        let detail = try r.u8()
        try r.reserved(2)
        let body = bytes.slice(4, bytes.count - 4)
        if status != LinkStatusCode.ok.rawValue && !body.isEmpty {
            throw LinkMessageError(.trailingBytes, offset: 4, type: type)
        }
        return LinkResponse(rawStatus: status, detail: detail, body: body)
    }

    /// Writes the status prefix.
    public static func writeStatus(_ status: LinkStatusCode, detail: UInt8, into p: UnsafeMutableRawBufferPointer) {
        p[0] = status.rawValue
        p[1] = detail
        p[2] = 0
        p[3] = 0
    }
}

/// What the device store can offer now (identify byte 18).
public enum LinkStoreState: UInt8, Sendable, Equatable {
    /// Unlocked: the store is mounted, counts are exact.
    case available = 0
    /// Not mounted (locked, hidden, or no store): unlock the device to pull.
    case locked = 1
}

/// identify body (72 + n + m bytes):
///
///     0   16  device id
///     16  1   lowest protocol version spoken
///     17  1   highest protocol version spoken
///     18  1   store state (LinkStoreState)
///     19  1   session flags: bit 0 authenticated, bit 1 provisioning key pinned
///     20  8   config version (0: none installed)
///     28  8   free bytes in the store (0 unless available)
///     36  4   finished records waiting to be pulled (0 unless available)
///     40  32  challenge (fresh for every identify)
///     72  1   board name length n (≤ 64), then n bytes UTF-8
///     ..  1   firmware version length m (≤ 64), then m bytes UTF-8
public struct IdentifyResponse {
    public static let fixedSize = 72
    public static let maxText = 64

    public var deviceID: UnsafeRawBufferPointer
    public var minVersion: UInt8
    public var maxVersion: UInt8
    public var storeState: UInt8
    public var sessionFlags: UInt8
    public var configVersion: UInt64
    public var freeBytes: UInt64
    public var recordsWaiting: UInt32
    public var challenge: UnsafeRawBufferPointer
    public var boardName: UnsafeRawBufferPointer
    public var firmwareVersion: UnsafeRawBufferPointer

    public var isAuthenticated: Bool { sessionFlags & 1 != 0 }
    public var isProvisioned: Bool { sessionFlags & 2 != 0 }

    public static func decode(_ body: UnsafeRawBufferPointer) throws(LinkMessageError) -> IdentifyResponse {
        var r = PayloadReader(body, .identify)
        let id = try r.take(16)
        let minV = try r.u8(), maxV = try r.u8()
        guard minV >= 1, minV <= maxV else { throw r.invalid(at: 16) }
        let state = try r.u8()
        guard state <= 1 else { throw r.invalid(at: 18) }
        let flags = try r.u8()
        guard flags <= 3 else { throw r.invalid(at: 19) }
        let config = try r.le(UInt64.self)
        let free = try r.le(UInt64.self)
        let waiting = try r.le(UInt32.self)
        let challenge = try r.take(32)
        let at = r.offset
        let n = Int(try r.u8())
        guard n <= maxText else { throw r.invalid(at: at) }
        let board = try r.take(n)
        let at2 = r.offset
        let m = Int(try r.u8())
        guard m <= maxText else { throw r.invalid(at: at2) }
        let firmware = try r.take(m)
        try r.finish()
        return IdentifyResponse(deviceID: id, minVersion: minV, maxVersion: maxV, storeState: state,
                                sessionFlags: flags, configVersion: config, freeBytes: free,
                                recordsWaiting: waiting, challenge: challenge, boardName: board,
                                firmwareVersion: firmware)
    }
}

/// config-begin body: staging capacity u32, largest chunk data u32.
public struct ConfigBeginResponse: Equatable {
    public var capacity: UInt32
    public var maxChunk: UInt32
    public static func decode(_ body: UnsafeRawBufferPointer) throws(LinkMessageError) -> ConfigBeginResponse {
        var r = PayloadReader(body, .configBegin)
        let c = try r.le(UInt32.self), m = try r.le(UInt32.self)
        try r.finish()
        return ConfigBeginResponse(capacity: c, maxChunk: m)
    }
}

/// config-chunk body: bytes received so far u32. config-commit body:
/// installed config version u64. acknowledge body: records now marked
/// pulled by this request u16, reserved u16.
public enum SmallResponses {
    public static func received(_ body: UnsafeRawBufferPointer) throws(LinkMessageError) -> UInt32 {
        var r = PayloadReader(body, .configChunk)
        let v = try r.le(UInt32.self)
        try r.finish()
        return v
    }

    public static func installedVersion(_ body: UnsafeRawBufferPointer) throws(LinkMessageError) -> UInt64 {
        var r = PayloadReader(body, .configCommit)
        let v = try r.le(UInt64.self)
        try r.finish()
        return v
    }

    public static func acknowledged(_ body: UnsafeRawBufferPointer) throws(LinkMessageError) -> UInt16 {
        var r = PayloadReader(body, .acknowledge)
        let v = try r.le(UInt16.self)
        try r.reserved(2)
        try r.finish()
        return v
    }

    public static func empty(_ body: UnsafeRawBufferPointer, _ type: LinkMessageType) throws(LinkMessageError) {
        try PayloadReader(body, type).finish()
    }
}

/// One list-records entry (48 bytes): number u64, size u32 (bytes of the
/// sealed age file, without the store's type byte), flags u8 (bit 0:
/// corrupt — stored but unreadable; size and hash are then 0), 3 reserved,
/// SHA-256[32] of the age file.
public struct RecordListEntry {
    public static let size = 48
    public var number: UInt64
    public var size: UInt32
    public var corrupt: Bool
    public var sha256: UnsafeRawBufferPointer
}

/// list-records body: count u16, flags u8 (bit 0: more may follow), 5
/// reserved, count × 48-byte entries in increasing number order.
public struct ListRecordsResponse {
    public static let headerSize = 8
    public static var maxEntries: Int { (LinkFrame.maxPayload - LinkFrame.statusSize - headerSize) / RecordListEntry.size }

    public var count: Int
    public var more: Bool
    let entries: UnsafeRawBufferPointer

    public func entry(_ i: Int) -> RecordListEntry {
        let e = entries.slice(i * RecordListEntry.size, RecordListEntry.size)
        return RecordListEntry(number: e.loadLE(UInt64.self, at: 0), size: e.loadLE(UInt32.self, at: 8),
                               corrupt: e[12] & 1 != 0, sha256: e.slice(16, 32))
    }

    public static func decode(_ body: UnsafeRawBufferPointer) throws(LinkMessageError) -> ListRecordsResponse {
        var r = PayloadReader(body, .listRecords)
        let n = Int(try r.le(UInt16.self))
        guard n <= maxEntries else { throw r.invalid(at: 0) }
        let flags = try r.u8()
        guard flags <= 1 else { throw r.invalid(at: 2) }
        try r.reserved(5)
        let entries = try r.take(n * RecordListEntry.size)
        try r.finish()
        var i = 0
        var previous: UInt64 = 0
        while i < n {
            let base = headerSize + i * RecordListEntry.size
            let e = entries.slice(i * RecordListEntry.size, RecordListEntry.size)
            let number = e.loadLE(UInt64.self, at: 0)
            guard number > previous else { throw r.invalid(at: base) }
            previous = number
            guard e[12] <= 1 else { throw r.invalid(at: base + 12) }
            guard e[13] == 0, e[14] == 0, e[15] == 0 else {
                throw LinkMessageError(.reservedNotZero, offset: base + 13, type: .listRecords)
            }
            i += 1
        }
        return ListRecordsResponse(count: n, more: flags == 1, entries: entries)
    }
}

/// Builds a list-records body in place (device side).
public struct RecordListWriter {
    let body: UnsafeMutableRawBufferPointer
    public let capacity: Int
    public private(set) var count = 0

    /// `body` is the response body area; `maxCount` the host's limit.
    init(body: UnsafeMutableRawBufferPointer, maxCount: Int) {
        self.body = body
        capacity = min(maxCount, (body.count - ListRecordsResponse.headerSize) / RecordListEntry.size)
    }

    public var isFull: Bool { count >= capacity }

    /// Adds an entry and returns its 32-byte hash slot to fill (zeroed), or
    /// nil when full.
    public mutating func append(number: UInt64, size: UInt32, corrupt: Bool) -> UnsafeMutableRawBufferPointer? {
        guard count < capacity else { return nil }
        let e = body.slice(ListRecordsResponse.headerSize + count * RecordListEntry.size, RecordListEntry.size)
        e.storeLE(number, at: 0)
        e.storeLE(size, at: 8)
        e.storeLE(UInt32(corrupt ? 1 : 0), at: 12)
        let hash = e.slice(16, 32)
        hash.fill(0)
        count += 1
        return hash
    }

    /// Writes the header; returns the body length.
    func finish() -> Int {
        body.storeLE(UInt16(count), at: 0)
        body[2] = count == capacity ? 1 : 0
        body[3] = 0
        body.storeLE(UInt32(0), at: 4)
        return ListRecordsResponse.headerSize + count * RecordListEntry.size
    }
}

/// read-record body: total size u32 (of the age file), offset u32 (echoed),
/// then the bytes from offset (possibly none at the end).
public struct ReadRecordResponse {
    public static let headerSize = 8
    public static var maxData: Int { LinkFrame.maxPayload - LinkFrame.statusSize - headerSize }
    public var total: UInt32
    public var offset: UInt32
    public var data: UnsafeRawBufferPointer

    public static func decode(_ body: UnsafeRawBufferPointer) throws(LinkMessageError) -> ReadRecordResponse {
        var r = PayloadReader(body, .readRecord)
        let total = try r.le(UInt32.self), offset = try r.le(UInt32.self)
        let data = body.slice(8, body.count - 8)
        guard UInt64(offset) + UInt64(data.count) <= UInt64(total) else { throw r.invalid(at: 4) }
        return ReadRecordResponse(total: total, offset: offset, data: data)
    }
}
