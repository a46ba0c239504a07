@testable import HavenCore
import HavenSodium
import Testing

/// Frames: encoding, streaming decode in any chunking, and every kind of
/// damage with resynchronisation to the next good frame.
@Suite struct LinkFrameTests {
    let crc = CRC32Table()

    func frame(type: UInt8 = 0x21, seq: UInt16, payload: [UInt8], version: UInt8 = 1, flags: UInt8 = 0) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 16 + payload.count)
        let n = out.withUnsafeMutableBytes { o in
            payload.withUnsafeBytes { p in
                FrameCodec.encode(FrameHeader(version: version, type: type, seq: seq, flags: flags, length: 0),
                                  payload: p, into: o, crc: crc)
            }
        }
        #expect(n == out.count)
        return out
    }

    /// Decodes everything in `bytes` fed in the given chunk sizes.
    func decodeAll(_ bytes: [UInt8], chunks: [Int]) -> (frames: [(FrameHeader, [UInt8])], errors: [FrameError]) {
        let decoder = FrameDecoder(crc: crc)
        var frames: [(FrameHeader, [UInt8])] = []
        var errors: [FrameError] = []
        var at = 0, c = 0
        func drain() {
            while true {
                switch decoder.next() {
                case .frame(let h, let p): frames.append((h, Array(p)))
                case .error(let e): errors.append(e)
                case .needMore: return
                }
            }
        }
        while at < bytes.count {
            let want = min(chunks[c % chunks.count], bytes.count - at)
            c += 1
            var fed = 0
            while fed < want {
                let n = bytes.withUnsafeBytes { decoder.receive(UnsafeRawBufferPointer(rebasing: $0[(at + fed)..<(at + want)])) }
                fed += n
                drain()
            }
            at += want
        }
        drain()
        return (frames, errors)
    }

    func payload(_ n: Int, seed: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed) } }

    @Test func crcTableMatchesTheBitwiseCRC() {
        var rng = SplitMix64(seed: 7)
        for n in [0, 1, 7, 8, 9, 63, 1000, 8208] {
            let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            bytes.withUnsafeBytes { #expect(crc.checksum($0) == CRC32.checksum($0)) }
        }
        // The standard check value.
        Array("123456789".utf8).withUnsafeBytes { #expect(crc.checksum($0) == 0xCBF4_3926) }
    }

    @Test func headerLayoutIsAsSpecified() {
        let f = frame(type: 0x20, seq: 0x1234, payload: [1, 2, 3], flags: 1)
        #expect(Array(f[0..<4]) == [0x48, 0x4C, 1, 0x20])
        #expect(f[4] == 0x34 && f[5] == 0x12 && f[6] == 1)
        #expect(Array(f[8..<12]) == [3, 0, 0, 0])
        let crcField = UInt32(f[12]) | UInt32(f[13]) << 8 | UInt32(f[14]) << 16 | UInt32(f[15]) << 24
        #expect(crcField == (Array(f[0..<12]) + [1, 2, 3]).withUnsafeBytes { CRC32.checksum($0) })
        let check = (Array(f[0..<7]) + Array(f[8..<12])).withUnsafeBytes { CRC32.checksum($0) }
        #expect(f[7] == UInt8(truncatingIfNeeded: check))
    }

    @Test func roundTripsEveryPayloadSize() {
        for n in [0, 1, 15, 16, 17, 511, 512, 4096, LinkFrame.maxPayload] {
            let p = payload(n, seed: n)
            let r = decodeAll(frame(seq: UInt16(n), payload: p), chunks: [100_000])
            #expect(r.errors.isEmpty)
            #expect(r.frames.count == 1)
            #expect(r.frames.first?.0 == FrameHeader(type: 0x21, seq: UInt16(n), length: UInt32(n)))
            #expect(r.frames.first?.1 == p)
        }
    }

    @Test func decodesAStreamFedOneByteAtATimeAndInRandomChunks() {
        var stream: [UInt8] = []
        var expected: [[UInt8]] = []
        for i in 0..<40 {
            let p = payload((i * 397) % 3000, seed: i)
            expected.append(p)
            stream += frame(seq: UInt16(i), payload: p)
        }
        let oneByte = decodeAll(stream, chunks: [1])
        #expect(oneByte.errors.isEmpty)
        #expect(oneByte.frames.map { $0.1 } == expected)
        #expect(oneByte.frames.map { $0.0.seq } == (0..<40).map { UInt16($0) })
        var rng = SplitMix64(seed: 99)
        for _ in 0..<20 {
            let chunks = (0..<50).map { _ in 1 + Int(rng.next() % 9000) }
            let r = decodeAll(stream, chunks: chunks)
            #expect(r.errors.isEmpty)
            #expect(r.frames.map { $0.1 } == expected)
        }
        // USB-like: 512-byte packets.
        #expect(decodeAll(stream, chunks: [512]).frames.count == 40)
    }

    @Test func garbageIsSkippedAndCountedThenTheNextFrameDecodes() {
        let good = frame(seq: 5, payload: [9, 9, 9])
        let junk: [UInt8] = [0, 1, 2, 0x48, 0x00, 0x4C, 7]  // an "H" not followed by "L" is junk too
        let r = decodeAll(junk + good + [0xFF, 0xFE] + good, chunks: [1000])
        #expect(r.frames.count == 2)
        #expect(r.errors == [.garbage(skipped: 7), .garbage(skipped: 2)])
        // Fed byte by byte the skipped counts add up the same.
        let slow = decodeAll(junk + good, chunks: [1])
        let skipped = slow.errors.reduce(0) { if case .garbage(let n) = $1 { return $0 + n }; return $0 }
        #expect(skipped == 7)
        #expect(slow.frames.count == 1)
    }

    @Test func aBadCRCIsReportedWithTheSequenceAndTheStreamResynchronises() {
        var bad = frame(type: 0x21, seq: 77, payload: payload(100, seed: 1))
        bad[16 + 50] ^= 0x01
        let good = frame(seq: 78, payload: [1])
        let r = decodeAll(bad + good, chunks: [37])
        #expect(r.errors.first == .badCRC(type: 0x21, seq: 77))
        #expect(r.frames.count == 1 && r.frames[0].0.seq == 78)
    }

    @Test func aDamagedLengthIsCaughtByTheHeaderCheckWithoutWaiting() {
        var bad = frame(seq: 3, payload: [1, 2, 3])
        bad[9] = 0x10  // length now 4099: without the check the decoder would wait for it
        let good = frame(seq: 4, payload: [4])
        let r = decodeAll(bad + good, chunks: [1])
        #expect(r.errors.first == .badHeader)
        #expect(r.frames.count == 1 && r.frames[0].0.seq == 4)
    }

    @Test func oversizeLengthIsRefusedAtTheHeader() {
        var header = frame(seq: 9, payload: [])
        // Announce maxPayload + 1 with a consistent header check.
        let n = UInt32(LinkFrame.maxPayload + 1)
        header[8] = UInt8(n & 0xFF); header[9] = UInt8(n >> 8 & 0xFF); header[10] = UInt8(n >> 16 & 0xFF); header[11] = 0
        let check = (Array(header[0..<7]) + Array(header[8..<12])).withUnsafeBytes { CRC32.checksum($0) }
        header[7] = UInt8(truncatingIfNeeded: check)
        let r = decodeAll(header + frame(seq: 10, payload: [1]), chunks: [5])
        #expect(r.errors.first == .oversize(length: n, type: 0x21, seq: 9))
        #expect(r.frames.count == 1 && r.frames[0].0.seq == 10)
    }

    @Test func anUnknownVersionIsConsumedWholeAndReported() {
        let v2 = frame(type: 0x01, seq: 11, payload: Array("HL inside the payload".utf8), version: 2)
        let r = decodeAll(v2 + frame(seq: 12, payload: []), chunks: [3])
        #expect(r.errors == [.unsupportedVersion(version: 2, type: 0x01, seq: 11)])
        #expect(r.frames.count == 1 && r.frames[0].0.seq == 12)
    }

    @Test func aTruncatedFrameWaitsAndResetDropsIt() {
        let decoder = FrameDecoder(crc: crc)
        let f = frame(seq: 1, payload: payload(300, seed: 3))
        _ = f.withUnsafeBytes { decoder.receive(UnsafeRawBufferPointer(rebasing: $0[0..<200])) }
        if case .needMore = decoder.next() {} else { Issue.record("expected needMore") }
        #expect(decoder.buffered == 200)
        decoder.reset()
        #expect(decoder.buffered == 0)
        _ = f.withUnsafeBytes { decoder.receive($0) }
        if case .frame(let h, _) = decoder.next() { #expect(h.seq == 1) } else { Issue.record("expected a frame") }
    }

    @Test func messagePayloadsRoundTripAndRefuseDamageWithOffsets() throws {
        var buf = [UInt8](repeating: 0, count: 64)
        let read = ReadRecordRequest(number: 0x0102_0304_0506_0708, offset: 1000, maxLength: 4096)
        let n = buf.withUnsafeMutableBytes { read.encode(into: $0)! }
        #expect(n == 16)
        #expect(try buf.withUnsafeBytes { try ReadRecordRequest.decode(UnsafeRawBufferPointer(rebasing: $0[0..<16])) } == read)
        #expect(throws: LinkMessageError(.truncated, offset: 12, type: .readRecord)) {
            try buf.withUnsafeBytes { try ReadRecordRequest.decode(UnsafeRawBufferPointer(rebasing: $0[0..<15])) }
        }
        #expect(throws: LinkMessageError(.trailingBytes, offset: 16, type: .readRecord)) {
            try buf.withUnsafeBytes { try ReadRecordRequest.decode(UnsafeRawBufferPointer(rebasing: $0[0..<17])) }
        }
        let list = ListRecordsRequest(after: 42, maxCount: 10)
        _ = buf.withUnsafeMutableBytes { list.encode(into: $0) }
        #expect(try buf.withUnsafeBytes { try ListRecordsRequest.decode(UnsafeRawBufferPointer(rebasing: $0[0..<16])) } == list)
        buf[13] = 1
        #expect(throws: LinkMessageError(.reservedNotZero, offset: 13, type: .listRecords)) {
            try buf.withUnsafeBytes { try ListRecordsRequest.decode(UnsafeRawBufferPointer(rebasing: $0[0..<16])) }
        }
        let time = LinkCivilTime(year: 2024, month: 2, day: 29, hour: 23, minute: 59, second: 59, utcOffsetMinutes: 120)
        _ = buf.withUnsafeMutableBytes { SetTimeRequest(time: time).encode(into: $0) }
        #expect(try buf.withUnsafeBytes { try SetTimeRequest.decode(UnsafeRawBufferPointer(rebasing: $0[0..<12])) }.time == time)
        #expect(time.daysSince1970 == 19782)
        buf[3] = 30  // 30 February
        #expect(throws: LinkMessageError(.invalidValue, offset: 0, type: .setTime)) {
            try buf.withUnsafeBytes { try SetTimeRequest.decode(UnsafeRawBufferPointer(rebasing: $0[0..<12])) }
        }
        let numbers: [UInt64] = [3, 4, 9]
        let an = numbers.withUnsafeBufferPointer { p in buf.withUnsafeMutableBytes { AcknowledgeRequest.encode(p, into: $0)! } }
        let ack = try buf.withUnsafeBytes { try AcknowledgeRequest.decode(UnsafeRawBufferPointer(rebasing: $0[0..<an])) }
        #expect((0..<ack.numbers.count).map { ack.numbers[$0] } == numbers)
        #expect(throws: LinkMessageError(.truncated, offset: 8, type: .acknowledge)) {
            try buf.withUnsafeBytes { try AcknowledgeRequest.decode(UnsafeRawBufferPointer(rebasing: $0[0..<(an - 1)])) }
        }
    }
}
