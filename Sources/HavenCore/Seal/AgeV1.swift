/// Constants of the age v1 file format (C2SP age spec, age-encryption.org/v1)
/// shared by the device's sealer and the host's decryptor. See
/// `Docs/sealed-record.md` for the layout Haven writes.
public enum AgeV1 {
    /// `age-encryption.org/v1\n`
    public static let versionLine: StaticString = "age-encryption.org/v1\n"
    /// The start of every X25519 stanza's argument line.
    public static let x25519StanzaPrefix: StaticString = "-> X25519 "
    /// The HKDF info of an X25519 stanza's wrap key.
    public static let x25519Info: StaticString = "age-encryption.org/v1/X25519"
    /// The HKDF info of the header MAC key.
    public static let headerInfo: StaticString = "header"
    /// The HKDF info of the payload key.
    public static let payloadInfo: StaticString = "payload"

    /// The file key: 16 bytes from the CSPRNG, new for every file.
    public static let fileKeySize = 16
    /// The payload nonce at the start of the payload.
    public static let payloadNonceSize = 16
    /// Plaintext bytes per payload chunk (64 KiB); the last may be shorter.
    public static let chunkSize = 65536
    /// Poly1305 tag after every chunk and every wrapped file key.
    public static let tagSize = 16
    /// An encrypted full chunk.
    public static let encryptedChunkSize = chunkSize + tagSize
    /// Base64 columns per header body line.
    public static let columnsPerLine = 64

    /// Characters of an unpadded base64 encoding of 32 bytes (shares, MACs,
    /// wrapped file keys).
    public static let base64Of32 = 43

    /// `-> X25519 <43>\n<43>\n`: 10 + 43 + 1 + 43 + 1.
    public static let x25519StanzaSize = 98
    /// `--- <43>\n`.
    public static let macLineSize = 48

    /// Header bytes for `recipientCount` X25519 stanzas.
    public static func headerSize(recipientCount: Int) -> Int {
        versionLine.utf8CodeUnitCount + recipientCount * x25519StanzaSize + macLineSize
    }

    /// Chunks a payload of `plaintextCount` bytes is split into: at least
    /// one (an empty payload is one empty final chunk), and never an empty
    /// final chunk otherwise.
    public static func chunkCount(plaintextCount: Int) -> Int {
        plaintextCount == 0 ? 1 : (plaintextCount - 1) / chunkSize + 1
    }

    /// Payload bytes (nonce and chunks with their tags).
    public static func payloadSize(plaintextCount: Int) -> Int {
        payloadNonceSize + plaintextCount + chunkCount(plaintextCount: plaintextCount) * tagSize
    }

    /// The 12-byte ChaCha20-Poly1305 nonce of chunk `index`: an 11-byte
    /// big-endian counter, then 0x01 on the final chunk and 0x00 before it.
    public static func chunkNonce(index: UInt64, last: Bool, into nonce: UnsafeMutableRawBufferPointer) {
        precondition(nonce.count == 12, "chunk nonce is 12 bytes")
        nonce[0] = 0
        nonce[1] = 0
        nonce[2] = 0
        var k = 0
        while k < 8 {
            nonce[3 + k] = UInt8(truncatingIfNeeded: index >> UInt64(56 - 8 * k))
            k += 1
        }
        nonce[11] = last ? 1 : 0
    }

    /// Copies `text` to `output` at `position` and advances it.
    @inline(__always)
    static func put(_ text: StaticString, _ output: UnsafeMutableRawBufferPointer, _ position: inout Int) {
        let n = text.utf8CodeUnitCount
        (output.baseAddress! + position).copyMemory(from: text.utf8Start, byteCount: n)
        position += n
    }

    /// Writes one byte to `output` at `position` and advances it.
    @inline(__always)
    static func put(_ byte: UInt8, _ output: UnsafeMutableRawBufferPointer, _ position: inout Int) {
        output[position] = byte
        position += 1
    }
}
