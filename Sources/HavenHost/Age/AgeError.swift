import HavenCore

/// Why an age file could not be opened. Every case says what was wrong and
/// where: a header line number (1-based; line 1 is the version line) or a
/// byte offset into the file.
public enum AgeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file does not start with `age-encryption.org/` (an empty file,
    /// or some other kind of file).
    case notAgeFile
    /// ASCII armor (`-----BEGIN AGE ENCRYPTED FILE-----`). Haven never
    /// writes armor and does not read it; see `Docs/sealed-record.md`.
    case armored
    /// An age file of a version other than v1 (the version text, cut to
    /// 32 printable characters).
    case unsupportedVersion(String)
    /// The file ends before the header, the payload nonce, or the final
    /// chunk does. `offset` is where more bytes were expected (the file size,
    /// or the offset of the missing chunk).
    case truncated(offset: Int)
    /// The header is larger than `AgeFile.maxHeaderSize` bytes.
    case headerTooLarge(limit: Int)
    /// Header line `line` breaks the header grammar or a stanza rule.
    case malformedHeader(line: Int, HeaderFault)
    /// The file is passphrase-encrypted (a lone scrypt stanza); Haven opens
    /// files with X25519 identities only.
    case passphraseEncrypted
    /// The X25519 stanza on line `line` has a low-order ephemeral share (the
    /// shared secret is all zeros); the spec requires aborting.
    case invalidShare(line: Int)
    /// None of the identities opens any X25519 stanza.
    case noMatchingIdentity
    /// The header MAC does not verify: the header was modified (or a stanza
    /// was crafted for this identity by someone without the file key).
    case badMAC
    /// Payload chunk `index` (0-based, at byte `offset`) does not
    /// authenticate: modified, or cut short inside the final chunk.
    case badChunk(index: Int, offset: Int)
    /// The final chunk `index` is empty although the payload is not; the
    /// spec forbids it (a writer must flag the last non-empty chunk).
    case emptyFinalChunk(index: Int, offset: Int)
    /// Bytes follow the final chunk, from `offset`.
    case trailingData(offset: Int)

    /// What is wrong with a header line.
    public enum HeaderFault: Equatable, Sendable, CustomStringConvertible {
        /// Longer than `limit` bytes (64 for a stanza body line,
        /// `AgeFile.maxHeaderLineLength` otherwise) without a line feed.
        case lineTooLong(limit: Int)
        /// Not a stanza (`-> …`) or the MAC line (`--- …`) where one of
        /// them must start.
        case unexpectedLine
        /// A stanza line that is not `->`, a space, and space-separated
        /// arguments of printable ASCII (no empty argument, no trailing space).
        case badArgumentLine
        /// A stanza's body ended without its final short (possibly empty)
        /// line: the next stanza or the MAC line came instead.
        case missingFinalBodyLine
        /// A stanza body line or the MAC is not canonical unpadded base64.
        case badBase64(Base64Error)
        /// The MAC line is not `--- ` and 43 base64 characters.
        case badMACLine
        /// The header has no stanza.
        case noStanzas
        /// More than `limit` stanzas.
        case tooManyStanzas(limit: Int)
        /// An X25519 stanza with `count` arguments after the type (must be 1).
        case x25519Arguments(count: Int)
        /// An X25519 stanza whose share is not canonical base64 of 32 bytes.
        case x25519Share
        /// An X25519 stanza whose body is `length` bytes (must be 32).
        case x25519Body(length: Int)
        /// An scrypt stanza next to other stanzas (the spec forbids mixing).
        case scryptNotAlone

        public var description: String {
            switch self {
            case .lineTooLong(let limit): return "line longer than \(limit) bytes"
            case .unexpectedLine: return "expected a stanza (\"-> …\") or the MAC line (\"--- …\")"
            case .badArgumentLine: return "malformed stanza line (\"-> \" then space-separated printable arguments)"
            case .missingFinalBodyLine: return "stanza body does not end with a line shorter than 64 columns"
            case .badBase64(let e): return "bad base64 (\(e))"
            case .badMACLine: return "malformed MAC line (expected \"--- \" and 43 base64 characters)"
            case .noStanzas: return "header has no recipient stanza"
            case .tooManyStanzas(let limit): return "more than \(limit) stanzas"
            case .x25519Arguments(let count): return "X25519 stanza with \(count) arguments after the type (expected 1)"
            case .x25519Share: return "X25519 share is not canonical base64 of 32 bytes"
            case .x25519Body(let length): return "X25519 stanza body is \(length) bytes (expected 32)"
            case .scryptNotAlone: return "scrypt stanza mixed with other stanzas"
            }
        }
    }

    public var description: String {
        switch self {
        case .notAgeFile: return "not an age file (no \"age-encryption.org/\" version line)"
        case .armored:
            return "ASCII-armored age file: Haven reads binary age files only (decrypt it with `age -d`, "
                + "or re-encrypt without --armor)"
        case .unsupportedVersion(let v): return "unsupported age format version \"\(v)\" (Haven reads v1)"
        case .truncated(let offset): return "age file is truncated (more data expected at byte \(offset))"
        case .headerTooLarge(let limit): return "age header is larger than \(limit) bytes"
        case .malformedHeader(let line, let fault): return "malformed age header, line \(line): \(fault)"
        case .passphraseEncrypted: return "age file is passphrase-encrypted (scrypt); Haven uses X25519 identities"
        case .invalidShare(let line):
            return "X25519 stanza on header line \(line) has a low-order share (all-zero shared secret)"
        case .noMatchingIdentity: return "no identity matches any X25519 recipient stanza of this file"
        case .badMAC: return "age header MAC does not verify (the header was modified)"
        case .badChunk(let index, let offset):
            return "payload chunk \(index) at byte \(offset) does not authenticate (modified or cut short)"
        case .emptyFinalChunk(let index, let offset):
            return "payload ends with an empty final chunk \(index) at byte \(offset) (not allowed after data)"
        case .trailingData(let offset): return "data after the final payload chunk, from byte \(offset)"
        }
    }
}
