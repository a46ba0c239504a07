/// What a frame decoder found that is not a frame. Every case says what was
/// dropped, so a receiver can count damage and, where a header was
/// plausible, answer the sequence number it carried.
public enum FrameError: Error, Equatable, Sendable {
    /// `skipped` bytes that could not start a frame were dropped while
    /// looking for the next magic "HL" (resynchronisation).
    case garbage(skipped: Int)
    /// Magic found but the header check byte is wrong: the two magic bytes
    /// were dropped and the search goes on after them.
    case badHeader
    /// A plausible header announcing more than the maximum payload; the
    /// magic was dropped.
    case oversize(length: UInt32, type: UInt8, seq: UInt16)
    /// A whole frame whose CRC-32 does not match; the magic was dropped.
    case badCRC(type: UInt8, seq: UInt16)
    /// A well-formed frame (CRC verified) of a version this code does not
    /// speak; the whole frame was consumed.
    case unsupportedVersion(version: UInt8, type: UInt8, seq: UInt16)
}

/// One step of `FrameDecoder.next()`.
public enum FrameEvent {
    /// A complete, verified v1 frame. `payload` points into the decoder's
    /// buffer and stays valid until the next `receive`, `freeSpace` or `reset`.
    case frame(FrameHeader, payload: UnsafeRawBufferPointer)
    /// Bytes were dropped (see `FrameError`); call `next()` again.
    case error(FrameError)
    /// No complete frame in the buffer: feed more bytes.
    case needMore
}

/// A streaming frame decoder with one fixed buffer (header + maximum
/// payload) allocated at init. Takes bytes in chunks of any size — one at a
/// time, several frames at once — and yields complete frames or typed
/// errors. It never allocates after init, never reads outside its buffer,
/// and every call to `next()` either returns a frame, drops at least one
/// byte, or reports `needMore`, so it cannot loop forever on hostile input.
public final class FrameDecoder {
    let crc: CRC32Table
    let maxPayload: Int
    let buffer: ScratchBuffer
    var start = 0
    var end = 0

    /// `maxPayload` ≤ `LinkFrame.maxPayload` (a peer may only announce
    /// less). `bufferCapacity` (at least one maximum frame) lets a host take
    /// several frames per read; a device keeps the minimum.
    public init(crc: CRC32Table, maxPayload: Int = LinkFrame.maxPayload, bufferCapacity: Int = 0) {
        self.crc = crc
        self.maxPayload = min(maxPayload, LinkFrame.maxPayload)
        buffer = ScratchBuffer(count: max(LinkFrame.headerSize + self.maxPayload, bufferCapacity))
    }

    deinit { buffer.free() }

    /// Bytes held (a partial frame, or frames not yet taken with `next()`).
    public var buffered: Int { end - start }

    /// Drops everything held (a new connection, a bus reset).
    public func reset() {
        start = 0
        end = 0
    }

    /// Moves held bytes to the front so the free space is contiguous.
    @inline(__always)
    func compact() {
        if start == 0 { return }
        let held = end - start
        if held > 0 {
            let b = buffer.bytes.baseAddress!
            (b).copyMemory(from: b + start, byteCount: held)
        }
        start = 0
        end = held
    }

    /// Where the next bytes can be written directly (read(2) into it, then
    /// `didReceive`). Empty when the buffer holds a full frame not yet taken.
    public var freeSpace: UnsafeMutableRawBufferPointer {
        compact()
        return buffer.bytes.slice(end, buffer.bytes.count - end)
    }

    /// `n` bytes were written at the start of `freeSpace`.
    public func didReceive(_ n: Int) {
        precondition(n >= 0 && end + n <= buffer.bytes.count, "didReceive beyond free space")
        end += n
    }

    /// Copies as many of `bytes` as fit and returns how many.
    public func receive(_ bytes: UnsafeRawBufferPointer) -> Int {
        let space = freeSpace
        let n = min(space.count, bytes.count)
        if n > 0 { space.copy(bytes.slice(0, n), to: 0) }
        end += n
        return n
    }

    /// The next frame or error in the buffered bytes.
    public func next() -> FrameEvent {
        let b = UnsafeRawBufferPointer(buffer.bytes)
        let available = end - start
        if available == 0 { return .needMore }
        // Resynchronise: a frame starts with "HL" (or "H" at the very end).
        if b[start] != LinkFrame.magic0 || (available >= 2 && b[start + 1] != LinkFrame.magic1) {
            var i = start + 1
            while i < end {
                if b[i] == LinkFrame.magic0 && (i + 1 == end || b[i + 1] == LinkFrame.magic1) { break }
                i += 1
            }
            let skipped = i - start
            start = i
            if start == end { reset() }
            return .error(.garbage(skipped: skipped))
        }
        if available < LinkFrame.headerSize { return .needMore }
        let h = b.slice(start, LinkFrame.headerSize)
        guard h[7] == FrameCodec.headerCheck(h, crc: crc) else {
            start += 2
            return .error(.badHeader)
        }
        let header = FrameHeader(version: h[2], type: h[3], seq: h.loadLE(UInt16.self, at: 4), flags: h[6],
                                 length: h.loadLE(UInt32.self, at: 8))
        guard header.length <= UInt32(maxPayload) else {
            start += 2
            return .error(.oversize(length: header.length, type: header.type, seq: header.seq))
        }
        let n = Int(header.length)
        if available < LinkFrame.headerSize + n { return .needMore }
        var r = crc.update(0xFFFF_FFFF, h.slice(0, 12))
        let payload = b.slice(start + LinkFrame.headerSize, n)
        r = crc.update(r, payload)
        guard ~r == h.loadLE(UInt32.self, at: 12) else {
            start += 2
            return .error(.badCRC(type: header.type, seq: header.seq))
        }
        start += LinkFrame.headerSize + n
        if start == end {
            start = 0
            end = 0
        }
        guard header.version == LinkFrame.version else {
            return .error(.unsupportedVersion(version: header.version, type: header.type, seq: header.seq))
        }
        return .frame(header, payload: payload)
    }
}
