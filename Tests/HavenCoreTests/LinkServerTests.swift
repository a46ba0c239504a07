@testable import HavenCore
import HavenSodium
import Testing

/// The device side: sessions and authentication, put-config staging,
/// unknown types and versions.
@Suite struct LinkServerTests {
    let key = Sodium.ed25519KeyPair()

    func harness(pinned: Bool = true, configCapacity: Int = 20_000) -> (LinkHarness<MemoryBackend>, MemoryBackend) {
        let backend = MemoryBackend()
        if pinned { backend.pinnedKey = key.publicKey }
        backend.records = [(3, Array(repeating: 0xA3, count: 20_000)), (5, [1, 2, 3])]
        return (LinkHarness(LinkServer(backend: backend, configCapacity: configCapacity)), backend)
    }

    static let guarded: [(LinkMessageType, [UInt8])] = [
        (.configBegin, [16, 0, 0, 0, 0, 0, 0, 0]),
        (.configChunk, [0, 0, 0, 0, 1]),
        (.configCommit, [UInt8](repeating: 0, count: 40)),
        (.listRecords, [0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0]),
        (.readRecord, [3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0]),
        (.acknowledge, [1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0]),
        (.setTime, [0xE8, 0x07, 6, 10, 12, 0, 0, 0, 0, 0, 0, 0]),
        (.cryptoErase, Array("HVNERASE".utf8)),
    ]

    @Test func onlyIdentifyAndAuthenticateWorkBeforeAuthentication() {
        let (h, backend) = harness()
        for (type, payload) in Self.guarded {
            let r = h.request(type, payload)
            #expect(r.status == LinkStatusCode.notAuthenticated.rawValue, "\(type)")
            #expect(r.body.isEmpty)
        }
        #expect(backend.erased == 0 && backend.acknowledged.isEmpty && backend.installed.isEmpty && backend.time == nil)
        let id = h.identify()
        #expect(id.flags == 2)  // provisioned, not authenticated
        #expect(id.id == backend.id)
        #expect(h.authenticate(key) == 0)
        #expect(h.identify().flags == 3)
        // Now the same requests reach the backend.
        #expect(h.request(.listRecords, Self.guarded[3].1).status == 0)
        #expect(h.request(.setTime, Self.guarded[6].1).status == 0)
        #expect(backend.time == LinkCivilTime(year: 2024, month: 6, day: 10, hour: 12, minute: 0, second: 0, utcOffsetMinutes: 0))
        #expect(h.request(.cryptoErase, Self.guarded[7].1).status == 0)
        #expect(backend.erased == 1)
        // A new session (connection) starts unauthenticated.
        h.server.reset()
        #expect(h.request(.listRecords, Self.guarded[3].1).status == LinkStatusCode.notAuthenticated.rawValue)
    }

    @Test func aWrongKeyOrAWrongMessageIsRefused() {
        let (h, _) = harness()
        let other = Sodium.ed25519KeyPair()
        var id = h.identify()
        var sig = Sodium.ed25519Sign(message: LinkHarness<MemoryBackend>.signedMessage(id: id.id, challenge: id.challenge), keyPair: other)
        #expect(h.request(.authenticate, h.authPayload(signature: sig, key: other.publicKey)).status
                == LinkStatusCode.authenticationFailed.rawValue)  // a pinned device ignores an offered key
        // Right key, but over another device's id.
        id = h.identify()
        var wrongID = id.id
        wrongID[0] ^= 1
        sig = Sodium.ed25519Sign(message: LinkHarness<MemoryBackend>.signedMessage(id: wrongID, challenge: id.challenge), keyPair: key)
        #expect(h.request(.authenticate, h.authPayload(signature: sig, key: nil)).status == LinkStatusCode.authenticationFailed.rawValue)
        // Without the domain prefix.
        id = h.identify()
        sig = Sodium.ed25519Sign(message: id.id + id.challenge, keyPair: key)
        #expect(h.request(.authenticate, h.authPayload(signature: sig, key: nil)).status == LinkStatusCode.authenticationFailed.rawValue)
        #expect(h.request(.listRecords, Self.guarded[3].1).status == LinkStatusCode.notAuthenticated.rawValue)
        #expect(!h.server.isAuthenticated)
    }

    @Test func aReplayedSignatureOverAnOldChallengeIsRefused() {
        let (h, _) = harness()
        let first = h.identify()
        let sig = Sodium.ed25519Sign(message: LinkHarness<MemoryBackend>.signedMessage(id: first.id, challenge: first.challenge), keyPair: key)
        let payload = h.authPayload(signature: sig, key: nil)
        #expect(h.request(.authenticate, payload).status == 0)
        // Recorded and replayed in a later session: the device has a new challenge.
        h.server.reset()
        #expect(h.request(.authenticate, payload).status == LinkStatusCode.noChallenge.rawValue)
        let second = h.identify()
        #expect(second.challenge != first.challenge)
        #expect(h.request(.authenticate, payload).status == LinkStatusCode.authenticationFailed.rawValue)
        // The challenge is spent by that failure: the same answer again has none.
        #expect(h.request(.authenticate, payload).status == LinkStatusCode.noChallenge.rawValue)
        #expect(!h.server.isAuthenticated)
    }

    @Test func anUnprovisionedDeviceTrustsTheFirstKeyOffered() {
        let (h, backend) = harness(pinned: false)
        #expect(h.identify().flags == 0)
        let id = h.identify()
        let sig = Sodium.ed25519Sign(message: LinkHarness<MemoryBackend>.signedMessage(id: id.id, challenge: id.challenge), keyPair: key)
        let noKey = h.request(.authenticate, h.authPayload(signature: sig, key: nil))
        #expect(noKey.status == LinkStatusCode.authenticationFailed.rawValue && noKey.detail == 1)
        #expect(h.authenticate(key, sendKey: true) == 0)
        // The session key goes to the config installer, which pins it.
        let bundle = Array("config bundle".utf8)
        #expect(putConfig(h, bundle).status == 0)
        #expect(backend.installSessionKeys == [key.publicKey])
    }

    func putConfig(_ h: LinkHarness<MemoryBackend>, _ bundle: [UInt8], chunk: Int = 3000)
        -> (status: UInt8, detail: UInt8, body: [UInt8], header: FrameHeader) {
        let begin = h.request(.configBegin, h.encode { ConfigBeginRequest(totalLength: UInt32(bundle.count)).encode(into: $0) })
        if begin.status != 0 { return begin }
        var at = 0
        while at < bundle.count {
            let n = min(chunk, bundle.count - at)
            let r = h.request(.configChunk, h.encode { p in
                bundle.withUnsafeBytes { ConfigChunkRequest(offset: UInt32(at), data: UnsafeRawBufferPointer(rebasing: $0[at..<(at + n)])).encode(into: p) }
            })
            if r.status != 0 { return r }
            at += n
        }
        let digest = Sodium.sha256(bundle)
        return h.request(.configCommit, h.encode { p in
            digest.withUnsafeBytes { ConfigCommitRequest(totalLength: UInt32(bundle.count), sha256: $0).encode(into: p) }
        })
    }

    @Test func putConfigStagesChunksAndHandsTheWholeBundleToTheInstaller() {
        let (h, backend) = harness(configCapacity: 20_000)
        h.authenticate(key)
        let bundle = (0..<19_999).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let r = putConfig(h, bundle, chunk: 8188)
        #expect(r.status == 0)
        #expect(r.body == [1, 0, 0, 0, 0, 0, 0, 0])  // installed version 1
        #expect(backend.installed == [bundle])
        // Too large for the staging buffer.
        #expect(putConfig(h, [UInt8](repeating: 1, count: 20_001)).status == LinkStatusCode.configTooLarge.rawValue)
        // Installer refusal with its reason.
        let refused = putConfig(h, [0xEE, 1, 2])
        #expect(refused.status == LinkStatusCode.configRefused.rawValue && refused.detail == 7)
        // A chunk beyond what was received, and a commit before the end.
        #expect(h.request(.configBegin, h.encode { ConfigBeginRequest(totalLength: 10).encode(into: $0) }).status == 0)
        #expect(h.request(.configChunk, [4, 0, 0, 0, 1, 2]).status == LinkStatusCode.configSequence.rawValue)
        #expect(h.request(.configChunk, [0, 0, 0, 0, 1, 2, 3, 4]).status == 0)
        #expect(h.request(.configChunk, [0, 0, 0, 0, 1, 2]).status == 0)  // a resent chunk is harmless
        #expect(h.request(.configCommit, h.encode { p in
            Sodium.sha256([1, 2, 3, 4]).withUnsafeBytes { ConfigCommitRequest(totalLength: 10, sha256: $0).encode(into: p) }
        }).status == LinkStatusCode.configSequence.rawValue)
        // Wrong digest: refused and the staging is dropped.
        #expect(h.request(.configBegin, h.encode { ConfigBeginRequest(totalLength: 2).encode(into: $0) }).status == 0)
        #expect(h.request(.configChunk, [0, 0, 0, 0, 9, 9]).status == 0)
        #expect(h.request(.configCommit, h.encode { p in
            Sodium.sha256([9, 8]).withUnsafeBytes { ConfigCommitRequest(totalLength: 2, sha256: $0).encode(into: p) }
        }).status == LinkStatusCode.configDigestMismatch.rawValue)
        #expect(h.request(.configCommit, h.encode { p in
            Sodium.sha256([9, 9]).withUnsafeBytes { ConfigCommitRequest(totalLength: 2, sha256: $0).encode(into: p) }
        }).status == LinkStatusCode.configSequence.rawValue)
        #expect(backend.installed.count == 1)
    }

    @Test func unknownTypesVersionsAndDamagedFramesGetAnAnswerWithTheirSequence() {
        let (h, _) = harness()
        let unknown = h.feed(h.frame(0x55, [], seq: 900))
        #expect(unknown.count == 1 && unknown[0].header.type == 0x55 && unknown[0].header.seq == 900)
        #expect(unknown[0].payload[0] == LinkStatusCode.unknownType.rawValue)
        let v2 = h.feed(h.frame(0x01, [], seq: 901, version: 2))
        #expect(v2.count == 1 && v2[0].header.type == LinkMessageType.error.rawValue && v2[0].header.seq == 901)
        #expect(v2[0].payload == [LinkStatusCode.unsupportedVersion.rawValue, 1, 0, 0])
        var damaged = h.frame(0x01, [1, 2, 3], seq: 902)
        damaged[17] ^= 0x40
        let crc = h.feed(damaged)
        #expect(crc.count == 1 && crc[0].header.seq == 902 && crc[0].payload[0] == LinkStatusCode.frameCorrupt.rawValue)
        // Garbage gets no answer; the next request does.
        let after = h.feed([0, 1, 2, 3, 4, 0x48] + h.frame(0x01, [], seq: 903))
        #expect(after.count == 1 && after[0].header.seq == 903 && after[0].payload[0] == 0)
        #expect(h.server.bytesSkipped >= 6)
        // A malformed payload: bad request with the offset as detail.
        let bad = h.request(.identify, [1])
        #expect(bad.status == LinkStatusCode.badRequest.rawValue && bad.detail == 0)
    }

    @Test func pipelinedRequestsAreAnsweredInOrderWithBackPressure() {
        let (h, _) = harness()
        h.authenticate(key)
        var stream: [UInt8] = []
        for i in 0..<30 {
            stream += h.frame(LinkMessageType.readRecord.rawValue,
                              h.encode { ReadRecordRequest(number: 3, offset: UInt32(i * 100), maxLength: 8000).encode(into: $0) },
                              seq: UInt16(1000 + i))
        }
        // Requests are small, so the decoder holds them all, but only as
        // many are handled as the output has room for (4 frames).
        let before = h.server.framesHandled
        let taken = stream.withUnsafeBytes { h.server.receive($0) }
        #expect(taken == stream.count)
        #expect(h.server.framesHandled - before == 4)
        let responses = h.drain()
        #expect(responses.count == 30)
        #expect(responses.map { $0.header.seq } == (0..<30).map { UInt16(1000 + $0) })
        #expect(responses.allSatisfy { $0.payload[0] == 0 && $0.payload.count == 4 + 8 + 8000 })
    }
}
