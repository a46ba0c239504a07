import HavenCore
import HavenSodium

/// age v1 files on the host: decrypting what devices sealed (and anything
/// the `age` CLI writes to X25519 recipients, binary form), and encrypting
/// through the device's own sealer (`AgeSealer<Sodium>`).
///
/// The decryptor treats the file as hostile. In order, it:
/// 1. parses the whole header against the spec grammar (version line,
///    `-> type args…` stanza lines, base64 body lines wrapped at 64 columns
///    ending with a shorter line, `--- <MAC>`), with limits on line length,
///    header size and stanza count;
/// 2. checks every X25519 stanza's shape (one 32-byte share argument,
///    32-byte body) and ignores stanzas of other types, except that an
///    scrypt stanza must stand alone;
/// 3. unwraps the file key with the first identity that opens a stanza;
/// 4. verifies the header MAC — before any payload byte is decrypted;
/// 5. decrypts the STREAM payload: every chunk but the last is full and
///    unflagged, the last is flagged, empty only if the whole payload is,
///    and nothing follows it.
/// File keys, shared secrets and derived keys are zeroized after use, and
/// the plaintext buffer is cleared if a later chunk fails.
///
/// ASCII armor is refused (`AgeError.armored`): Haven never writes it, and a
/// second, malleable encoding is attack surface the team does not need
/// (`age -d` reads armored files).
public enum AgeFile {
    /// Longest header line other than a body line (which is at most 64).
    /// Covers every native stanza type (an mlkem768p256tag line is about
    /// 1.6 KB) with room to spare.
    public static let maxHeaderLineLength = 4096
    /// Most stanzas in one header.
    public static let maxStanzas = 256
    /// Largest header.
    public static let maxHeaderSize = 1 << 20

    // MARK: Decrypting

    /// Decrypts an age v1 file with the first of `identities` that matches
    /// one of its X25519 stanzas.
    public static func decrypt(_ file: [UInt8], identities: [AgeIdentity]) throws(AgeError) -> [UInt8] {
        let header = try parseHeader(file)
        let fileKey = try unwrapFileKey(header, identities: identities)
        try verifyMAC(file, header: header, fileKey: fileKey)
        return try decryptPayload(file, from: header.end, fileKey: fileKey)
    }

    // MARK: Encrypting

    /// Encrypts `plaintext` to `recipients` with the device's sealer, so host
    /// and device write byte-for-byte the same structure.
    public static func encrypt(_ plaintext: [UInt8], to recipients: [AgeRecipient]) throws(SealError) -> [UInt8] {
        var keys: [UInt8] = []
        keys.reserveCapacity(recipients.count * 32)
        for r in recipients { keys += r.publicKey }
        var output = [UInt8](repeating: 0, count: AgeSealer<Sodium>.sealedSize(
            plaintextCount: plaintext.count, recipientCount: recipients.count))
        // Array's closure APIs rethrow untyped errors: carry the typed one out.
        let result: Result<Int, SealError> = plaintext.withUnsafeBytes { p in
            keys.withUnsafeBytes { k in
                output.withUnsafeMutableBytes { o in
                    Result { () throws(SealError) -> Int in
                        try AgeSealer<Sodium>.seal(plaintext: p, recipients: k, output: o)
                    }
                }
            }
        }
        let written = try result.get()
        precondition(written == output.count, "sealedSize is exact")
        return output
    }

    // MARK: - Header

    /// One recipient stanza: its arguments (the type first) and its body.
    struct Stanza {
        var line: Int
        var arguments: [[UInt8]]
        var body: [UInt8]

        var type: [UInt8] { arguments[0] }
    }

    /// A parsed header: the stanzas, the MAC, where the MAC's coverage ends
    /// (just after `---`) and where the payload begins.
    struct Header {
        var stanzas: [Stanza]
        var mac: [UInt8]
        var macLine: Int
        var macCoveredEnd: Int
        var end: Int
    }

    private static let magic = Array("age-encryption.org/".utf8)
    private static let versionV1 = Array("age-encryption.org/v1".utf8)
    private static let armorBegin = Array("-----BEGIN AGE ENCRYPTED FILE-----".utf8)
    private static let x25519Type = Array("X25519".utf8)
    private static let scryptType = Array("scrypt".utf8)
    private static let lf: UInt8 = 0x0A
    private static let space: UInt8 = 0x20
    private static let dash: UInt8 = 0x2D

    /// Parses and checks the header (steps 1 and 2 above).
    static func parseHeader(_ file: [UInt8]) throws(AgeError) -> Header {
        // Armor: PEM allows whitespace before the block.
        var first = 0
        while first < file.count, file[first] == 0x20 || file[first] == 0x09 || file[first] == 0x0A
            || file[first] == 0x0D { first += 1 }
        if file.count - first >= armorBegin.count, Array(file[first..<(first + armorBegin.count)]) == armorBegin {
            throw .armored
        }

        // Version line.
        let prefixLength = min(file.count, magic.count)
        guard prefixLength > 0, file[0..<prefixLength].elementsEqual(magic[0..<prefixLength]) else { throw .notAgeFile }
        if file.count < magic.count { throw .truncated(offset: file.count) }
        var position = 0
        var line = 1
        let version = try nextLine(file, &position, line: line, limit: maxHeaderLineLength)
        guard Array(file[version]) == versionV1 else {
            let text = file[(version.lowerBound + magic.count)..<version.upperBound].prefix(32)
                .map { $0 >= 0x20 && $0 < 0x7F ? Character(UnicodeScalar($0)) : "?" }
            throw .unsupportedVersion(String(text))
        }

        var stanzas: [Stanza] = []
        var inBody = false
        while true {
            line += 1
            if position > maxHeaderSize { throw .headerTooLarge(limit: maxHeaderSize) }
            let lineStart = position
            if inBody {
                let content = try nextLine(file, &position, line: line, limit: AgeV1.columnsPerLine)
                if content.count > 0, file[content.lowerBound] == dash {
                    throw .malformedHeader(line: line, .missingFinalBodyLine)
                }
                let decoded = try decodeBase64(file, content, line: line)
                stanzas[stanzas.count - 1].body += decoded
                if content.count < AgeV1.columnsPerLine { inBody = false }
                continue
            }
            let content = try nextLine(file, &position, line: line, limit: maxHeaderLineLength)
            let bytes = file[content]
            if bytes.starts(with: [dash, dash, dash]) {
                // "--- " + 43 base64 characters.
                guard bytes.count == 4 + AgeV1.base64Of32, file[content.lowerBound + 3] == space else {
                    throw .malformedHeader(line: line, .badMACLine)
                }
                guard !stanzas.isEmpty else { throw .malformedHeader(line: line, .noStanzas) }
                let mac = try decodeBase64(file, (content.lowerBound + 4)..<content.upperBound, line: line)
                let header = Header(stanzas: stanzas, mac: mac, macLine: line,
                                    macCoveredEnd: lineStart + 3, end: position)
                try checkStanzas(header)
                return header
            }
            guard bytes.starts(with: [dash, 0x3E]) else { throw .malformedHeader(line: line, .unexpectedLine) }
            guard stanzas.count < maxStanzas else {
                throw .malformedHeader(line: line, .tooManyStanzas(limit: maxStanzas))
            }
            stanzas.append(Stanza(line: line, arguments: try arguments(file, content, line: line), body: []))
            inBody = true
        }
    }

    /// The next line from `position` (its bytes without the line feed), and
    /// `position` moved past the line feed.
    private static func nextLine(_ file: [UInt8], _ position: inout Int, line: Int,
                                 limit: Int) throws(AgeError) -> Range<Int> {
        let start = position
        let scanEnd = min(file.count, start + limit + 1)
        var i = start
        while i < scanEnd {
            if file[i] == lf {
                position = i + 1
                return start..<i
            }
            i += 1
        }
        if file.count - start > limit { throw .malformedHeader(line: line, .lineTooLong(limit: limit)) }
        throw .truncated(offset: file.count)
    }

    /// `-> a b c`: each argument one or more printable ASCII characters,
    /// separated by exactly one space.
    private static func arguments(_ file: [UInt8], _ content: Range<Int>, line: Int) throws(AgeError) -> [[UInt8]] {
        guard content.count >= 4, file[content.lowerBound + 2] == space else {
            throw .malformedHeader(line: line, .badArgumentLine)
        }
        var result: [[UInt8]] = []
        var current: [UInt8] = []
        var i = content.lowerBound + 3
        while i < content.upperBound {
            let c = file[i]
            if c == space {
                guard !current.isEmpty else { throw .malformedHeader(line: line, .badArgumentLine) }
                result.append(current)
                current = []
            } else if c >= 0x21 && c <= 0x7E {
                current.append(c)
            } else {
                throw .malformedHeader(line: line, .badArgumentLine)
            }
            i += 1
        }
        guard !current.isEmpty else { throw .malformedHeader(line: line, .badArgumentLine) }
        result.append(current)
        return result
    }

    private static func decodeBase64(_ file: [UInt8], _ range: Range<Int>, line: Int) throws(AgeError) -> [UInt8] {
        guard let count = Base64.decodedCount(range.count) else {
            throw .malformedHeader(line: line, .badBase64(.invalidLength(range.count)))
        }
        var out = [UInt8](repeating: 0, count: count)
        let result: Result<Int, Base64Error> = file.withUnsafeBytes { f in
            out.withUnsafeMutableBytes { o in
                do throws(Base64Error) {
                    return .success(try Base64.decode(UnsafeRawBufferPointer(rebasing: f[range]), into: o))
                } catch {
                    return .failure(error)
                }
            }
        }
        switch result {
        case .success: return out
        case .failure(let e): throw .malformedHeader(line: line, .badBase64(e))
        }
    }

    /// Stanza rules: X25519 stanzas well-formed, scrypt alone.
    private static func checkStanzas(_ header: Header) throws(AgeError) {
        for stanza in header.stanzas {
            if stanza.type == scryptType {
                if header.stanzas.count > 1 { throw .malformedHeader(line: stanza.line, .scryptNotAlone) }
                throw .passphraseEncrypted
            }
            guard stanza.type == x25519Type else { continue }  // unknown types are ignored
            guard stanza.arguments.count == 2 else {
                throw .malformedHeader(line: stanza.line, .x25519Arguments(count: stanza.arguments.count - 1))
            }
            let share = stanza.arguments[1]
            guard share.count == AgeV1.base64Of32, (try? decodeBase64(share, 0..<share.count, line: stanza.line)) != nil
            else { throw .malformedHeader(line: stanza.line, .x25519Share) }
            guard stanza.body.count == 32 else {
                throw .malformedHeader(line: stanza.line, .x25519Body(length: stanza.body.count))
            }
        }
    }

    // MARK: - File key and MAC

    /// The file key from the first X25519 stanza one of `identities` opens.
    static func unwrapFileKey(_ header: Header, identities: [AgeIdentity]) throws(AgeError) -> SecretBytes {
        let fileKey = SecretBytes(count: AgeV1.fileKeySize)
        // shared (32) ‖ salt = share ‖ recipient (64) ‖ wrap key (32) ‖ zero nonce (12)
        let scratch = SecretBytes(count: 32 + 64 + 32 + 12)
        let shared = scratch.bytes.slice(0, 32)
        let salt = scratch.bytes.slice(32, 64)
        let wrapKey = scratch.bytes.slice(96, 32)
        let zeroNonce = UnsafeRawBufferPointer(scratch.bytes.slice(128, 12))
        let info = bytes(AgeV1.x25519Info)
        let publicKeys = identities.map(\.recipient.publicKey)
        for stanza in header.stanzas where stanza.type == x25519Type {
            let share = (try? decodeBase64(stanza.arguments[1], 0..<AgeV1.base64Of32, line: stanza.line)) ?? []
            for (identity, publicKey) in zip(identities, publicKeys) {
                var lowOrder = false
                identity.secretKey.withUnsafeBytes { s in
                    share.withUnsafeBytes { p in
                        do throws(CryptoError) { try Sodium.x25519(scalar: s, point: p, output: shared) } catch {
                            lowOrder = true
                        }
                    }
                }
                if lowOrder { throw .invalidShare(line: stanza.line) }
                salt.copyBytes(from: share)
                UnsafeMutableRawBufferPointer(rebasing: salt[32...]).copyBytes(from: publicKey)
                info.withUnsafeBytes { i in
                    HKDF<Sodium>.derive(salt: UnsafeRawBufferPointer(salt), inputKeyMaterial: UnsafeRawBufferPointer(shared),
                                        info: i, output: wrapKey)
                }
                let opened = stanza.body.withUnsafeBytes { body in
                    Sodium.chachaPolyOpen(key: UnsafeRawBufferPointer(wrapKey), nonce: zeroNonce,
                                          associatedData: UnsafeRawBufferPointer(start: nil, count: 0),
                                          ciphertext: body, output: fileKey.bytes)
                }
                Sodium.zeroize(shared)
                Sodium.zeroize(wrapKey)
                if opened { return fileKey }
            }
        }
        throw .noMatchingIdentity
    }

    /// Checks the header MAC (HMAC-SHA256 under HKDF(file key, "", "header")
    /// over the header up to and including `---`).
    static func verifyMAC(_ file: [UInt8], header: Header, fileKey: SecretBytes) throws(AgeError) {
        let expected = headerMAC(file[0..<header.macCoveredEnd], fileKey: fileKey)
        let ok = expected.withUnsafeBytes { e in header.mac.withUnsafeBytes { Sodium.constantTimeEqual(e, $0) } }
        if !ok { throw .badMAC }
    }

    /// HMAC-SHA256 of `headerPrefix` under the header key.
    static func headerMAC(_ headerPrefix: ArraySlice<UInt8>, fileKey: SecretBytes) -> [UInt8] {
        let macKey = SecretBytes(count: 32)
        bytes(AgeV1.headerInfo).withUnsafeBytes { info in
            HKDF<Sodium>.derive(salt: UnsafeRawBufferPointer(start: nil, count: 0),
                                inputKeyMaterial: UnsafeRawBufferPointer(fileKey.bytes), info: info, output: macKey.bytes)
        }
        var mac = [UInt8](repeating: 0, count: 32)
        headerPrefix.withUnsafeBytes { m in
            mac.withUnsafeMutableBytes { Sodium.hmacSHA256(key: UnsafeRawBufferPointer(macKey.bytes), message: m, output: $0) }
        }
        return mac
    }

    // MARK: - Payload

    /// Decrypts the STREAM payload starting at `start` (step 5 above).
    static func decryptPayload(_ file: [UInt8], from start: Int, fileKey: SecretBytes) throws(AgeError) -> [UInt8] {
        guard file.count - start >= AgeV1.payloadNonceSize else { throw .truncated(offset: file.count) }
        let chunksStart = start + AgeV1.payloadNonceSize
        let payloadCount = file.count - chunksStart
        guard payloadCount >= AgeV1.tagSize else { throw .truncated(offset: file.count) }
        // At most one tag's worth less than the payload; trimmed to what the
        // chunks held once they all authenticate. (A hostile payload need not
        // have the shape a size-based count would assume.)
        let capacity = payloadCount - AgeV1.tagSize

        let keys = SecretBytes(count: 32 + 12)
        let payloadKey = keys.bytes.slice(0, 32)
        let nonce = keys.bytes.slice(32, 12)
        file.withUnsafeBytes { f in
            bytes(AgeV1.payloadInfo).withUnsafeBytes { info in
                HKDF<Sodium>.derive(salt: f.slice(start, AgeV1.payloadNonceSize),
                                    inputKeyMaterial: UnsafeRawBufferPointer(fileKey.bytes), info: info,
                                    output: payloadKey)
            }
        }

        var plaintext = [UInt8](repeating: 0, count: capacity)
        let outcome: Result<Int, AgeError> = file.withUnsafeBytes { f in
            plaintext.withUnsafeMutableBytes { out in
                var index = 0
                var offset = chunksStart
                var written = 0
                while true {
                    let remaining = file.count - offset
                    // A full unflagged chunk was followed by too little for a tag.
                    if remaining < AgeV1.tagSize { return .failure(.truncated(offset: file.count)) }
                    let size = min(remaining, AgeV1.encryptedChunkSize)
                    let plainSize = size - AgeV1.tagSize
                    guard written + plainSize <= out.count else {
                        return .failure(.badChunk(index: index, offset: offset))
                    }
                    let chunk = f.slice(offset, size)
                    let target = out.slice(written, plainSize)
                    func open(last: Bool) -> Bool {
                        AgeV1.chunkNonce(index: UInt64(index), last: last, into: nonce)
                        return Sodium.chachaPolyOpen(key: UnsafeRawBufferPointer(payloadKey),
                                                     nonce: UnsafeRawBufferPointer(nonce),
                                                     associatedData: UnsafeRawBufferPointer(start: nil, count: 0),
                                                     ciphertext: chunk, output: target)
                    }
                    if size == remaining {
                        // Nothing follows: this must be the final chunk.
                        if open(last: true) {
                            if plainSize == 0 && index > 0 {
                                return .failure(.emptyFinalChunk(index: index, offset: offset))
                            }
                            return .success(written + plainSize)
                        }
                        // A full chunk that opens unflagged: the real final
                        // chunk (and maybe more) was cut off.
                        if size == AgeV1.encryptedChunkSize && open(last: false) {
                            return .failure(.truncated(offset: file.count))
                        }
                        return .failure(.badChunk(index: index, offset: offset))
                    }
                    // A full chunk with more after it.
                    if !open(last: false) {
                        if open(last: true) { return .failure(.trailingData(offset: offset + size)) }
                        return .failure(.badChunk(index: index, offset: offset))
                    }
                    written += plainSize
                    offset += size
                    index += 1
                }
            }
        }
        switch outcome {
        case .success(let count):
            plaintext.removeSubrange(count...)
            return plaintext
        case .failure(let error):
            plaintext.withUnsafeMutableBytes { Sodium.zeroize($0) }
            throw error
        }
    }
}

/// The bytes of a static string.
private func bytes(_ text: StaticString) -> [UInt8] {
    Array(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
}

/// Secret bytes in their own allocation, zeroized when released. Arrays can
/// be copied and reallocated behind our back; this cannot.
final class SecretBytes {
    let bytes: UnsafeMutableRawBufferPointer

    init(count: Int) {
        bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
        bytes.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit {
        Sodium.zeroize(bytes)
        bytes.deallocate()
    }
}

extension UnsafeMutableRawBufferPointer {
    fileprivate func slice(_ offset: Int, _ count: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: self[offset..<(offset + count)])
    }
}

extension UnsafeRawBufferPointer {
    fileprivate func slice(_ offset: Int, _ count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: self[offset..<(offset + count)])
    }
}
