public import HavenCore
import HavenSodium

/// What identify told about a device.
public struct DeviceIdentity: Equatable, Sendable {
    public var deviceID: [UInt8]
    public var minVersion: UInt8
    public var maxVersion: UInt8
    public var storeState: LinkStoreState
    public var isAuthenticated: Bool
    public var isProvisioned: Bool
    public var configVersion: UInt64
    public var freeBytes: UInt64
    public var recordsWaiting: UInt32
    public var challenge: [UInt8]
    public var boardName: String
    public var firmwareVersion: String

    /// The device id as 32 lowercase hex characters.
    public var deviceIDHex: String { hex(deviceID) }
}

/// One finished record on the device.
public struct RecordInfo: Equatable, Sendable {
    public var number: UInt64
    /// Size of the age file.
    public var size: UInt32
    /// Stored but unreadable on the device (size and hash are 0).
    public var corrupt: Bool
    public var sha256: [UInt8]
}

func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 15)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// The host side of the link protocol (Docs/link-protocol.md) over any
/// `LinkTransport`: one request, one response with the same sequence
/// number, each bounded by `timeoutMilliseconds`. Frames from the device are
/// untrusted: every one goes through the core's `FrameDecoder` and strict
/// payload decoders, and a device that sends garbage gets a typed error,
/// never a hang (every wait has a deadline, every loop consumes bytes).
///
/// Responses to requests that timed out earlier (an older sequence number)
/// are skipped, so a retry after a timeout is safe.
public final class LinkClient {
    public let transport: any LinkTransport
    public var timeoutMilliseconds: Int
    let crc = CRC32Table()
    let decoder: FrameDecoder
    var outgoing: [UInt8]
    var nextSeq: UInt16 = 1
    /// Bytes that were not frames, skipped since the client was made.
    public private(set) var skippedBytes = 0
    /// Garbage tolerated while waiting for one response before giving up.
    public var garbageLimit = 64 * 1024

    public init(transport: any LinkTransport, timeoutMilliseconds: Int = 5_000) {
        self.transport = transport
        self.timeoutMilliseconds = timeoutMilliseconds
        decoder = FrameDecoder(crc: crc, bufferCapacity: 64 * 1024)
        outgoing = [UInt8](repeating: 0, count: LinkFrame.maxFrame)
    }

    // MARK: Frames

    /// Sends one request frame whose payload `encode` writes; returns its seq.
    func send(_ type: LinkMessageType, _ encode: (UnsafeMutableRawBufferPointer) -> Int?) throws(LinkClientError) -> UInt16 {
        let seq = nextSeq
        nextSeq &+= 1
        if nextSeq == 0 { nextSeq = 1 }
        var result: Result<Void, LinkClientError> = .success(())
        let transport = self.transport
        let crc = self.crc
        let timeout = timeoutMilliseconds
        outgoing.withUnsafeMutableBytes { frame in
            let payload = UnsafeMutableRawBufferPointer(rebasing: frame[LinkFrame.headerSize...])
            guard let n = encode(payload) else {
                result = .failure(.requestTooLarge("\(type) payload does not fit in a frame"))
                return
            }
            let size = FrameCodec.seal(FrameHeader(type: type.rawValue, seq: seq, length: UInt32(n)), frame: frame, crc: crc)
            do throws(TransportError) {
                try transport.write(UnsafeRawBufferPointer(rebasing: frame[0..<size]), timeoutMilliseconds: timeout)
            } catch {
                result = .failure(.transport(error))
            }
        }
        try result.get()
        return seq
    }

    /// Appends one request frame (small payloads: ≤ 64 bytes) to `out`; returns its seq.
    func appendFrame(_ type: LinkMessageType, to out: inout [UInt8],
                     _ encode: (UnsafeMutableRawBufferPointer) -> Int?) -> UInt16 {
        let seq = nextSeq
        nextSeq &+= 1
        if nextSeq == 0 { nextSeq = 1 }
        let base = out.count
        out.append(contentsOf: repeatElement(0, count: LinkFrame.headerSize + 64))
        let crc = self.crc
        let size = out.withUnsafeMutableBytes { all -> Int in
            let frame = UnsafeMutableRawBufferPointer(rebasing: all[base...])
            let n = encode(UnsafeMutableRawBufferPointer(rebasing: frame[LinkFrame.headerSize...]))!
            return FrameCodec.seal(FrameHeader(type: type.rawValue, seq: seq, length: UInt32(n)), frame: frame, crc: crc)
        }
        out.removeLast(LinkFrame.headerSize + 64 - size)
        return seq
    }

    /// Waits for the response to (`type`, `seq`) and hands its body to
    /// `decode` while the bytes are valid.
    func response<T>(_ type: LinkMessageType, seq: UInt16,
                     _ decode: (UnsafeRawBufferPointer) throws(LinkMessageError) -> T) throws(LinkClientError) -> T {
        let deadline = timeoutMilliseconds > 0 ? SocketTransport.nowMilliseconds() + UInt64(timeoutMilliseconds) : 0
        var garbage = 0
        while true {
            switch decoder.next() {
            case .frame(let header, let payload):
                guard header.isResponse else { throw .unexpectedResponse("a request frame (type \(header.type)) from the device") }
                if header.seq != seq {
                    let age = seq &- header.seq
                    if age >= 1 && age < 0x8000 { continue }  // answer to an earlier, timed-out request
                    throw .unexpectedResponse("sequence \(header.seq), expected \(seq)")
                }
                let r: LinkResponse
                let isErrorFrame = header.type == LinkMessageType.error.rawValue
                do throws(LinkMessageError) {
                    r = try LinkResponse.decode(payload, type: isErrorFrame ? .error : type)
                } catch { throw .malformedResponse(error) }
                guard isErrorFrame || header.type == type.rawValue else {
                    throw .unexpectedResponse("type \(header.type) in answer to \(type)")
                }
                guard let status = r.status else {
                    throw .unknownStatus(request: type, raw: r.rawStatus, detail: r.detail)
                }
                guard status == .ok, !isErrorFrame else {
                    throw .refused(request: type, status: status == .ok ? .badRequest : status, detail: r.detail)
                }
                do throws(LinkMessageError) { return try decode(r.body) } catch { throw .malformedResponse(error) }
            case .error(let e):
                if case .garbage(let n) = e {
                    skippedBytes += n
                    garbage += n
                    if garbage > garbageLimit { throw .badFrame(e) }
                    continue
                }
                throw .badFrame(e)
            case .needMore:
                var wait = 0
                if deadline > 0 {
                    let now = SocketTransport.nowMilliseconds()
                    guard now < deadline else {
                        throw .transport(.timedOut("\(transport.name): no answer to \(type) within \(timeoutMilliseconds) ms"))
                    }
                    wait = Int(deadline - now)
                }
                let space = decoder.freeSpace
                do throws(TransportError) {
                    let n = try transport.read(into: space, timeoutMilliseconds: wait)
                    decoder.didReceive(n)
                } catch { throw .transport(error) }
            }
        }
    }

    func exchange<T>(_ type: LinkMessageType, _ encode: (UnsafeMutableRawBufferPointer) -> Int?,
                     _ decode: (UnsafeRawBufferPointer) throws(LinkMessageError) -> T) throws(LinkClientError) -> T {
        let seq = try send(type, encode)
        return try response(type, seq: seq, decode)
    }

    // MARK: Messages

    public func identify() throws(LinkClientError) -> DeviceIdentity {
        try exchange(.identify, { _ in 0 }) { body throws(LinkMessageError) in
            let r = try IdentifyResponse.decode(body)
            return DeviceIdentity(deviceID: Array(r.deviceID), minVersion: r.minVersion, maxVersion: r.maxVersion,
                                  storeState: LinkStoreState(rawValue: r.storeState) ?? .locked,
                                  isAuthenticated: r.isAuthenticated, isProvisioned: r.isProvisioned,
                                  configVersion: r.configVersion, freeBytes: r.freeBytes,
                                  recordsWaiting: r.recordsWaiting, challenge: Array(r.challenge),
                                  boardName: String(decoding: r.boardName, as: UTF8.self),
                                  firmwareVersion: String(decoding: r.firmwareVersion, as: UTF8.self))
        }
    }

    /// The bytes the provisioning key signs: "haven link auth v1" ‖ device id ‖ challenge.
    public static func authenticationMessage(deviceID: [UInt8], challenge: [UInt8]) -> [UInt8] {
        let prefix = LinkFrame.authDomain
        return Array(UnsafeRawBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)) + deviceID + challenge
    }

    /// Answers the challenge of `identity` (from the latest `identify`) with
    /// `signature`; `publicKey` is sent for trust on first use.
    public func authenticate(signature: [UInt8], publicKey: [UInt8]?) throws(LinkClientError) {
        try exchange(.authenticate, { p in
            signature.withUnsafeBytes { s in
                if let publicKey {
                    return publicKey.withUnsafeBytes { AuthenticateRequest(signature: s, publicKey: $0).encode(into: p) }
                }
                return AuthenticateRequest(signature: s, publicKey: nil).encode(into: p)
            }
        }) { body throws(LinkMessageError) in try SmallResponses.empty(body, .authenticate) }
    }

    /// identify, then sign the fresh challenge with `keyPair`. The public key
    /// goes along when the device is not provisioned yet (trust on first use).
    @discardableResult
    public func authenticate(keyPair: Sodium.Ed25519KeyPair) throws(LinkClientError) -> DeviceIdentity {
        let identity = try identify()
        let message = Self.authenticationMessage(deviceID: identity.deviceID, challenge: identity.challenge)
        let signature = Sodium.ed25519Sign(message: message, keyPair: keyPair)
        try authenticate(signature: signature, publicKey: identity.isProvisioned ? nil : keyPair.publicKey)
        return identity
    }

    /// put-config: begin, chunks, commit. Returns the installed version.
    public func putConfig(_ bundle: [UInt8], progress: ((Int, Int) -> Void)? = nil) throws(LinkClientError) -> UInt64 {
        guard !bundle.isEmpty, bundle.count <= Int(UInt32.max) else { throw .requestTooLarge("config bundle size") }
        let begin = try exchange(.configBegin, { ConfigBeginRequest(totalLength: UInt32(bundle.count)).encode(into: $0) }) {
            body throws(LinkMessageError) in try ConfigBeginResponse.decode(body)
        }
        let chunk = max(1, min(Int(begin.maxChunk), ConfigChunkRequest.maxData))
        var offset = 0
        while offset < bundle.count {
            let n = min(chunk, bundle.count - offset)
            let at = offset
            let received = try exchange(.configChunk, { p in
                bundle.withUnsafeBytes {
                    ConfigChunkRequest(offset: UInt32(at), data: UnsafeRawBufferPointer(rebasing: $0[at..<(at + n)])).encode(into: p)
                }
            }) { body throws(LinkMessageError) in try SmallResponses.received(body) }
            guard Int(received) == at + n else {
                throw .unexpectedResponse("device holds \(received) config bytes, expected \(at + n)")
            }
            offset += n
            progress?(offset, bundle.count)
        }
        let digest = Sodium.sha256(bundle)
        return try exchange(.configCommit, { p in
            digest.withUnsafeBytes { ConfigCommitRequest(totalLength: UInt32(bundle.count), sha256: $0).encode(into: p) }
        }) { body throws(LinkMessageError) in try SmallResponses.installedVersion(body) }
    }

    /// Up to `maxCount` finished records numbered above `after`; `more` when
    /// the list may continue (ask again after the last number).
    public func listRecords(after: UInt64 = 0, maxCount: Int = ListRecordsResponse.maxEntries)
        throws(LinkClientError) -> (records: [RecordInfo], more: Bool) {
        let limit = UInt16(max(1, min(maxCount, Int(UInt16.max))))
        return try exchange(.listRecords, { ListRecordsRequest(after: after, maxCount: limit).encode(into: $0) }) {
            body throws(LinkMessageError) in
            let r = try ListRecordsResponse.decode(body)
            var out: [RecordInfo] = []
            out.reserveCapacity(r.count)
            for i in 0..<r.count {
                let e = r.entry(i)
                guard e.number > after else { throw LinkMessageError(.invalidValue, offset: 8 + i * 48, type: .listRecords) }
                out.append(RecordInfo(number: e.number, size: e.size, corrupt: e.corrupt, sha256: Array(e.sha256)))
            }
            return (out, r.more)
        }
    }

    /// Every finished record waiting, in number order (several list requests).
    public func listAllRecords() throws(LinkClientError) -> [RecordInfo] {
        var all: [RecordInfo] = []
        var after: UInt64 = 0
        while true {
            let (page, more) = try listRecords(after: after)
            all += page
            guard more, let last = page.last else { return all }
            after = last.number
        }
    }

    /// One read-record exchange: up to `maxLength` bytes of record `number`
    /// from `offset`, and the record's total size.
    public func readRecord(_ number: UInt64, offset: UInt32, maxLength: Int = ReadRecordResponse.maxData)
        throws(LinkClientError) -> (total: UInt32, bytes: [UInt8]) {
        let max = UInt32(Swift.max(1, Swift.min(maxLength, Int(UInt32.max))))
        return try exchange(.readRecord, { ReadRecordRequest(number: number, offset: offset, maxLength: max).encode(into: $0) }) {
            body throws(LinkMessageError) in
            let r = try ReadRecordResponse.decode(body)
            guard r.offset == offset else { throw LinkMessageError(.invalidValue, offset: 4, type: .readRecord) }
            return (r.total, Array(r.data))
        }
    }

    /// Reads record `record` from `offset` to its end, keeping up to `window`
    /// requests in flight (pipelining hides the round trip), appending to
    /// `into`. Resumable: pass the bytes already held as `offset`. Checks the
    /// size against the listing; the caller checks the SHA-256.
    public func readRecord(_ record: RecordInfo, from offset: Int = 0, into output: inout [UInt8],
                           chunk: Int = ReadRecordResponse.maxData, window: Int = 4,
                           progress: ((Int) -> Void)? = nil) throws(LinkClientError) {
        let total = Int(record.size)
        guard offset <= total else { throw .integrity("resume offset \(offset) beyond record size \(total)") }
        let chunk = Swift.max(1, Swift.min(chunk, ReadRecordResponse.maxData))
        var requested = offset
        var received = offset
        var inFlight: [(seq: UInt16, offset: Int)] = []
        inFlight.reserveCapacity(window)
        while received < total {
            while inFlight.count < Swift.max(1, window) && requested < total {
                let at = requested
                let n = Swift.min(chunk, total - at)
                let seq = try send(.readRecord, {
                    ReadRecordRequest(number: record.number, offset: UInt32(at), maxLength: UInt32(n)).encode(into: $0)
                })
                inFlight.append((seq, at))
                requested += n
            }
            let (seq, at) = inFlight.removeFirst()
            let got: Int = try response(.readRecord, seq: seq) { body throws(LinkMessageError) in
                let r = try ReadRecordResponse.decode(body)
                guard Int(r.total) == total, Int(r.offset) == at, at == received else {
                    throw LinkMessageError(.invalidValue, offset: 0, type: .readRecord)
                }
                output.append(contentsOf: r.data)
                return r.data.count
            }
            guard got > 0 else { throw .integrity("record \(record.number): empty chunk at \(at) of \(total)") }
            received += got
            progress?(received)
            if got < Swift.min(chunk, total - at) {
                // A short chunk: drop the requests already in flight (their
                // answers are skipped by sequence number) and ask again.
                while !inFlight.isEmpty {
                    let (s, _) = inFlight.removeFirst()
                    _ = try response(.readRecord, seq: s) { _ throws(LinkMessageError) in 0 }
                }
                requested = received
            }
        }
    }

    /// How much to reserve for a record the device says is `size` bytes:
    /// the size is the device's word, and reserving it whole would let a
    /// hostile device make the host allocate 4 GiB with one listing entry
    /// (found by Tools/fuzz link-client). Beyond 1 MiB the buffer grows with
    /// the bytes that actually arrive.
    static func reservation(_ size: UInt32) -> Int { min(Int(size), 1 << 20) }

    /// Reads a whole record and checks its SHA-256 against the listing.
    public func fetchRecord(_ record: RecordInfo, window: Int = 4) throws(LinkClientError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.reservation(record.size))
        try readRecord(record, into: &bytes, window: window)
        guard Sodium.sha256(bytes) == record.sha256 else {
            throw .integrity("record \(record.number): SHA-256 does not match the listing")
        }
        return bytes
    }

    /// Pulls several records with up to `window` read requests in flight
    /// across record boundaries (small records do not each cost a round
    /// trip). Each record is handed to `body` whole, in order, after its
    /// size and (with `verify`) SHA-256 match the listing; nothing is
    /// acknowledged here. Without `verify` the caller must check the hash.
    public func fetchRecords(_ records: [RecordInfo], window: Int = 8, chunk: Int = ReadRecordResponse.maxData,
                             verify: Bool = true, _ body: (RecordInfo, [UInt8]) throws -> Void) throws {
        // Corrupt entries cannot be read (the device answers recordCorrupt).
        let records = records.filter { !$0.corrupt }
        let chunk = Swift.max(1, Swift.min(chunk, ReadRecordResponse.maxData))
        var next = (record: 0, offset: 0)  // next chunk to request
        var inFlight: [(seq: UInt16, record: Int, offset: Int)] = []
        var current: [UInt8] = []
        var index = 0  // record being assembled
        var batch: [UInt8] = []
        while index < records.count {
            // Refill the window in one write once half of it has drained.
            if inFlight.count <= Swift.max(1, window) / 2 {
                batch.removeAll(keepingCapacity: true)
                while inFlight.count < Swift.max(1, window) && next.record < records.count {
                    let r = records[next.record]
                    let at = next.offset
                    let n = Swift.min(chunk, Int(r.size) - at)
                    if n <= 0 {
                        next = (next.record + 1, 0)
                        continue
                    }
                    let seq = appendFrame(.readRecord, to: &batch) {
                        ReadRecordRequest(number: r.number, offset: UInt32(at), maxLength: UInt32(n)).encode(into: $0)
                    }
                    inFlight.append((seq, next.record, at))
                    next.offset += n
                    if next.offset >= Int(r.size) { next = (next.record + 1, 0) }
                }
                if !batch.isEmpty {
                    var failure: TransportError?
                    let transport = self.transport, timeout = timeoutMilliseconds
                    batch.withUnsafeBytes { b in
                        do throws(TransportError) { try transport.write(b, timeoutMilliseconds: timeout) } catch { failure = error }
                    }
                    if let failure { throw LinkClientError.transport(failure) }
                }
            }
            if records[index].size == 0 || current.count == Int(records[index].size) {
                let r = records[index]
                guard !verify || Sodium.sha256(current) == r.sha256 else {
                    throw LinkClientError.integrity("record \(r.number): SHA-256 does not match the listing")
                }
                try body(r, current)
                current = []
                current.reserveCapacity(index + 1 < records.count ? Self.reservation(records[index + 1].size) : 0)
                index += 1
                continue
            }
            guard !inFlight.isEmpty else { throw LinkClientError.integrity("record \(records[index].number) incomplete") }
            let (seq, ri, at) = inFlight.removeFirst()
            let total = Int(records[ri].size)
            let got: Int = try response(.readRecord, seq: seq) { body throws(LinkMessageError) in
                let d = try ReadRecordResponse.decode(body)
                guard Int(d.total) == total, Int(d.offset) == at, ri == index, at == current.count else {
                    throw LinkMessageError(.invalidValue, offset: 0, type: .readRecord)
                }
                current.append(contentsOf: d.data)
                return d.data.count
            }
            guard got > 0 else { throw LinkClientError.integrity("record \(records[ri].number): empty chunk at \(at)") }
        }
    }

    /// Marks records pulled on the device (only after they are safely
    /// stored on the host). Returns how many changed state.
    @discardableResult
    public func acknowledge(_ numbers: [UInt64]) throws(LinkClientError) -> Int {
        var done = 0
        var i = 0
        while i < numbers.count {
            let batch = Array(numbers[i..<Swift.min(numbers.count, i + AcknowledgeRequest.maxCount)])
            done += Int(try exchange(.acknowledge, { p in
                batch.withUnsafeBufferPointer { AcknowledgeRequest.encode($0, into: p) }
            }) { body throws(LinkMessageError) in try SmallResponses.acknowledged(body) })
            i += batch.count
        }
        return done
    }

    public func setTime(_ time: LinkCivilTime) throws(LinkClientError) {
        try exchange(.setTime, { SetTimeRequest(time: time).encode(into: $0) }) {
            body throws(LinkMessageError) in try SmallResponses.empty(body, .setTime)
        }
    }

    public func cryptoErase() throws(LinkClientError) {
        try exchange(.cryptoErase, { CryptoEraseRequest.encode(into: $0) }) {
            body throws(LinkMessageError) in try SmallResponses.empty(body, .cryptoErase)
        }
    }

    /// Sends raw bytes (tests: garbage, foreign versions) and waits for the
    /// response to `seq` of `type`.
    public func sendRaw(_ bytes: [UInt8]) throws(LinkClientError) {
        var failure: TransportError?
        bytes.withUnsafeBytes { b in
            do throws(TransportError) { try transport.write(b, timeoutMilliseconds: timeoutMilliseconds) } catch { failure = error }
        }
        if let failure { throw .transport(failure) }
    }

    public func close() { transport.close() }
}
