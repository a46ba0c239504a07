import Foundation
import HavenCore
import HavenSodium

/// The provisioning key (Ed25519): signs configs and answers devices'
/// authentication challenges. Text files (Docs/config-format.md §8):
///
///     # Haven provisioning key (Ed25519) ... comments
///     HAVEN-PROVISIONING-KEY-1:<64 lowercase hex: the RFC 8032 32-byte seed>
///
/// and the public half, `<file>.pub`:
///
///     haven-provisioning-pub-1:<64 lowercase hex: the 32-byte public key>
public struct ProvisioningKey: Sendable {
    public let keyPair: Sodium.Ed25519KeyPair

    static let secretPrefix = "HAVEN-PROVISIONING-KEY-1:"
    static let publicPrefix = "haven-provisioning-pub-1:"

    public init(keyPair: Sodium.Ed25519KeyPair) { self.keyPair = keyPair }

    public static func generate() -> ProvisioningKey { ProvisioningKey(keyPair: Sodium.ed25519KeyPair()) }

    public var publicKey: [UInt8] { keyPair.publicKey }

    /// The secret file's text.
    public var secretFileText: String {
        """
        # Haven provisioning key (Ed25519). SECRET: whoever holds it can reconfigure
        # and wipe devices. Keep it offline with the config files; never on a pull station.
        # public key: \(Self.publicPrefix)\(hex(publicKey))
        \(Self.secretPrefix)\(hex(keyPair.seed))

        """
    }

    /// The public file's text.
    public var publicFileText: String { "\(Self.publicPrefix)\(hex(publicKey))\n" }

    /// Parses a secret key file (comments and blank lines ignored).
    public init(parsingSecretFile text: String) throws(ConfigBuildError) {
        let seed = try Self.keyLine(text, prefix: Self.secretPrefix, what: "a provisioning key file")
        keyPair = Sodium.ed25519KeyPair(seed: seed)
    }

    /// Parses a `.pub` file: the public key bytes.
    public static func parsePublicFile(_ text: String) throws(ConfigBuildError) -> [UInt8] {
        try keyLine(text, prefix: publicPrefix, what: "a provisioning public key file")
    }

    private static func keyLine(_ text: String, prefix: String, what: String) throws(ConfigBuildError) -> [UInt8] {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard lines.count == 1, lines[0].hasPrefix(prefix) else {
            throw .key("not \(what) (expected one line '\(prefix)<64 hex digits>')")
        }
        guard let bytes = unhex(String(lines[0].dropFirst(prefix.count))), bytes.count == 32 else {
            throw .key("the key is not 64 hexadecimal digits")
        }
        return bytes
    }
}

func unhex(_ text: String) -> [UInt8]? {
    let chars = Array(text.lowercased().utf8)
    guard chars.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    var i = 0
    func value(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }
    while i < chars.count {
        guard let hi = value(chars[i]), let lo = value(chars[i + 1]) else { return nil }
        out.append(hi << 4 | lo)
        i += 2
    }
    return out
}

/// Writing and reading key files with safe permissions.
public enum KeyFiles {
    /// Creates `path` with mode 0600 (never world- or group-readable, not
    /// even for an instant) and writes `text`; refuses to replace a file
    /// unless `overwrite`.
    public static func writeSecret(_ text: String, to path: String, overwrite: Bool = false) throws {
        try write(Array(text.utf8), to: path, mode: 0o600, overwrite: overwrite)
    }

    /// Secret bytes (a config bundle: it carries Argon2id outputs of the PINs).
    public static func writeSecret(bytes: [UInt8], to path: String, overwrite: Bool = false) throws {
        try write(bytes, to: path, mode: 0o600, overwrite: overwrite)
    }

    public static func writePublic(_ text: String, to path: String, overwrite: Bool = false) throws {
        try write(Array(text.utf8), to: path, mode: 0o644, overwrite: overwrite)
    }

    private static func write(_ bytes: [UInt8], to path: String, mode: mode_t, overwrite: Bool) throws {
        if overwrite { unlink(path) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            let e = errno
            if e == EEXIST { throw ConfigBuildError.io("'\(path)' exists; use --force to replace it") }
            throw ConfigBuildError.io("cannot create '\(path)': \(String(cString: strerror(e)))")
        }
        defer { close(fd) }
        _ = fchmod(fd, mode)  // umask cannot widen it, but make sure it is not narrower for .pub
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ConfigBuildError.io("cannot write '\(path)': \(String(cString: strerror(errno)))")
            }
            done += n
        }
        guard fsync(fd) == 0 else { throw ConfigBuildError.io("cannot sync '\(path)'") }
    }

    /// The text `age-keygen` writes for an identity.
    public static func ageIdentityFileText(_ identity: AgeIdentity, created: Date = Date()) -> String {
        let stamp = ISO8601DateFormatter().string(from: created)
        return "# created: \(stamp)\n# public key: \(identity.recipient.encoded)\n\(identity.encoded)\n"
    }

    /// Every identity in an age identity file (comments and blank lines ignored).
    public static func parseAgeIdentityFile(_ text: String) throws -> [AgeIdentity] {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard !lines.isEmpty else { throw ConfigBuildError.key("no AGE-SECRET-KEY-1… line in the identity file") }
        return try lines.map { try AgeIdentity(parsing: $0) }
    }
}
