/// The device side of the link specialised for the firmware: a LinkServer
/// over a StoreLinkBackend on the safety controller (unlocked, one finished
/// interview). identify answers with the record waiting; list is refused
/// before authentication; the output is well-formed frames.
func linkChecks<F: Flash, C: CryptoSuite, K: SafetyClock>(_ t: inout Checker, _ c: SafetyController<F, C, K>) {
    let id = [UInt8](repeating: 0x3C, count: 16)
    let board: StaticString = "selftest"
    let firmware: StaticString = "1"
    let backend = id.withUnsafeBytes { i in
        StoreLinkBackend<F, C, K>(controller: c, deviceID: i,
                                  boardName: UnsafeRawBufferPointer(start: board.utf8Start, count: board.utf8CodeUnitCount),
                                  firmwareVersion: UnsafeRawBufferPointer(start: firmware.utf8Start, count: firmware.utf8CodeUnitCount))
    }
    let server = LinkServer(backend: backend, configCapacity: 1024, outputFrames: 2)
    let crc = CRC32Table()
    var request = [UInt8](repeating: 0, count: 64)
    var listPayload = [UInt8](repeating: 0, count: 16)
    _ = listPayload.withUnsafeMutableBytes { ListRecordsRequest(after: 0, maxCount: 4).encode(into: $0) }
    var n1 = 0, n2 = 0
    request.withUnsafeMutableBytes { r in
        let none = UnsafeRawBufferPointer(start: nil, count: 0)
        n1 = FrameCodec.encode(FrameHeader(type: LinkMessageType.identify.rawValue, seq: 1, length: 0), payload: none,
                               into: r, crc: crc) ?? 0
        listPayload.withUnsafeBytes { p in
            n2 = FrameCodec.encode(FrameHeader(type: LinkMessageType.listRecords.rawValue, seq: 2, length: 0), payload: p,
                                   into: UnsafeMutableRawBufferPointer(rebasing: r[n1...]), crc: crc) ?? 0
        }
    }
    let taken = request.withUnsafeBytes { server.receive(UnsafeRawBufferPointer(rebasing: $0[0..<(n1 + n2)])) }
    t.check(taken == n1 + n2, "link: requests taken")
    let decoder = FrameDecoder(crc: crc)
    _ = decoder.receive(server.pendingOutput)
    var waiting: UInt32 = 99
    var identified = false
    if case .frame(let h, let p) = decoder.next(), h.seq == 1, h.isResponse, p.count > 4, p[0] == 0 {
        do throws(LinkMessageError) {
            let body = UnsafeRawBufferPointer(rebasing: p[4...])
            let r = try IdentifyResponse.decode(body)
            waiting = r.recordsWaiting
            identified = r.storeState == LinkStoreState.available.rawValue && r.deviceID.elementsEqual(id)
        } catch {}
    }
    t.check(identified && waiting == 1, "link: identify reports the finished record")
    var refused = false
    if case .frame(let h, let p) = decoder.next(), h.seq == 2, p.count == 4 {
        refused = p[0] == LinkStatusCode.notAuthenticated.rawValue
    }
    t.check(refused, "link: list refused before authentication")
}
