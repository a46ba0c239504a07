/// Request payloads (Docs/link-protocol.md §6–§12). Each has `encode(into:)`
/// (returns the payload length, or nil if the buffer is too small) and a
/// strict `decode` that checks every byte: lengths, reserved fields, values.

/// authenticate (0x02): flags u8 (bit 0: public key follows), 3 reserved,
/// signature[64], then public key[32] when flag 0 is set.
public struct AuthenticateRequest {
    public var signature: UnsafeRawBufferPointer
    /// The host's provisioning public key (trust on first use: only an
    /// unprovisioned device uses it).
    public var publicKey: UnsafeRawBufferPointer?

    public init(signature: UnsafeRawBufferPointer, publicKey: UnsafeRawBufferPointer?) {
        self.signature = signature
        self.publicKey = publicKey
    }

    public func encode(into p: UnsafeMutableRawBufferPointer) -> Int? {
        let n = 4 + 64 + (publicKey == nil ? 0 : 32)
        guard p.count >= n, signature.count == 64, publicKey == nil || publicKey!.count == 32 else { return nil }
        p[0] = publicKey == nil ? 0 : 1
        p[1] = 0; p[2] = 0; p[3] = 0
        p.copy(signature, to: 4)
        if let publicKey { p.copy(publicKey, to: 68) }
        return n
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(LinkMessageError) -> AuthenticateRequest {
        var r = PayloadReader(bytes, .authenticate)
        let flags = try r.u8()
        guard flags <= 1 else { throw r.invalid(at: 0) }
        try r.reserved(3)
        let signature = try r.take(64)
        let key: UnsafeRawBufferPointer? = flags == 1 ? try r.take(32) : nil
        try r.finish()
        return AuthenticateRequest(signature: signature, publicKey: key)
    }
}

/// config-begin (0x10): total length u32 (> 0), reserved u32.
public struct ConfigBeginRequest: Equatable {
    public var totalLength: UInt32
    public init(totalLength: UInt32) { self.totalLength = totalLength }

    public func encode(into p: UnsafeMutableRawBufferPointer) -> Int? {
        guard p.count >= 8 else { return nil }
        p.storeLE(totalLength, at: 0)
        p.storeLE(UInt32(0), at: 4)
        return 8
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(LinkMessageError) -> ConfigBeginRequest {
        var r = PayloadReader(bytes, .configBegin)
        let total = try r.le(UInt32.self)
        guard total > 0 else { throw r.invalid(at: 0) }
        try r.reserved(4)
        try r.finish()
        return ConfigBeginRequest(totalLength: total)
    }
}

/// config-chunk (0x11): offset u32, then 1 ... maxPayload − 4 bytes.
public struct ConfigChunkRequest {
    public var offset: UInt32
    public var data: UnsafeRawBufferPointer
    public init(offset: UInt32, data: UnsafeRawBufferPointer) {
        self.offset = offset
        self.data = data
    }

    public static var maxData: Int { LinkFrame.maxPayload - 4 }

    public func encode(into p: UnsafeMutableRawBufferPointer) -> Int? {
        guard p.count >= 4 + data.count, !data.isEmpty, data.count <= Self.maxData else { return nil }
        p.storeLE(offset, at: 0)
        p.copy(data, to: 4)
        return 4 + data.count
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(LinkMessageError) -> ConfigChunkRequest {
        var r = PayloadReader(bytes, .configChunk)
        let offset = try r.le(UInt32.self)
        guard bytes.count > 4 else { throw LinkMessageError(.truncated, offset: 4, type: .configChunk) }
        return ConfigChunkRequest(offset: offset, data: bytes.slice(4, bytes.count - 4))
    }
}

/// config-commit (0x12): total length u32, reserved u32, SHA-256[32] of the bundle.
public struct ConfigCommitRequest {
    public var totalLength: UInt32
    public var sha256: UnsafeRawBufferPointer
    public init(totalLength: UInt32, sha256: UnsafeRawBufferPointer) {
        self.totalLength = totalLength
        self.sha256 = sha256
    }

    public func encode(into p: UnsafeMutableRawBufferPointer) -> Int? {
        guard p.count >= 40, sha256.count == 32 else { return nil }
        p.storeLE(totalLength, at: 0)
        p.storeLE(UInt32(0), at: 4)
        p.copy(sha256, to: 8)
        return 40
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(LinkMessageError) -> ConfigCommitRequest {
        var r = PayloadReader(bytes, .configCommit)
        let total = try r.le(UInt32.self)
        try r.reserved(4)
        let digest = try r.take(32)
        try r.finish()
        return ConfigCommitRequest(totalLength: total, sha256: digest)
    }
}

/// list-records (0x20): after u64 (list numbers > after), max count u16
/// (≥ 1), reserved u16, reserved u32.
public struct ListRecordsRequest: Equatable {
    public var after: UInt64
    public var maxCount: UInt16
    public init(after: UInt64, maxCount: UInt16) {
        self.after = after
        self.maxCount = maxCount
    }

    public func encode(into p: UnsafeMutableRawBufferPointer) -> Int? {
        guard p.count >= 16 else { return nil }
        p.storeLE(after, at: 0)
        p.storeLE(maxCount, at: 8)
        p.storeLE(UInt16(0), at: 10)
        p.storeLE(UInt32(0), at: 12)
        return 16
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(LinkMessageError) -> ListRecordsRequest {
        var r = PayloadReader(bytes, .listRecords)
        let after = try r.le(UInt64.self)
        let max = try r.le(UInt16.self)
        guard max > 0 else { throw r.invalid(at: 8) }
        try r.reserved(6)
        try r.finish()
        return ListRecordsRequest(after: after, maxCount: max)
    }
}

/// read-record (0x21): record number u64, offset u32, max length u32 (≥ 1).
public struct ReadRecordRequest: Equatable {
    public var number: UInt64
    public var offset: UInt32
    public var maxLength: UInt32
    public init(number: UInt64, offset: UInt32, maxLength: UInt32) {
        self.number = number
        self.offset = offset
        self.maxLength = maxLength
    }

    public func encode(into p: UnsafeMutableRawBufferPointer) -> Int? {
        guard p.count >= 16 else { return nil }
        p.storeLE(number, at: 0)
        p.storeLE(offset, at: 8)
        p.storeLE(maxLength, at: 12)
        return 16
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(LinkMessageError) -> ReadRecordRequest {
        var r = PayloadReader(bytes, .readRecord)
        let number = try r.le(UInt64.self)
        let offset = try r.le(UInt32.self)
        let max = try r.le(UInt32.self)
        guard max > 0 else { throw r.invalid(at: 12) }
        try r.finish()
        return ReadRecordRequest(number: number, offset: offset, maxLength: max)
    }
}

/// The record numbers of an acknowledge request, read in place.
public struct LinkRecordNumbers {
    let bytes: UnsafeRawBufferPointer
    public var count: Int { bytes.count / 8 }
    public subscript(i: Int) -> UInt64 { bytes.loadLE(UInt64.self, at: i * 8) }
}

/// acknowledge (0x22): count u16 (1 ... 1023), reserved u16, reserved u32,
/// count × record number u64.
public struct AcknowledgeRequest {
    public var numbers: LinkRecordNumbers
    public static var maxCount: Int { (LinkFrame.maxPayload - 8) / 8 }

    public static func encode(_ numbers: UnsafeBufferPointer<UInt64>, into p: UnsafeMutableRawBufferPointer) -> Int? {
        let n = numbers.count
        guard n >= 1, n <= maxCount, p.count >= 8 + 8 * n else { return nil }
        p.storeLE(UInt16(n), at: 0)
        p.storeLE(UInt16(0), at: 2)
        p.storeLE(UInt32(0), at: 4)
        var i = 0
        while i < n {
            p.storeLE(numbers[i], at: 8 + 8 * i)
            i += 1
        }
        return 8 + 8 * n
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(LinkMessageError) -> AcknowledgeRequest {
        var r = PayloadReader(bytes, .acknowledge)
        let n = Int(try r.le(UInt16.self))
        guard n >= 1, n <= maxCount else { throw r.invalid(at: 0) }
        try r.reserved(6)
        let list = try r.take(8 * n)
        try r.finish()
        return AcknowledgeRequest(numbers: LinkRecordNumbers(bytes: list))
    }
}

/// A civil date and time as the host's operator sees it (set-time).
public struct LinkCivilTime: Equatable, Sendable {
    public var year: UInt16
    public var month: UInt8
    public var day: UInt8
    public var hour: UInt8
    public var minute: UInt8
    public var second: UInt8
    /// Offset of this local time from UTC, minutes (−1439 ... 1439).
    public var utcOffsetMinutes: Int16

    public init(year: UInt16, month: UInt8, day: UInt8, hour: UInt8, minute: UInt8, second: UInt8,
                utcOffsetMinutes: Int16) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.utcOffsetMinutes = utcOffsetMinutes
    }

    /// The local date as days since 1970-01-01 (what `InterviewClock.today()` returns).
    public var daysSince1970: Int32 { Int32(CivilDate.days(year: Int(year), month: Int(month), day: Int(day))) }

    /// Whether every field names a real instant (years 2000 ... 2199).
    public var isValid: Bool {
        year >= 2000 && year <= 2199 && month >= 1 && month <= 12 && day >= 1
            && Int(day) <= CivilDate.daysIn(month: Int(month), year: Int(year))
            && hour < 24 && minute < 60 && second < 60 && utcOffsetMinutes > -1440 && utcOffsetMinutes < 1440
    }
}

/// set-time (0x30): year u16, month u8, day u8, hour u8, minute u8, second
/// u8, reserved u8, UTC offset minutes i16, reserved u16.
public struct SetTimeRequest: Equatable {
    public var time: LinkCivilTime
    public init(time: LinkCivilTime) { self.time = time }

    public func encode(into p: UnsafeMutableRawBufferPointer) -> Int? {
        guard p.count >= 12 else { return nil }
        p.storeLE(time.year, at: 0)
        p[2] = time.month; p[3] = time.day; p[4] = time.hour; p[5] = time.minute; p[6] = time.second; p[7] = 0
        p.storeLE(time.utcOffsetMinutes, at: 8)
        p.storeLE(UInt16(0), at: 10)
        return 12
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(LinkMessageError) -> SetTimeRequest {
        var r = PayloadReader(bytes, .setTime)
        let year = try r.le(UInt16.self)
        let month = try r.u8(), day = try r.u8(), hour = try r.u8(), minute = try r.u8(), second = try r.u8()
        try r.reserved(1)
        let offset = try r.le(Int16.self)
        try r.reserved(2)
        try r.finish()
        let t = LinkCivilTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second,
                              utcOffsetMinutes: offset)
        guard t.isValid else { throw r.invalid(at: 0) }
        return SetTimeRequest(time: t)
    }
}

/// crypto-erase (0x31): the 8 ASCII bytes "HVNERASE" (a stray frame cannot
/// erase a device by accident).
public enum CryptoEraseRequest {
    public static func encode(into p: UnsafeMutableRawBufferPointer) -> Int? {
        guard p.count >= 8 else { return nil }
        p.copy(UnsafeRawBufferPointer(start: LinkFrame.eraseConfirmation.utf8Start, count: 8), to: 0)
        return 8
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(LinkMessageError) {
        var r = PayloadReader(bytes, .cryptoErase)
        let word = try r.take(8)
        let expected = UnsafeRawBufferPointer(start: LinkFrame.eraseConfirmation.utf8Start, count: 8)
        var i = 0
        while i < 8 {
            if word[i] != expected[i] { throw r.invalid(at: i) }
            i += 1
        }
        try r.finish()
    }
}

/// identify (0x01): empty payload.
public enum IdentifyRequest {
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(LinkMessageError) {
        try PayloadReader(bytes, .identify).finish()
    }
}
