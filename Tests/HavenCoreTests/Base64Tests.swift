import CAllocCounter
import HavenCore
import Testing

private func encode(_ bytes: [UInt8]) -> String {
    var out = [UInt8](repeating: 0, count: Base64.encodedCount(bytes.count))
    let n = bytes.withUnsafeBytes { b in out.withUnsafeMutableBytes { Base64.encode(b, into: $0) } }
    #expect(n == out.count)
    return String(decoding: out, as: UTF8.self)
}

private func decode(_ text: String) throws(Base64Error) -> [UInt8] {
    let input = Array(text.utf8)
    var out = [UInt8](repeating: 0xEE, count: input.count)  // big enough for any length
    let result: Result<Int, Base64Error> = input.withUnsafeBytes { i in
        out.withUnsafeMutableBytes { o in Result { () throws(Base64Error) -> Int in try Base64.decode(i, into: o) } }
    }
    return Array(out[0..<(try result.get())])
}

/// The unpadded base64 of age headers (RFC 4648 §4 alphabet, no `=`,
/// canonical only).
@Suite struct Base64Tests {
    /// RFC 4648 §10 test vectors, with the padding removed.
    static let rfc4648: [(String, String)] = [
        ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"),
        ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy"),
    ]

    @Test(arguments: rfc4648)
    func rfc4648KnownAnswers(_ plain: String, _ encoded: String) throws {
        #expect(encode(Array(plain.utf8)) == encoded)
        #expect(try decode(encoded) == Array(plain.utf8))
        #expect(Base64.encodedCount(plain.utf8.count) == encoded.utf8.count)
        #expect(Base64.decodedCount(encoded.utf8.count) == plain.utf8.count)
    }

    @Test func roundTripsEveryLengthAndByte() throws {
        var rng = SplitMix64(seed: 7)
        for length in 0...200 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            #expect(try decode(encode(bytes)) == bytes, "length \(length)")
        }
        let all = (0...255).map { UInt8($0) }
        #expect(try decode(encode(all)) == all)
        // The two characters outside A–Z a–z 0–9.
        #expect(encode([0xFB, 0xFF]) == "+/8")
    }

    @Test func refusesPaddingAndForeignCharacters() {
        #expect(throws: Base64Error.padding(offset: 2)) { try decode("Zg==") }
        #expect(throws: Base64Error.padding(offset: 3)) { try decode("Zm8=") }
        #expect(throws: Base64Error.invalidCharacter(offset: 2)) { try decode("Zm-_") }  // URL-safe alphabet
        #expect(throws: Base64Error.invalidCharacter(offset: 4)) { try decode("Zm9v Zg") }
        #expect(throws: Base64Error.invalidCharacter(offset: 4)) { try decode("Zm9v\nZg") }
        #expect(throws: Base64Error.invalidCharacter(offset: 4)) { try decode("Zm9v\rZg") }
        #expect(throws: Base64Error.invalidCharacter(offset: 0)) { try decode("\u{0}AAA") }
        #expect(throws: Base64Error.invalidCharacter(offset: 1)) { try decode("Z\u{e9}") }  // two UTF-8 bytes
        #expect(throws: Base64Error.invalidLength(1)) { try decode("Z") }
        #expect(throws: Base64Error.invalidLength(5)) { try decode("Zm9vY") }
    }

    /// RFC 4648 §3.5: the unused low bits of the last character must be
    /// zero, so each byte string has exactly one encoding.
    @Test func refusesNonCanonicalTrailingBits() {
        #expect(throws: Base64Error.nonCanonical) { try decode("Zh") }   // "f" is "Zg"
        #expect(throws: Base64Error.nonCanonical) { try decode("Zm9") }  // "fo" is "Zm8"
        #expect(throws: Base64Error.nonCanonical) { try decode("Zm9vYmF") }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var accepted2 = 0, accepted3 = 0
        for a in alphabet {
            for b in alphabet {
                let two = String([a, b])
                if let bytes = try? decode(two) {
                    accepted2 += 1
                    #expect(encode(bytes) == two)
                }
                let three = String([a, "A", b])
                if let bytes = try? decode(three) {
                    accepted3 += 1
                    #expect(encode(bytes) == three)
                }
            }
        }
        #expect(accepted2 == 256)       // one string per byte value
        #expect(accepted3 == 64 * 16)   // 16 of 64 last characters have zero low 2 bits
    }

    @Test func decodeReportsASmallOutputBuffer() {
        let input = Array("Zm9vYmFy".utf8)
        var out = [UInt8](repeating: 0, count: 5)
        let result: Result<Int, Base64Error> = input.withUnsafeBytes { i in
            out.withUnsafeMutableBytes { o in Result { () throws(Base64Error) -> Int in try Base64.decode(i, into: o) } }
        }
        #expect(throws: Base64Error.outputTooSmall(needed: 6)) { try result.get() }
    }

    @Test func encodeAndDecodeAllocateNothing() throws {
        let bytes = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        var text = [UInt8](repeating: 0, count: Base64.encodedCount(bytes.count))
        var back = [UInt8](repeating: 0, count: bytes.count)
        var ok = true
        bytes.withUnsafeBytes { b in
            text.withUnsafeMutableBytes { t in
                back.withUnsafeMutableBytes { o in
                    // Warm up: the first call may instantiate type metadata
                    // (allocations that depend on which test ran first).
                    Base64.encode(b, into: t)
                    do throws(Base64Error) { _ = try Base64.decode(UnsafeRawBufferPointer(t), into: o) } catch {
                        ok = false
                    }
                    let before = haven_thread_allocations()
                    var round = 0
                    while round < 10 {
                        Base64.encode(b, into: t)
                        do throws(Base64Error) { _ = try Base64.decode(UnsafeRawBufferPointer(t), into: o) } catch {
                            ok = false
                        }
                        round += 1
                    }
                    #expect(haven_thread_allocations() - before == 0)
                }
            }
        }
        #expect(ok && back == bytes)
    }
}
