/// One function per request type: decode strictly, check the session, call
/// the backend, write the body. Each returns the body length or a failure.
extension LinkServer {
    var challenge: UnsafeMutableRawBufferPointer { session.bytes.slice(0, 32) }
    var sessionKey: UnsafeMutableRawBufferPointer { session.bytes.slice(32, 32) }
    var signedMessage: UnsafeMutableRawBufferPointer { session.bytes.slice(64, Self.signedSize) }
    var digest: UnsafeMutableRawBufferPointer { session.bytes.slice(64 + Self.signedSize, 32) }

    func identify(_ payload: UnsafeRawBufferPointer) -> Result<Int, LinkFailure> {
        do throws(LinkMessageError) { try IdentifyRequest.decode(payload) } catch {
            return .failure(Self.badRequest(error))
        }
        let body = responseBody
        backend.deviceID(into: body.slice(0, 16))
        body[16] = LinkFrame.version
        body[17] = LinkFrame.version
        let status = backend.deviceStatus()
        body[18] = status.storeState.rawValue
        var flags: UInt8 = isAuthenticated ? 1 : 0
        if backend.provisioningKey(into: digest) { flags |= 2 }
        C.zeroize(digest)
        body[19] = flags
        body.storeLE(status.configVersion, at: 20)
        body.storeLE(status.storeState == .available ? status.freeBytes : 0, at: 28)
        body.storeLE(status.storeState == .available ? status.recordsWaiting : 0, at: 36)
        C.randomBytes(challenge)
        hasChallenge = true
        body.copy(UnsafeRawBufferPointer(challenge), to: 40)
        var at = IdentifyResponse.fixedSize
        let n = min(IdentifyResponse.maxText, backend.boardName(into: body.slice(at + 1, IdentifyResponse.maxText)))
        body[at] = UInt8(n)
        at += 1 + n
        let m = min(IdentifyResponse.maxText, backend.firmwareVersion(into: body.slice(at + 1, IdentifyResponse.maxText)))
        body[at] = UInt8(m)
        return .success(at + 1 + m)
    }

    func authenticate(_ payload: UnsafeRawBufferPointer) -> Result<Int, LinkFailure> {
        let request: AuthenticateRequest
        do throws(LinkMessageError) { request = try AuthenticateRequest.decode(payload) } catch {
            return .failure(Self.badRequest(error))
        }
        guard hasChallenge else { return .failure(LinkFailure(.noChallenge)) }
        // One attempt per challenge, and a failed attempt ends the session.
        hasChallenge = false
        isAuthenticated = false
        let key = sessionKey
        if !backend.provisioningKey(into: key) {
            guard let offered = request.publicKey else {
                C.zeroize(challenge)
                return .failure(LinkFailure(.authenticationFailed, detail: 1))
            }
            key.copy(offered, to: 0)
        }
        let message = signedMessage
        message.copy(UnsafeRawBufferPointer(start: LinkFrame.authDomain.utf8Start, count: Self.authPrefixSize), to: 0)
        backend.deviceID(into: message.slice(Self.authPrefixSize, 16))
        message.copy(UnsafeRawBufferPointer(challenge), to: Self.authPrefixSize + 16)
        let ok = C.ed25519Verify(signature: request.signature, message: UnsafeRawBufferPointer(message),
                                 publicKey: UnsafeRawBufferPointer(key))
        C.zeroize(challenge)
        guard ok else {
            C.zeroize(key)
            return .failure(LinkFailure(.authenticationFailed))
        }
        isAuthenticated = true
        return .success(0)
    }

    func abortConfig() {
        if stagedTotal > 0 || stagedReceived > 0 { C.zeroize(staging.bytes) }
        stagedTotal = 0
        stagedReceived = 0
    }

    func configBegin(_ payload: UnsafeRawBufferPointer) -> Result<Int, LinkFailure> {
        let request: ConfigBeginRequest
        do throws(LinkMessageError) { request = try ConfigBeginRequest.decode(payload) } catch {
            return .failure(Self.badRequest(error))
        }
        abortConfig()
        guard Int(request.totalLength) <= configCapacity else { return .failure(LinkFailure(.configTooLarge)) }
        stagedTotal = Int(request.totalLength)
        let body = responseBody
        body.storeLE(UInt32(configCapacity), at: 0)
        body.storeLE(UInt32(ConfigChunkRequest.maxData), at: 4)
        return .success(8)
    }

    func configChunk(_ payload: UnsafeRawBufferPointer) -> Result<Int, LinkFailure> {
        let request: ConfigChunkRequest
        do throws(LinkMessageError) { request = try ConfigChunkRequest.decode(payload) } catch {
            return .failure(Self.badRequest(error))
        }
        let offset = Int(request.offset), n = request.data.count
        guard stagedTotal > 0, offset <= stagedReceived, offset + n <= stagedTotal else {
            return .failure(LinkFailure(.configSequence))
        }
        // A resent chunk (the host timed out before our answer) is accepted
        // if it repeats bytes already staged.
        if offset + n > stagedReceived {
            staging.bytes.copy(request.data, to: offset)
            stagedReceived = offset + n
        }
        responseBody.storeLE(UInt32(stagedReceived), at: 0)
        return .success(4)
    }

    func configCommit(_ payload: UnsafeRawBufferPointer) -> Result<Int, LinkFailure> {
        let request: ConfigCommitRequest
        do throws(LinkMessageError) { request = try ConfigCommitRequest.decode(payload) } catch {
            return .failure(Self.badRequest(error))
        }
        guard stagedTotal > 0, stagedReceived == stagedTotal, Int(request.totalLength) == stagedTotal else {
            return .failure(LinkFailure(.configSequence))
        }
        let bundle = UnsafeRawBufferPointer(staging.bytes.slice(0, stagedTotal))
        C.sha256(message: bundle, output: digest)
        let match = C.constantTimeEqual(UnsafeRawBufferPointer(digest), request.sha256)
        C.zeroize(digest)
        guard match else {
            abortConfig()
            return .failure(LinkFailure(.configDigestMismatch))
        }
        let result: Result<UInt64, LinkFailure>
        do throws(LinkFailure) {
            result = .success(try backend.installConfig(bundle, sessionKey: UnsafeRawBufferPointer(sessionKey)))
        } catch {
            result = .failure(error)
        }
        abortConfig()
        switch result {
        case .success(let version):
            responseBody.storeLE(version, at: 0)
            return .success(8)
        case .failure(let f):
            return .failure(f)
        }
    }

    func listRecords(_ payload: UnsafeRawBufferPointer) -> Result<Int, LinkFailure> {
        let request: ListRecordsRequest
        do throws(LinkMessageError) { request = try ListRecordsRequest.decode(payload) } catch {
            return .failure(Self.badRequest(error))
        }
        var writer = RecordListWriter(body: responseBody, maxCount: Int(request.maxCount))
        do throws(LinkFailure) { try backend.listRecords(after: request.after, into: &writer) } catch {
            return .failure(error)
        }
        return .success(writer.finish())
    }

    func readRecord(_ payload: UnsafeRawBufferPointer) -> Result<Int, LinkFailure> {
        let request: ReadRecordRequest
        do throws(LinkMessageError) { request = try ReadRecordRequest.decode(payload) } catch {
            return .failure(Self.badRequest(error))
        }
        let body = responseBody
        let room = min(Int(request.maxLength), ReadRecordResponse.maxData)
        let got: (total: UInt32, count: Int)
        do throws(LinkFailure) {
            got = try backend.readRecord(request.number, offset: request.offset,
                                         into: body.slice(ReadRecordResponse.headerSize, room))
        } catch {
            return .failure(error)
        }
        body.storeLE(got.total, at: 0)
        body.storeLE(request.offset, at: 4)
        return .success(ReadRecordResponse.headerSize + got.count)
    }

    func acknowledge(_ payload: UnsafeRawBufferPointer) -> Result<Int, LinkFailure> {
        let request: AcknowledgeRequest
        do throws(LinkMessageError) { request = try AcknowledgeRequest.decode(payload) } catch {
            return .failure(Self.badRequest(error))
        }
        let changed: Int
        do throws(LinkFailure) { changed = try backend.acknowledge(request.numbers) } catch {
            return .failure(error)
        }
        let body = responseBody
        body.storeLE(UInt16(truncatingIfNeeded: changed), at: 0)
        body.storeLE(UInt16(0), at: 2)
        return .success(4)
    }

    func setTime(_ payload: UnsafeRawBufferPointer) -> Result<Int, LinkFailure> {
        let request: SetTimeRequest
        do throws(LinkMessageError) { request = try SetTimeRequest.decode(payload) } catch {
            return .failure(error.kind == .invalidValue ? LinkFailure(.invalidTime) : Self.badRequest(error))
        }
        do throws(LinkFailure) { try backend.setTime(request.time) } catch { return .failure(error) }
        return .success(0)
    }

    func cryptoErase(_ payload: UnsafeRawBufferPointer) -> Result<Int, LinkFailure> {
        do throws(LinkMessageError) { try CryptoEraseRequest.decode(payload) } catch {
            return .failure(Self.badRequest(error))
        }
        abortConfig()
        do throws(LinkFailure) { try backend.cryptoErase() } catch { return .failure(error) }
        return .success(0)
    }
}
