import Foundation
import HavenCore
import HavenHost
import HavenSodium
import Testing

/// A second, independent age v1 writer for tests: it builds files from
/// parts (any stanzas, any chunk flags) under a file key the test chooses,
/// so hostile files can carry a valid MAC and reach the check under test.
/// Base64 comes from Foundation, not from the core's encoder.
struct CraftedAge {
    var fileKey: [UInt8] = Sodium.random(count: 16)
    /// Raw stanza text, each ending with its body's final line and LF.
    var stanzas: [String] = []
    var payloadNonce: [UInt8] = Sodium.random(count: 16)

    static func b64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    /// A stanza with a body wrapped at 64 columns and a final short line.
    static func stanza(_ arguments: [String], body: [UInt8]) -> String {
        var text = "->" + arguments.map { " " + $0 }.joined() + "\n"
        var encoded = Substring(b64(body))
        while encoded.count >= 64 {
            text += encoded.prefix(64) + "\n"
            encoded = encoded.dropFirst(64)
        }
        return text + encoded + "\n"
    }

    /// An X25519 stanza wrapping `fileKey` to `recipient`.
    func x25519Stanza(to recipient: AgeRecipient) -> String {
        let pair = Sodium.x25519KeyPair()
        let shared = try! Sodium.x25519(scalar: pair.secretKey, point: recipient.publicKey)
        let wrapKey = Sodium.hkdf(salt: pair.publicKey + recipient.publicKey, inputKeyMaterial: shared,
                                  info: Array("age-encryption.org/v1/X25519".utf8), count: 32)
        return Self.stanza(["X25519", Self.b64(pair.publicKey)], body: Self.chachaPoly(key: wrapKey,
                                                                                      nonce: [UInt8](repeating: 0, count: 12),
                                                                                      fileKey))
    }

    mutating func addX25519(_ recipient: AgeRecipient) { stanzas.append(x25519Stanza(to: recipient)) }

    static func chachaPoly(key: [UInt8], nonce: [UInt8], _ plaintext: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: plaintext.count + 16)
        key.withUnsafeBytes { k in
            nonce.withUnsafeBytes { n in
                plaintext.withUnsafeBytes { p in
                    out.withUnsafeMutableBytes { o in
                        Sodium.chachaPolySeal(key: k, nonce: n, associatedData: UnsafeRawBufferPointer(start: nil, count: 0),
                                              plaintext: p, output: o)
                    }
                }
            }
        }
        return out
    }

    /// The header with a MAC over it (or the given MAC text).
    func header(macText: String? = nil) -> [UInt8] {
        let body = "age-encryption.org/v1\n" + stanzas.joined() + "---"
        let macKey = Sodium.hkdf(salt: [], inputKeyMaterial: fileKey, info: Array("header".utf8), count: 32)
        let mac = Sodium.hmacSHA256(key: macKey, message: Array(body.utf8))
        return Array((body + " " + (macText ?? Self.b64(mac)) + "\n").utf8)
    }

    /// Payload from explicit chunks: (plaintext, final flag).
    func payload(_ chunks: [([UInt8], Bool)]) -> [UInt8] {
        let key = Sodium.hkdf(salt: payloadNonce, inputKeyMaterial: fileKey, info: Array("payload".utf8), count: 32)
        var out = payloadNonce
        for (index, (plain, last)) in chunks.enumerated() {
            var nonce = [UInt8](repeating: 0, count: 12)
            for k in 0..<8 { nonce[3 + k] = UInt8(truncatingIfNeeded: UInt64(index) >> UInt64(56 - 8 * k)) }
            nonce[11] = last ? 1 : 0
            out += Self.chachaPoly(key: key, nonce: nonce, plain)
        }
        return out
    }

    /// The payload age itself would write for `plaintext`.
    func payload(for plaintext: [UInt8]) -> [UInt8] {
        if plaintext.isEmpty { return payload([([], true)]) }
        var chunks: [([UInt8], Bool)] = []
        var start = 0
        while start < plaintext.count {
            let end = min(start + 65536, plaintext.count)
            chunks.append((Array(plaintext[start..<end]), end == plaintext.count))
            start = end
        }
        return payload(chunks)
    }

    func file(_ plaintext: [UInt8]) -> [UInt8] { header() + payload(for: plaintext) }
}

/// Deterministic test bytes.
func testBytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
    var rng = SplitMix64(seed: seed)
    var out = [UInt8](repeating: 0, count: count)
    var i = 0
    while i < count {
        let v = rng.next()
        var k = 0
        while k < 8 && i < count {
            out[i] = UInt8(truncatingIfNeeded: v >> UInt64(8 * k))
            i += 1
            k += 1
        }
    }
    return out
}

/// A scratch folder removed at the end of the test.
final class TempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("haven-age-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    func write(_ name: String, _ text: String) throws -> String { try write(name, Array(text.utf8)) }

    func read(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(name)))) }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Runs a program; returns its exit status, standard output and standard error.
func runTool(_ path: String, _ arguments: [String], stdin: [UInt8]? = nil) throws
    -> (status: Int32, stdout: [UInt8], stderr: String)
{
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let input = Pipe()
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin)) }
    try input.fileHandleForWriting.close()
    // Read both pipes concurrently so neither fills up and blocks the child.
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return (process.terminationStatus, [UInt8](outData), String(decoding: errData, as: UTF8.self))
}
