/// The 16-byte header in front of every frame (Docs/link-protocol.md §2):
///
///     0  2  magic "HL" (48 4C)
///     2  1  version (1)
///     3  1  message type
///     4  2  sequence number, u16 LE
///     6  1  flags (bit 0: response; other bits 0, ignored on read)
///     7  1  header check: low byte of CRC-32(bytes 0..<7 ‖ bytes 8..<12)
///     8  4  payload length, u32 LE (≤ LinkFrame.maxPayload)
///    12  4  CRC-32 of bytes 0..<12 ‖ payload, u32 LE
///
/// The header check lets a receiver reject a damaged length at once rather
/// than wait for a payload that will never come.
public struct FrameHeader: Equatable, Sendable {
    public var version: UInt8
    public var type: UInt8
    public var seq: UInt16
    public var flags: UInt8
    public var length: UInt32

    public init(version: UInt8 = LinkFrame.version, type: UInt8, seq: UInt16, flags: UInt8 = 0, length: UInt32) {
        self.version = version
        self.type = type
        self.seq = seq
        self.flags = flags
        self.length = length
    }

    public var isResponse: Bool { flags & LinkFrame.responseFlag != 0 }
}

/// Writing frames into a caller's buffer.
public enum FrameCodec {
    /// Header check byte of the 16 header bytes at `h` (bytes 0..<7, 8..<12).
    @inline(__always)
    static func headerCheck(_ h: UnsafeRawBufferPointer, crc: CRC32Table) -> UInt8 {
        var r = crc.update(0xFFFF_FFFF, h.slice(0, 7))
        r = crc.update(r, h.slice(8, 4))
        return UInt8(truncatingIfNeeded: ~r)
    }

    /// Writes the header in front of a payload already at
    /// `frame[16 ..< 16 + header.length]` and returns the frame's size. The
    /// caller guarantees `frame.count >= 16 + length` and `length <= maxPayload`.
    @discardableResult
    public static func seal(_ header: FrameHeader, frame: UnsafeMutableRawBufferPointer, crc: CRC32Table) -> Int {
        let n = Int(header.length)
        precondition(n <= LinkFrame.maxPayload && frame.count >= LinkFrame.headerSize + n, "frame buffer too small")
        frame[0] = LinkFrame.magic0
        frame[1] = LinkFrame.magic1
        frame[2] = header.version
        frame[3] = header.type
        frame.storeLE(header.seq, at: 4)
        frame[6] = header.flags
        frame.storeLE(header.length, at: 8)
        let h = UnsafeRawBufferPointer(frame)
        frame[7] = headerCheck(h, crc: crc)
        var r = crc.update(0xFFFF_FFFF, h.slice(0, 12))
        r = crc.update(r, h.slice(LinkFrame.headerSize, n))
        frame.storeLE(~r, at: 12)
        return LinkFrame.headerSize + n
    }

    /// Copies `payload` after a header into `output` and returns the frame's
    /// size, or nil if it does not fit (or the payload is above the maximum).
    public static func encode(_ header: FrameHeader, payload: UnsafeRawBufferPointer,
                              into output: UnsafeMutableRawBufferPointer, crc: CRC32Table) -> Int? {
        guard payload.count <= LinkFrame.maxPayload, output.count >= LinkFrame.headerSize + payload.count else {
            return nil
        }
        var h = header
        h.length = UInt32(payload.count)
        output.copy(payload, to: LinkFrame.headerSize)
        return seal(h, frame: output, crc: crc)
    }
}
