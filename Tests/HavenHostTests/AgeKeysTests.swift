import Foundation
import HavenHost
import Testing

/// Runs a program and returns its standard output.
private func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = Pipe()
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite struct AgeKeysTests {
    /// BIP 173 valid test vectors (checksum only; age lifts the length limit).
    @Test(arguments: ["A12UEL5L", "a12uel5l",
                      "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
                      "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w"])
    func bip173ValidChecksums(_ text: String) throws {
        let (hrp, data) = try Bech32.decode(text)
        #expect(hrp == String(text[..<text.lastIndex(of: "1")!]).lowercased())
        #expect(Bech32.encode(hrp: hrp, data: data) == text.lowercased())
    }

    @Test func bip173InvalidStringsAreRefused() {
        #expect(throws: Bech32.DecodingError.mixedCase) { try Bech32.decode("A12uEL5L") }
        #expect(throws: Bech32.DecodingError.missingSeparator) { try Bech32.decode("pzry9x0s0muk") }
        #expect(throws: Bech32.DecodingError.badChecksum) { try Bech32.decode("a12uel5m") }
        #expect(throws: Bech32.DecodingError.invalidCharacter("b")) { try Bech32.decode("x1b4n0q5v") }
    }

    @Test func ourIdentityIsReadByAgeKeygen() throws {
        let age = "/usr/bin/age-keygen"
        #expect(FileManager.default.isExecutableFile(atPath: age), "Tools/setup installs age")
        let identity = AgeIdentity.generate()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("haven-age-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("identity.txt").path
        try (identity.encoded + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let (status, output) = try run(age, ["-y", file])
        #expect(status == 0)
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == identity.recipient.encoded)
    }

    @Test func ageKeygenIdentitiesAreReadByUs() throws {
        let (status, output) = try run("/usr/bin/age-keygen", [])
        #expect(status == 0)
        let lines = output.split(separator: "\n").map(String.init)
        let secret = try #require(lines.first { $0.hasPrefix("AGE-SECRET-KEY-1") })
        let publicLine = try #require(lines.first { $0.hasPrefix("# public key: ") })
        let identity = try AgeIdentity(parsing: secret)
        #expect(identity.recipient.encoded == String(publicLine.dropFirst("# public key: ".count)))
        #expect(identity.encoded == secret)
        #expect(try AgeRecipient(parsing: identity.recipient.encoded) == identity.recipient)
    }

    @Test func malformedKeysGiveClearErrors() {
        #expect(throws: AgeIdentity.ParseError.notAnIdentity("age1qqqqqqqqqqqq")) {
            try AgeIdentity(parsing: "age1qqqqqqqqqqqqqqqqqqqqqq")
        }
        let good = AgeIdentity.generate().recipient.encoded
        var typo = Array(good)
        typo[10] = typo[10] == "q" ? "p" : "q"
        #expect(throws: AgeRecipient.ParseError.bech32(.badChecksum)) { try AgeRecipient(parsing: String(typo)) }
    }
}
