import HavenCore
import HavenSodium
import Testing

// Known answers come from the Argon2 reference implementation's CLI (Debian
// 12 package `argon2`, 0~20171227), which is independent of libsodium's code.
// That CLI reproduces the reference test vector
//   echo -n password | argon2 somesalt -id -t 2 -m 16 -p 1 -l 32
//   $argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc
// but that vector's 8-byte salt cannot be used here: crypto_pwhash (and so
// the suite) takes exactly 16 bytes of salt. The vectors below use 16-byte
// salts; the command that produced each is next to it.

private func argon2id(
    password: [UInt8], salt: [UInt8], iterations: UInt32, memoryBytes: UInt32, count: Int
) throws(CryptoError) -> [UInt8] {
    var result = [UInt8](repeating: 0xEE, count: count)
    var failure: CryptoError?
    result.withUnsafeMutableBytes { out in
        password.withUnsafeBytes { p in
            salt.withUnsafeBytes { s in
                do throws(CryptoError) {
                    try Sodium.argon2id(password: p, salt: s, iterations: iterations, memoryBytes: memoryBytes, output: out)
                } catch {
                    failure = error
                }
            }
        }
    }
    if let failure { throw failure }
    return result
}

private let kiB: UInt32 = 1024

@Suite struct Argon2idTests {
    /// echo -n password | argon2 somesaltsomesalt -id -t 2 -m 16 -p 1 -l 32
    /// (m = 2^16 KiB = 64 MiB). The expected bytes are decoded from the
    /// printed PHC string, so they are copied exactly as the CLI printed them.
    @Test func cli64MiBTwoPasses() throws {
        let encoded = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$/DO3gTkjHTS3Fia9YkXB1y76GQrWBcPYFmpyrc7fosI"
        let fields = encoded.split(separator: "$")
        let salt = base64Unpadded(String(fields[3]))
        let expected = base64Unpadded(String(fields[4]))
        #expect(salt == Array("somesaltsomesalt".utf8))
        // The CLI's "Hash:" line, as a check on the base64 decoding itself.
        #expect(hexString(expected) == "fc33b78139231d34b71626bd6245c1d72efa190ad605c3d8166a72adcedfa2c2")

        let out = try argon2id(
            password: Array("password".utf8), salt: salt, iterations: 2, memoryBytes: 65536 * kiB, count: 32)
        #expect(out == expected)
    }

    /// echo -n password | argon2 somesaltsomesalt -id -t 3 -m 13 -p 1 -l 32
    /// (m = 2^13 KiB = 8 MiB)
    @Test func cli8MiBThreePasses() throws {
        let out = try argon2id(
            password: Array("password".utf8), salt: Array("somesaltsomesalt".utf8),
            iterations: 3, memoryBytes: 8192 * kiB, count: 32)
        #expect(hexString(out) == "02950b5580d9c4909f78967fb3a6bfe9f0839ed64b932b118aba21ec89705b29")
    }

    /// printf 'correct horse battery staple' | argon2 'Haven salt 16 B!' -id -t 1 -k 8192 -p 1 -l 64
    /// (one pass, and an output longer than one BLAKE2b block).
    @Test func cli8MiBOnePass64ByteOutput() throws {
        let out = try argon2id(
            password: Array("correct horse battery staple".utf8), salt: Array("Haven salt 16 B!".utf8),
            iterations: 1, memoryBytes: 8192 * kiB, count: 64)
        #expect(hexString(out) == normalizedHex("""
            b7c9b0a592d54d390d7922f07a95f80bc3b95cd991093ada68397f288d947334
            3dfaf2ad9e226f78ca91137e4f920c701cb4d8d12f594cdaf1d2fc4a6867e1b8
            """))
    }

    @Test func emptyPasswordIsAcceptedAndDistinct() throws {
        // The CLI cannot take an empty password, so no known answer: check
        // the call succeeds, is deterministic, and is not the 1-byte result.
        let salt = Array("somesaltsomesalt".utf8)
        let empty1 = try argon2id(password: [], salt: salt, iterations: 1, memoryBytes: 8192 * kiB, count: 32)
        let empty2 = try argon2id(password: [], salt: salt, iterations: 1, memoryBytes: 8192 * kiB, count: 32)
        let zeroByte = try argon2id(password: [0], salt: salt, iterations: 1, memoryBytes: 8192 * kiB, count: 32)
        #expect(empty1 == empty2)
        #expect(empty1 != zeroByte)
        #expect(empty1 != [UInt8](repeating: 0xEE, count: 32))
    }

    @Test func tooLittleMemoryThrowsKdfFailedAndZeroesOutput() {
        // libsodium's minimum is 8 KiB (crypto_pwhash_MEMLIMIT_MIN).
        var out = [UInt8](repeating: 0xEE, count: 32)
        var failure: CryptoError?
        let password = Array("password".utf8), salt = Array("somesaltsomesalt".utf8)
        out.withUnsafeMutableBytes { o in
            password.withUnsafeBytes { p in
                salt.withUnsafeBytes { s in
                    do throws(CryptoError) {
                        try Sodium.argon2id(password: p, salt: s, iterations: 3, memoryBytes: 4 * kiB, output: o)
                    } catch {
                        failure = error
                    }
                }
            }
        }
        #expect(failure == .kdfFailed)
        #expect(out == [UInt8](repeating: 0, count: 32))
    }

    @Test func zeroIterationsThrowsKdfFailed() {
        #expect(throws: CryptoError.kdfFailed) {
            try argon2id(
                password: Array("password".utf8), salt: Array("somesaltsomesalt".utf8),
                iterations: 0, memoryBytes: 8192 * kiB, count: 32)
        }
    }
}
