/// The device side of the link protocol (Docs/link-protocol.md): a state
/// machine that takes the bytes the host sent and produces response frames
/// in a fixed output buffer, delegating operations to `Backend`.
///
/// Everything is allocated in `init` — the frame decoder (one maximum
/// frame), the output buffer (`outputFrames` maximum frames, so the host
/// can pipeline requests), the put-config staging buffer (`configCapacity`
/// bytes), the CRC table and the challenge — so handling a frame allocates
/// nothing. Back-pressure: a request is handled only when the output buffer
/// has room for a maximum response; until the transport drains it
/// (`pendingOutput` / `didSend`), `receive` accepts no more bytes than fit
/// in the decoder.
///
/// Session rules (§4): identify and authenticate always work; every other
/// message needs an authenticated session. `reset()` ends the session (new
/// connection, USB bus reset, cable pulled).
public final class LinkServer<Backend: LinkBackend> {
    public let backend: Backend
    typealias C = Backend.Crypto
    let crc = CRC32Table()
    let decoder: FrameDecoder
    let output: ScratchBuffer
    var outStart = 0
    var outEnd = 0
    let staging: ScratchBuffer
    public let configCapacity: Int
    var stagedTotal = 0
    var stagedReceived = 0
    /// challenge[32] ‖ session key[32] ‖ signed message (prefix ‖ id ‖ challenge) ‖ digest[32]
    let session: ScratchBuffer
    var hasChallenge = false
    public internal(set) var isAuthenticated = false

    /// Frames handled and damage seen, for diagnostics.
    public private(set) var framesHandled = 0
    public private(set) var framesRejected = 0
    public private(set) var bytesSkipped = 0

    static var authPrefixSize: Int { LinkFrame.authDomain.utf8CodeUnitCount }
    static var signedSize: Int { authPrefixSize + 16 + 32 }

    public init(backend: Backend, configCapacity: Int, outputFrames: Int = 4) {
        self.backend = backend
        self.configCapacity = configCapacity
        decoder = FrameDecoder(crc: crc)
        output = ScratchBuffer(count: max(1, outputFrames) * LinkFrame.maxFrame)
        staging = ScratchBuffer(count: configCapacity)
        session = ScratchBuffer(count: 64 + Self.signedSize + 32)
    }

    deinit {
        C.zeroize(staging.bytes)
        C.zeroize(session.bytes)
        staging.free()
        session.free()
        output.free()
    }

    // MARK: Transport side

    /// Response bytes waiting to be sent, oldest first.
    public var pendingOutput: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(output.bytes.slice(outStart, outEnd - outStart))
    }

    /// The transport sent the first `n` bytes of `pendingOutput`; frees room
    /// and handles requests that were waiting for it.
    public func didSend(_ n: Int) {
        precondition(n >= 0 && n <= outEnd - outStart, "didSend beyond pending output")
        outStart += n
        if outStart == outEnd {
            outStart = 0
            outEnd = 0
        }
        process()
    }

    /// Feeds received bytes; handles every complete request for which the
    /// output has room. Returns how many bytes were taken: fewer than
    /// `bytes.count` only when both the decoder and the output are full
    /// (send `pendingOutput`, then feed the rest).
    @discardableResult
    public func receive(_ bytes: UnsafeRawBufferPointer) -> Int {
        var taken = 0
        while taken < bytes.count {
            let n = decoder.receive(bytes.slice(taken, bytes.count - taken))
            taken += n
            process()
            if n == 0 && decoder.freeSpace.count == 0 { break }
        }
        return taken
    }

    /// Where received bytes can be written directly (then `didReceive`).
    public var receiveSpace: UnsafeMutableRawBufferPointer { decoder.freeSpace }

    public func didReceive(_ n: Int) {
        decoder.didReceive(n)
        process()
    }

    /// Bytes of an incomplete frame held (a transport may drop them after
    /// an idle timeout with `discardPartialInput`).
    public var partialInput: Int { decoder.buffered }

    /// Drops buffered input (§3: a receiver that sees no byte for a while in
    /// the middle of a frame discards it).
    public func discardPartialInput() { decoder.reset() }

    /// Ends the session: drops input and unsent output, the staged config,
    /// the challenge and the authentication.
    public func reset() {
        decoder.reset()
        outStart = 0
        outEnd = 0
        abortConfig()
        C.zeroize(session.bytes)
        hasChallenge = false
        isAuthenticated = false
    }

    // MARK: Frames

    /// Room for one maximum response at the end of the output buffer.
    @inline(__always)
    func outputRoom() -> Bool {
        if output.bytes.count - outEnd >= LinkFrame.maxFrame { return true }
        if outStart > 0 {
            let pending = outEnd - outStart
            let b = output.bytes.baseAddress!
            b.copyMemory(from: b + outStart, byteCount: pending)
            outStart = 0
            outEnd = pending
        }
        return output.bytes.count - outEnd >= LinkFrame.maxFrame
    }

    func process() {
        while outputRoom() {
            switch decoder.next() {
            case .needMore:
                return
            case .frame(let header, let payload):
                framesHandled += 1
                handle(header, payload)
            case .error(let error):
                framesRejected += 1
                switch error {
                case .garbage(let n):
                    bytesSkipped += n
                case .badHeader:
                    bytesSkipped += 2
                case .badCRC(_, let seq):
                    respondError(seq: seq, .frameCorrupt, detail: 0)
                case .oversize(_, _, let seq):
                    respondError(seq: seq, .frameTooLarge, detail: 0)
                case .unsupportedVersion(_, _, let seq):
                    respondError(seq: seq, .unsupportedVersion, detail: LinkFrame.version)
                }
            }
        }
    }

    /// The payload area of the next response frame.
    @inline(__always)
    var responsePayload: UnsafeMutableRawBufferPointer {
        output.bytes.slice(outEnd + LinkFrame.headerSize, LinkFrame.maxPayload)
    }

    /// Seals the response whose payload (status prefix + `bodyLength`) is in place.
    func emit(type: UInt8, seq: UInt16, bodyLength: Int) {
        let header = FrameHeader(type: type, seq: seq, flags: LinkFrame.responseFlag,
                                 length: UInt32(LinkFrame.statusSize + bodyLength))
        outEnd += FrameCodec.seal(header, frame: output.bytes.slice(outEnd, LinkFrame.maxFrame), crc: crc)
    }

    func respondError(seq: UInt16, _ code: LinkStatusCode, detail: UInt8) {
        LinkResponse.writeStatus(code, detail: detail, into: responsePayload)
        emit(type: LinkMessageType.error.rawValue, seq: seq, bodyLength: 0)
    }

    func respond(_ type: UInt8, seq: UInt16, failure: LinkFailure) {
        LinkResponse.writeStatus(failure.code, detail: failure.detail, into: responsePayload)
        emit(type: type, seq: seq, bodyLength: 0)
    }

    /// The body area after the status prefix.
    @inline(__always)
    var responseBody: UnsafeMutableRawBufferPointer {
        responsePayload.slice(LinkFrame.statusSize, LinkFrame.maxPayload - LinkFrame.statusSize)
    }

    func respondOK(_ type: UInt8, seq: UInt16, bodyLength: Int) {
        LinkResponse.writeStatus(.ok, detail: 0, into: responsePayload)
        emit(type: type, seq: seq, bodyLength: bodyLength)
    }

    func handle(_ header: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        let seq = header.seq
        guard let type = LinkMessageType(rawValue: header.type), type != .error, !header.isResponse else {
            respond(header.type, seq: seq, failure: LinkFailure(header.isResponse ? .badRequest : .unknownType))
            return
        }
        if type != .identify && type != .authenticate && !isAuthenticated {
            respond(header.type, seq: seq, failure: LinkFailure(.notAuthenticated))
            return
        }
        let result: Result<Int, LinkFailure>
        switch type {
        case .identify: result = identify(payload)
        case .authenticate: result = authenticate(payload)
        case .configBegin: result = configBegin(payload)
        case .configChunk: result = configChunk(payload)
        case .configCommit: result = configCommit(payload)
        case .listRecords: result = listRecords(payload)
        case .readRecord: result = readRecord(payload)
        case .acknowledge: result = acknowledge(payload)
        case .setTime: result = setTime(payload)
        case .cryptoErase: result = cryptoErase(payload)
        case .error: result = .failure(LinkFailure(.unknownType))
        }
        switch result {
        case .success(let n): respondOK(header.type, seq: seq, bodyLength: n)
        case .failure(let f): respond(header.type, seq: seq, failure: f)
        }
    }

    static func badRequest(_ e: LinkMessageError) -> LinkFailure {
        LinkFailure(.badRequest, detail: UInt8(min(e.offset, 255)))
    }
}
