import CAllocCounter
@testable import HavenCore
import HavenSodium
import Testing

/// `StoreLinkBackend` on a real `SafetyController` and RAM flash: finished
/// interviews listed, read and acknowledged; checkpoints never; locked is
/// locked; the pull path allocates nothing per frame.
@Suite struct LinkStoreBackendTests {
    typealias Backend = StoreLinkBackend<RAMFlash, Sodium, ManualClock>
    let key = Sodium.ed25519KeyPair()

    /// A device with `finished` sealed interviews and one in progress (with a
    /// checkpoint on flash), unlocked, behind an authenticated server.
    func device(finished: Int) throws -> (LinkHarness<Backend>, RAMSafety, [UInt64]) {
        let flash = RAMFlash(geometry: TestGeometry.sim)
        let device = try SafetyDevice.provision(flash)
        let c = try device.controller(flash, policy: try SafetyDevice.policy(checkpointEvery: 3), clock: ManualClock())
        try c.unlock(SafetyDevice.pin)
        var ids: [UInt64] = []
        for _ in 0..<finished {
            try c.typeSecrets(notes: true)
            _ = c.withInterviewOutcome { $0.next() }
            ids.append(try #require(try c.finalizeInterview()))
        }
        try c.typeSecrets()  // in progress: 4 answers, a checkpoint after 3
        let pinned = key.publicKey
        let backend = Array(repeating: UInt8(0xD1), count: 16).withUnsafeBytes { id in
            Array("ram-board".utf8).withUnsafeBytes { board in
                Array("1.0.0".utf8).withUnsafeBytes { fw in
                    Backend(controller: c, deviceID: id, boardName: board, firmwareVersion: fw,
                            hooks: StoreLinkHooks(configVersion: { 4 }, provisioningKey: { out in
                                out.copyBytes(from: pinned)
                                return true
                            }))
                }
            }
        }
        let h = LinkHarness(LinkServer(backend: backend, configCapacity: 4096))
        #expect(h.authenticate(key) == 0)
        return (h, c, ids)
    }

    func list(_ h: LinkHarness<Backend>, after: UInt64 = 0, max: UInt16 = 100) -> [(UInt64, UInt32, Bool, [UInt8])] {
        let r = h.request(.listRecords, h.encode { ListRecordsRequest(after: after, maxCount: max).encode(into: $0) })
        precondition(r.status == 0, "list status \(r.status)")
        return r.body.withUnsafeBytes { b in
            let l = try! ListRecordsResponse.decode(b)
            return (0..<l.count).map { let e = l.entry($0); return (e.number, e.size, e.corrupt, Array(e.sha256)) }
        }
    }

    func read(_ h: LinkHarness<Backend>, _ n: UInt64, offset: UInt32, max: UInt32) -> (status: UInt8, total: UInt32, data: [UInt8]) {
        let r = h.request(.readRecord, h.encode { ReadRecordRequest(number: n, offset: offset, maxLength: max).encode(into: $0) })
        guard r.status == 0 else { return (r.status, 0, []) }
        return r.body.withUnsafeBytes { b in
            let d = try! ReadRecordResponse.decode(b)
            return (0, d.total, Array(d.data))
        }
    }

    func ack(_ h: LinkHarness<Backend>, _ numbers: [UInt64]) -> UInt8 {
        h.request(.acknowledge, h.encode { p in numbers.withUnsafeBufferPointer { AcknowledgeRequest.encode($0, into: p) } }).status
    }

    @Test func finishedRecordsAreListedReadInChunksAndAcknowledgedButCheckpointsNeverListed() throws {
        let (h, c, ids) = try device(finished: 3)
        let store = try #require(c.mountedStore)
        // The store does hold an unpulled checkpoint (type 2) besides the three records.
        var cursor = try store.makeCursor()
        var types: [UInt8] = []
        while let e = try store.next(&cursor) { if case .record(let id, _) = e { types.append(try store.read(id)[0]) } }
        #expect(types.filter { $0 == 1 }.count == 3)
        #expect(types.contains(2))
        let checkpoint = try #require(try { () throws -> UInt64? in
            var cur = try store.makeCursor()
            while let e = try store.next(&cur) { if case .record(let id, _) = e, try store.read(id)[0] == 2 { return id } }
            return nil
        }())

        #expect(h.identify().waiting == 3)
        let listed = list(h)
        #expect(listed.map { $0.0 } == ids)
        for (n, size, corrupt, hash) in listed {
            let record = try store.read(n)
            #expect(!corrupt)
            #expect(Int(size) == record.count - 1)
            #expect(hash == Sodium.sha256(Array(record.dropFirst())))
        }
        #expect(list(h, after: ids[0]).map { $0.0 } == Array(ids.dropFirst()))
        #expect(list(h, max: 2).count == 2)

        // Read in chunks, resuming at an offset.
        let expected = Array(try store.read(ids[1]).dropFirst())
        var got: [UInt8] = []
        while got.count < expected.count {
            let r = read(h, ids[1], offset: UInt32(got.count), max: 700)
            #expect(r.status == 0 && Int(r.total) == expected.count)
            got += r.data
        }
        #expect(got == expected)
        #expect(got.starts(with: Array("age-encryption.org/v1\n".utf8)))
        #expect(read(h, ids[1], offset: UInt32(expected.count), max: 10).data.isEmpty)
        #expect(read(h, ids[1], offset: UInt32(expected.count + 1), max: 10).status == LinkStatusCode.badRequest.rawValue)
        // A checkpoint can neither be read nor acknowledged; unknown numbers neither.
        #expect(read(h, checkpoint, offset: 0, max: 10).status == LinkStatusCode.unknownRecord.rawValue)
        #expect(ack(h, [ids[0], checkpoint]) == LinkStatusCode.unknownRecord.rawValue)
        #expect(ack(h, [999]) == LinkStatusCode.unknownRecord.rawValue)
        #expect(!store.isPulled(ids[0]))  // all or nothing

        #expect(ack(h, ids) == 0)
        #expect(ids.allSatisfy { store.isPulled($0) })
        #expect(!store.isPulled(checkpoint))
        #expect(ack(h, ids) == 0)  // idempotent
        #expect(list(h).isEmpty)
        #expect(h.identify().waiting == 0)
        // The interview in progress still resumes from its checkpoint.
        #expect(c.state == .unlocked)
    }

    @Test func aLockedDeviceAnswersLockedAndIdentifyStillWorks() throws {
        let (h, c, _) = try device(finished: 1)
        c.lock()
        let id = h.identify()
        #expect(id.state == LinkStoreState.locked.rawValue && id.waiting == 0)
        #expect(h.request(.listRecords, h.encode { ListRecordsRequest(after: 0, maxCount: 5).encode(into: $0) }).status
                == LinkStatusCode.locked.rawValue)
        #expect(read(h, 1, offset: 0, max: 10).status == LinkStatusCode.locked.rawValue)
        #expect(ack(h, [1]) == LinkStatusCode.locked.rawValue)
    }

    @Test func cryptoEraseLeavesTheDeviceErased() throws {
        let (h, c, _) = try device(finished: 1)
        #expect(h.request(.cryptoErase, Array("HVNERASE".utf8)).status == 0)
        #expect(c.state == .erased)
        #expect(c.mountedStore == nil)
        #expect(superblocksBlank(c.flash))
        #expect(try c.unlock(SafetyDevice.pin) == .wrongPIN(attemptsLeft: 4))
    }

    @Test func handlingAFrameAllocatesNothingAfterStartUp() throws {
        let (h, _, ids) = try device(finished: 3)
        let identify = h.frame(LinkMessageType.identify.rawValue, [], seq: 1)
        let listFrame = h.frame(LinkMessageType.listRecords.rawValue,
                                h.encode { ListRecordsRequest(after: 0, maxCount: 10).encode(into: $0) }, seq: 2)
        let readFrame = h.frame(LinkMessageType.readRecord.rawValue,
                                h.encode { ReadRecordRequest(number: ids[0], offset: 100, maxLength: 4000).encode(into: $0) }, seq: 3)
        let ackFrame = h.frame(LinkMessageType.acknowledge.rawValue,
                               h.encode { p in [ids[2]].withUnsafeBufferPointer { AcknowledgeRequest.encode($0, into: p) } }, seq: 4)
        let server = h.server
        var sink = [UInt8](repeating: 0, count: 64 * 1024)
        /// Feeds one frame and discards the answer, without allocating.
        func run(_ frame: [UInt8]) -> Int {
            var answered = 0
            frame.withUnsafeBytes { f in
                sink.withUnsafeMutableBytes { s in
                    var taken = 0
                    while taken < f.count {
                        taken += server.receive(UnsafeRawBufferPointer(rebasing: f[taken...]))
                        let out = server.pendingOutput
                        s.copyMemory(from: out)
                        answered += out.count
                        server.didSend(out.count)
                    }
                }
            }
            return answered
        }
        // Warm-up (first-use metadata, caches).
        var i = 0
        while i < 3 {
            _ = run(identify); _ = run(listFrame); _ = run(readFrame)
            i += 1
        }
        let before = haven_thread_allocations()
        var bytes = 0
        i = 0
        while i < 50 {
            bytes += run(identify)
            bytes += run(listFrame)
            bytes += run(readFrame)
            i += 1
        }
        bytes += run(ackFrame)
        let allocations = haven_thread_allocations() - before
        #expect(allocations == 0, "\(allocations) allocations for 151 frames")
        #expect(bytes > 151 * 20)
        #expect(server.framesHandled >= 151 + 9)
        #expect(server.framesRejected == 0)
    }
}
