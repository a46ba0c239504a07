import HavenCore
import HavenSodium

/// An age X25519 identity (the research team's private key): the file
/// format the `age` and `age-keygen` tools read and write, so the team can
/// open Haven's sealed records with standard tools.
public struct AgeIdentity: Sendable {
    /// The 32-byte X25519 secret scalar.
    public let secretKey: [UInt8]

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notAnIdentity(String)
        case bech32(Bech32.DecodingError)
        case wrongLength(Int)

        public var description: String {
            switch self {
            case .notAnIdentity(let prefix):
                return "not an age identity (expected AGE-SECRET-KEY-1…, found \(prefix)…)"
            case .bech32(let e): return "malformed age identity: \(e)"
            case .wrongLength(let n): return "age identity holds \(n) bytes, expected 32"
            }
        }
    }

    public init(secretKey: [UInt8]) {
        precondition(secretKey.count == 32, "X25519 secret keys are 32 bytes")
        self.secretKey = secretKey
    }

    /// A fresh identity from the system CSPRNG.
    public static func generate() -> AgeIdentity {
        AgeIdentity(secretKey: Sodium.random(count: 32))
    }

    /// Parses `AGE-SECRET-KEY-1…`.
    public init(parsing text: String) throws(ParseError) {
        let trimmed = text.trimmingSpaces()
        guard trimmed.uppercased().hasPrefix("AGE-SECRET-KEY-1") else {
            throw .notAnIdentity(String(trimmed.prefix(16)))
        }
        let decoded: (hrp: String, data: [UInt8])
        do { decoded = try Bech32.decode(trimmed) } catch { throw .bech32(error) }
        guard decoded.hrp == "age-secret-key-" else { throw .notAnIdentity(String(trimmed.prefix(16))) }
        guard decoded.data.count == 32 else { throw .wrongLength(decoded.data.count) }
        self.init(secretKey: decoded.data)
    }

    /// `AGE-SECRET-KEY-1…` in uppercase, as age writes it.
    public var encoded: String {
        Bech32.encode(hrp: "age-secret-key-", data: secretKey).uppercased()
    }

    /// The matching public recipient.
    public var recipient: AgeRecipient {
        var pub = [UInt8](repeating: 0, count: 32)
        secretKey.withUnsafeBytes { s in pub.withUnsafeMutableBytes { Sodium.x25519Base(scalar: s, output: $0) } }
        return AgeRecipient(publicKey: pub)
    }
}

/// An age X25519 recipient (`age1…`): what devices seal finished interviews to.
public struct AgeRecipient: Equatable, Sendable {
    public let publicKey: [UInt8]

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notARecipient(String)
        case bech32(Bech32.DecodingError)
        case wrongLength(Int)

        public var description: String {
            switch self {
            case .notARecipient(let prefix): return "not an age X25519 recipient (expected age1…, found \(prefix)…)"
            case .bech32(let e): return "malformed age recipient: \(e)"
            case .wrongLength(let n): return "age recipient holds \(n) bytes, expected 32"
            }
        }
    }

    public init(publicKey: [UInt8]) {
        precondition(publicKey.count == 32, "X25519 public keys are 32 bytes")
        self.publicKey = publicKey
    }

    public init(parsing text: String) throws(ParseError) {
        let trimmed = text.trimmingSpaces()
        let decoded: (hrp: String, data: [UInt8])
        do { decoded = try Bech32.decode(trimmed) } catch { throw .bech32(error) }
        guard decoded.hrp == "age", trimmed.lowercased() == trimmed else { throw .notARecipient(String(trimmed.prefix(8))) }
        guard decoded.data.count == 32 else { throw .wrongLength(decoded.data.count) }
        self.init(publicKey: decoded.data)
    }

    public var encoded: String { Bech32.encode(hrp: "age", data: publicKey) }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
