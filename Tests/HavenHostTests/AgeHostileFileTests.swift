import Foundation
import HavenCore
import HavenHost
import HavenSodium
import Testing

/// `AgeFile.decrypt` against hostile input: every failure is a typed
/// `AgeError` naming what and where; nothing crashes and nothing opens.
@Suite struct AgeHostileFileTests {
    static let identity = AgeIdentity.generate()
    static let small = testBytes(100, seed: 4)
    /// A device-sealed 100-byte record: header 168 bytes, payload 16 + 116.
    static let sealed = try! AgeFile.encrypt(small, to: [identity.recipient])
    static let headerEnd = AgeV1.headerSize(recipientCount: 1)

    static func open(_ file: [UInt8], _ identities: [AgeIdentity] = [identity]) -> Result<[UInt8], AgeError> {
        Result { () throws(AgeError) -> [UInt8] in try AgeFile.decrypt(file, identities: identities) }
    }

    static func error(_ file: [UInt8], _ identities: [AgeIdentity] = [identity]) -> AgeError? {
        if case .failure(let e) = open(file, identities) { return e }
        return nil
    }

    /// A file from the independent writer with `stanzas` (header text) and
    /// the given plaintext, valid MAC included.
    static func crafted(_ build: (inout CraftedAge) -> Void, plaintext: [UInt8] = [1, 2, 3]) -> [UInt8] {
        var c = CraftedAge()
        build(&c)
        return c.file(plaintext)
    }

    // MARK: Truncation

    @Test func everyTruncationOfASmallFileIsReported() {
        #expect(Self.open(Self.sealed) == .success(Self.small))
        let chunkStart = Self.headerEnd + 16
        for length in 0..<Self.sealed.count {
            let expected: AgeError
            if length == 0 {
                expected = .notAgeFile
            } else if length < chunkStart + 16 {
                expected = .truncated(offset: length)  // in the header, the nonce, or short of a tag
            } else {
                expected = .badChunk(index: 0, offset: chunkStart)  // cut inside the only (final) chunk
            }
            #expect(Self.error(Array(Self.sealed[0..<length])) == expected, "truncated to \(length) bytes")
        }
    }

    /// Cut at a chunk boundary, a STREAM file still ends in a chunk that
    /// authenticates, but not as the final one: that is truncation.
    @Test func truncationAtAChunkBoundaryIsDetected() throws {
        let plaintext = testBytes(3 * 65536 + 1000, seed: 6)
        let file = try AgeFile.encrypt(plaintext, to: [Self.identity.recipient])
        let chunks = Self.headerEnd + 16
        for n in 1...3 {
            let cut = chunks + n * AgeV1.encryptedChunkSize
            #expect(Self.error(Array(file[0..<cut])) == .truncated(offset: cut), "\(n) whole chunks")
            // A few bytes into the next chunk: too short for a tag.
            #expect(Self.error(Array(file[0..<(cut + 5)])) == .truncated(offset: cut + 5))
            // Inside the next chunk: it cannot authenticate.
            #expect(Self.error(Array(file[0..<(cut + 100)])) == .badChunk(index: n, offset: cut))
        }
        // Exactly 2 × 64 KiB: the final chunk is full, and cutting it off
        // leaves a full unflagged chunk.
        let even = testBytes(2 * 65536, seed: 7)
        let evenFile = try AgeFile.encrypt(even, to: [Self.identity.recipient])
        #expect(try AgeFile.decrypt(evenFile, identities: [Self.identity]) == even)
        #expect(Self.error(Array(evenFile.dropLast(AgeV1.encryptedChunkSize))) ==
                .truncated(offset: evenFile.count - AgeV1.encryptedChunkSize))
    }

    @Test func trailingDataAfterAFullFinalChunk() throws {
        let plaintext = testBytes(65536, seed: 9)
        let file = try AgeFile.encrypt(plaintext, to: [Self.identity.recipient])
        #expect(Self.error(file + [0]) == .trailingData(offset: file.count))
        #expect(Self.error(file + testBytes(70_000)) == .trailingData(offset: file.count))
        // After a short final chunk the boundary cannot be found: the final
        // chunk fails to authenticate.
        #expect(Self.error(Self.sealed + [0]) == .badChunk(index: 0, offset: Self.headerEnd + 16))
    }

    // MARK: Flipped bits

    /// One bit flipped at every position of the file (cycling through the
    /// eight bits), over 16 freshly sealed files so the base64 text varies:
    /// each flip is caught, by the grammar, the MAC or a tag.
    @Test func everyFlippedBitIsCaught() throws {
        var kinds: [String: Int] = [:]
        for round in 0..<16 {
            let sealed = round == 0 ? Self.sealed : try AgeFile.encrypt(Self.small, to: [Self.identity.recipient])
            for i in 0..<sealed.count {
                var file = sealed
                file[i] ^= UInt8(1 << ((i + round) % 8))
                guard let error = Self.error(file) else {
                    Issue.record("flip at byte \(i) was accepted")
                    continue
                }
                kinds[Self.kind(error), default: 0] += 1
                if i >= Self.headerEnd {
                    #expect(error == .badChunk(index: 0, offset: Self.headerEnd + 16), "payload flip at \(i)")
                } else if i >= Self.headerEnd - 44 && i < Self.headerEnd - 1 {
                    // In the MAC's base64: another MAC, or a character that is not
                    // base64 ('=' included), or a line feed ('J' ^ 0x40) that cuts
                    // the MAC line short.
                    var expected = error == .badMAC
                    if case .malformedHeader(line: 4, let fault) = error {
                        switch fault {
                        case .badBase64, .badMACLine: expected = true
                        default: break
                        }
                    }
                    #expect(expected, "MAC flip at \(i): \(error)")
                }
            }
        }
        // Each layer was exercised.
        #expect(kinds["badChunk", default: 0] == 16 * (Self.sealed.count - Self.headerEnd))
        #expect(kinds["badMAC", default: 0] > 0)
        #expect(kinds["malformedHeader", default: 0] > 0)
        #expect(kinds["noMatchingIdentity", default: 0] > 0)  // e.g. "X25519" → "X25419": unknown type
    }

    static func kind(_ error: AgeError) -> String {
        switch error {
        case .badChunk: return "badChunk"
        case .badMAC: return "badMAC"
        case .malformedHeader: return "malformedHeader"
        case .noMatchingIdentity: return "noMatchingIdentity"
        default: return "other"
        }
    }

    @Test func everyBitOfTheMACMatters() {
        let macStart = Self.headerEnd - 44
        for i in macStart..<(Self.headerEnd - 1) {
            for bit in 0..<8 {
                var file = Self.sealed
                file[i] ^= UInt8(1 << bit)
                #expect(Self.error(file) != nil)
            }
        }
    }

    // MARK: Identities and MAC

    @Test func wrongOrNoIdentity() {
        #expect(Self.error(Self.sealed, [AgeIdentity.generate()]) == .noMatchingIdentity)
        #expect(Self.error(Self.sealed, []) == .noMatchingIdentity)
    }

    /// A header edited without the file key fails the MAC even though every
    /// stanza still parses — including a swapped-in MAC from another file.
    @Test func headerEditsFailTheMAC() throws {
        let other = try AgeFile.encrypt(Self.small, to: [Self.identity.recipient])
        var swapped = Self.sealed
        swapped.replaceSubrange((Self.headerEnd - 44)..<(Self.headerEnd - 1),
                                with: other[(Self.headerEnd - 44)..<(Self.headerEnd - 1)])
        #expect(Self.error(swapped) == .badMAC)

        // An extra stanza inserted by someone without the file key.
        let extra = Array(CraftedAge.stanza(["example.com/evil", "x"], body: [1, 2, 3]).utf8)
        var inserted = Self.sealed
        inserted.insert(contentsOf: extra, at: 22)
        #expect(Self.error(inserted) == .badMAC)
    }

    // MARK: Unknown stanzas

    @Test(arguments: [0, 1, 47, 48, 49, 96, 300])
    func unknownStanzasAreIgnored(_ bodyLength: Int) throws {
        let body = testBytes(bodyLength, seed: UInt64(bodyLength))
        let file = Self.crafted { c in
            c.stanzas.append(CraftedAge.stanza(["example.com/grease", "a", "b-c", "~!"], body: body))
            c.addX25519(Self.identity.recipient)
            c.stanzas.append(CraftedAge.stanza(["ssh-ed25519", "abc"], body: body))
        }
        #expect(Self.open(file) == .success([1, 2, 3]))
        // Nothing but unknown stanzas: no identity can match.
        let unknownOnly = Self.crafted { c in c.stanzas.append(CraftedAge.stanza(["piv-p256", "x"], body: body)) }
        #expect(Self.error(unknownOnly) == .noMatchingIdentity)
    }

    // MARK: Base64

    @Test func nonCanonicalBase64IsRefused() {
        // The share: last character with non-zero unused bits.
        let badShare = Self.crafted { c in
            var stanza = c.x25519Stanza(to: Self.identity.recipient)
            var lines = stanza.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            lines[0] = String(lines[0].dropLast()) + String(Self.nonCanonicalTwin(of: lines[0].last!))
            stanza = lines.joined(separator: "\n")
            c.stanzas.append(stanza)
        }
        #expect(Self.error(badShare) == .malformedHeader(line: 2, .x25519Share))

        // The body.
        let badBody = Self.crafted { c in
            var lines = c.x25519Stanza(to: Self.identity.recipient).split(separator: "\n", omittingEmptySubsequences: false)
                .map(String.init)
            lines[1] = String(lines[1].dropLast()) + String(Self.nonCanonicalTwin(of: lines[1].last!))
            c.stanzas.append(lines.joined(separator: "\n"))
        }
        #expect(Self.error(badBody) == .malformedHeader(line: 3, .badBase64(.nonCanonical)))

        // Padding and foreign characters in a body.
        for (text, fault) in [("AAA=", Base64Error.padding(offset: 3)), ("AA-A", .invalidCharacter(offset: 2)),
                              ("AA A", .invalidCharacter(offset: 2)), ("AAAAA", .invalidLength(5))] {
            let file = Self.crafted { c in
                c.addX25519(Self.identity.recipient)
                c.stanzas.append("-> other\n\(text)\n")
            }
            #expect(Self.error(file) == .malformedHeader(line: 5, .badBase64(fault)), "body \(text)")
        }

        // The MAC: non-canonical last character, padding.
        var c = CraftedAge()
        c.addX25519(Self.identity.recipient)
        let good = c.header()
        let macText = String(decoding: good[(good.count - 44)..<(good.count - 1)], as: UTF8.self)
        let twin = String(macText.dropLast()) + String(Self.nonCanonicalTwin(of: macText.last!))
        #expect(Self.error(c.header(macText: twin) + c.payload(for: [1])) ==
                .malformedHeader(line: 4, .badBase64(.nonCanonical)))
        #expect(Self.error(c.header(macText: String(macText.dropLast()) + "=") + c.payload(for: [1])) ==
                .malformedHeader(line: 4, .badBase64(.padding(offset: 42))))
        #expect(Self.error(c.header(macText: macText) + c.payload(for: [1])) == nil)
    }

    /// The character whose 6-bit value differs from `c`'s only in the low
    /// bits a 32-byte encoding leaves unused (the low 2 bits of the 43rd).
    static func nonCanonicalTwin(of c: Character) -> Character {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        let v = alphabet.firstIndex(of: c)!
        return alphabet[v ^ 1]
    }

    // MARK: Grammar

    @Test func versionLine() {
        #expect(Self.error([]) == .notAgeFile)
        #expect(Self.error(Array("hello world\n".utf8)) == .notAgeFile)
        #expect(Self.error(Array("age-encryption.org".utf8)) == .truncated(offset: 18))
        #expect(Self.error(Array("age-encryption.org/v2\n-> X25519 abc\n\n--- x\n".utf8)) == .unsupportedVersion("v2"))
        #expect(Self.error(Array("age-encryption.org/v1\r\n".utf8)) == .unsupportedVersion("v1?"))
        #expect(Self.error(Array("age-encryption.org/v1 \n".utf8)) == .unsupportedVersion("v1 "))
        // A UTF-8 byte-order mark in front.
        #expect(Self.error([0xEF, 0xBB, 0xBF] + Self.sealed) == .notAgeFile)
    }

    /// Each malformed line is named by line number and fault.
    @Test func malformedLines() {
        let x = AgeIdentity.generate().recipient
        var c = CraftedAge()
        c.addX25519(x)
        let stanza = c.stanzas[0]
        let cases: [(String, Int, AgeError.HeaderFault)] = [
            ("->X25519 abc\n\n", 2, .badArgumentLine),
            ("->\n\n", 2, .badArgumentLine),
            ("-> \n\n", 2, .badArgumentLine),
            ("-> a  b\n\n", 2, .badArgumentLine),
            ("-> a b \n\n", 2, .badArgumentLine),
            ("-> a\tb\n\n", 2, .badArgumentLine),
            ("-> caf\u{e9}\n\n", 2, .badArgumentLine),
            ("hello\n", 2, .unexpectedLine),
            ("\n", 2, .unexpectedLine),
            (" -> a\n\n", 2, .unexpectedLine),
            // A 48-byte body needs an empty final line; without it the MAC line arrives.
            (CraftedAge.stanza(["a"], body: testBytes(48)).dropLast(1) + "", 4, .missingFinalBodyLine),
            // A 65-column body line.
            ("-> a\n" + String(repeating: "A", count: 65) + "\n\n", 3, .lineTooLong(limit: 64)),
        ]
        for (text, line, fault) in cases {
            let header = Array(("age-encryption.org/v1\n" + stanza + text + "--- " + String(repeating: "A", count: 43)
                                + "\n").utf8)
            #expect(Self.error(header + [UInt8](repeating: 0, count: 40)) == .malformedHeader(line: line + 2, fault),
                    "\(text.debugDescription)")
        }
    }

    @Test func macLineAndStanzaCount() {
        let v1 = "age-encryption.org/v1\n"
        let mac = String(repeating: "A", count: 43)
        #expect(Self.error(Array((v1 + "--- " + mac + "\n").utf8)) == .malformedHeader(line: 2, .noStanzas))
        var c = CraftedAge()
        c.addX25519(Self.identity.recipient)
        let s = c.stanzas[0]
        for bad in ["---", "--- ", "---" + mac, "---  " + mac, "--- " + mac + "A", "--- " + mac.dropLast(), "----" + mac] {
            #expect(Self.error(Array((v1 + s + bad + "\n").utf8)) == .malformedHeader(line: 4, .badMACLine), "\(bad)")
        }
        // Too many stanzas.
        let many = String(repeating: "-> x\n\n", count: AgeFile.maxStanzas + 1)
        #expect(Self.error(Array((v1 + many + "--- " + mac + "\n").utf8)) ==
                .malformedHeader(line: 2 * AgeFile.maxStanzas + 2, .tooManyStanzas(limit: AgeFile.maxStanzas)))
    }

    @Test func oversizedInput() {
        let v1 = "age-encryption.org/v1\n"
        // An argument line longer than the limit.
        let long = "-> " + String(repeating: "a", count: AgeFile.maxHeaderLineLength) + "\n\n"
        #expect(Self.error(Array((v1 + long).utf8)) ==
                .malformedHeader(line: 2, .lineTooLong(limit: AgeFile.maxHeaderLineLength)))
        // A version line that never ends.
        #expect(Self.error(Array(("age-encryption.org/" + String(repeating: "v", count: 10_000)).utf8)) ==
                .malformedHeader(line: 1, .lineTooLong(limit: AgeFile.maxHeaderLineLength)))
        // Binary garbage after the version line.
        #expect(Self.error(Array(v1.utf8) + testBytes(100_000)) != nil)
        // A header over the size limit: one stanza with a huge body.
        let bodyLine = String(repeating: "A", count: 64) + "\n"
        let huge = v1 + "-> big\n" + String(repeating: bodyLine, count: AgeFile.maxHeaderSize / 65 + 10) + "\n"
        #expect(Self.error(Array(huge.utf8)) == .headerTooLarge(limit: AgeFile.maxHeaderSize))
    }

    @Test func x25519StanzaRules() {
        let recipient = Self.identity.recipient
        func withStanza(_ edit: (String) -> String) -> [UInt8] {
            Self.crafted { c in c.stanzas.append(edit(c.x25519Stanza(to: recipient))) }
        }
        // Valid as written.
        #expect(Self.open(withStanza { $0 }) == .success([1, 2, 3]))
        // Three arguments, one argument.
        #expect(Self.error(withStanza { $0.replacingOccurrences(of: "-> X25519 ", with: "-> X25519 extra ") })
                == .malformedHeader(line: 2, .x25519Arguments(count: 2)))
        let noShare = Array(("age-encryption.org/v1\n-> X25519\n" + String(repeating: "A", count: 43) + "\n--- "
                             + String(repeating: "A", count: 43) + "\n").utf8)
        #expect(Self.error(noShare) == .malformedHeader(line: 2, .x25519Arguments(count: 0)))
        // A share of the wrong length.
        #expect(Self.error(withStanza { s in
            let lines = s.split(separator: "\n", omittingEmptySubsequences: false)
            return String(lines[0].dropLast(4)) + "\n" + lines[1...].joined(separator: "\n")
        }) == .malformedHeader(line: 2, .x25519Share))
        // Bodies of 31 and 33 bytes (the decryptor must check before trying to open).
        for n in [0, 31, 33, 48] {
            let file = Self.crafted { c in
                c.stanzas.append(CraftedAge.stanza(["X25519", CraftedAge.b64(Sodium.random(count: 32))],
                                                   body: testBytes(n)))
            }
            #expect(Self.error(file) == .malformedHeader(line: 2, .x25519Body(length: n)))
        }
        // A malformed X25519 stanza after the matching one still rejects the file.
        let late = Self.crafted { c in
            c.addX25519(recipient)
            c.stanzas.append(CraftedAge.stanza(["X25519", "short"], body: testBytes(32)))
        }
        #expect(Self.error(late) == .malformedHeader(line: 4, .x25519Share))
        // A low-order share: all-zero shared secret, abort.
        let zeroShare = Self.crafted { c in
            c.stanzas.append(CraftedAge.stanza(["X25519", CraftedAge.b64([UInt8](repeating: 0, count: 32))],
                                               body: testBytes(32)))
            c.addX25519(recipient)
        }
        #expect(Self.error(zeroShare) == .invalidShare(line: 2))
    }

    @Test func scryptStanzas() {
        let scrypt = CraftedAge.stanza(["scrypt", CraftedAge.b64(testBytes(16)), "18"], body: testBytes(32))
        let alone = Self.crafted { c in c.stanzas.append(scrypt) }
        #expect(Self.error(alone) == .passphraseEncrypted)
        let mixed = Self.crafted { c in
            c.addX25519(Self.identity.recipient)
            c.stanzas.append(scrypt)
        }
        #expect(Self.error(mixed) == .malformedHeader(line: 4, .scryptNotAlone))
    }

    // MARK: Payload rules

    @Test func streamRules() {
        var c = CraftedAge()
        c.addX25519(Self.identity.recipient)
        let header = c.header()
        let h = header.count
        let full = testBytes(65536, seed: 1)
        func open(_ chunks: [([UInt8], Bool)]) -> Result<[UInt8], AgeError> {
            Self.open(header + c.payload(chunks))
        }
        // Well-formed.
        #expect(open([([], true)]) == .success([]))
        #expect(open([(full, false), ([7], true)]) == .success(full + [7]))
        #expect(open([(full, true)]) == .success(full))
        // An empty final chunk after data.
        #expect(open([(full, false), ([], true)]) == .failure(.emptyFinalChunk(index: 1, offset: h + 16 + 65552)))
        // No final flag on the last chunk.
        #expect(open([([1, 2], false)]) == .failure(.badChunk(index: 0, offset: h + 16)))
        #expect(open([(full, false)]) == .failure(.truncated(offset: h + 16 + 65552)))
        // A final flag before the end.
        #expect(open([(full, true), ([1], true)]) == .failure(.trailingData(offset: h + 16 + 65552)))
        // A short chunk that is not last (65535 bytes, then more).
        #expect(open([(Array(full.dropLast()), false), ([1], true)]) == .failure(.badChunk(index: 0, offset: h + 16)))
        // Chunks out of order.
        let swapped = c.payload([(full, false), (full, false), ([9], true)])
        var reordered = Array(swapped[0..<16])
        reordered += swapped[(16 + 65552)..<(16 + 2 * 65552)]
        reordered += swapped[16..<(16 + 65552)]
        reordered += swapped[(16 + 2 * 65552)...]
        #expect(Self.open(header + reordered) == .failure(.badChunk(index: 0, offset: h + 16)))
        // No payload at all, a partial nonce, a nonce and no chunk.
        #expect(Self.open(header) == .failure(.truncated(offset: h)))
        #expect(Self.open(header + [1, 2, 3]) == .failure(.truncated(offset: h + 3)))
        #expect(Self.open(header + c.payloadNonce) == .failure(.truncated(offset: h + 16)))
    }

    // MARK: Fuzz

    /// Random edits of a sealed file and of a multi-stanza crafted file: no
    /// crash, no success unless the bytes are unchanged.
    @Test func randomMutationsNeverCrashOrOpen() {
        var rng = SplitMix64(seed: 2024)
        let multi = Self.crafted({ c in
            c.stanzas.append(CraftedAge.stanza(["example.com/x", "y"], body: testBytes(100)))
            c.addX25519(Self.identity.recipient)
        }, plaintext: testBytes(70_000))
        for base in [Self.sealed, multi] {
            for _ in 0..<1500 {
                var file = base
                let edits = Int(rng.next() % 3) + 1
                for _ in 0..<edits {
                    let position = Int(rng.next() % UInt64(file.count + 1))
                    switch rng.next() % 4 {
                    case 0: if position < file.count { file[position] = UInt8(truncatingIfNeeded: rng.next()) }
                    case 1: file.insert(UInt8(truncatingIfNeeded: rng.next()), at: position)
                    case 2: if position < file.count { file.remove(at: position) }
                    default: file.insert(contentsOf: [0x0A, 0x2D, 0x3E, 0x20], at: position)  // "\n-> "
                    }
                }
                if file != base { #expect(Self.error(file) != nil) }
            }
        }
    }
}
