import HavenCore
import HavenSodium

/// How many times each primitive ran.
struct CryptoCounts: Equatable {
    var argon2id = 0
    var hmac = 0
    var aeadOpen = 0
    var aeadSeal = 0
    var constantTimeEqual = 0
}

/// Sodium with call counters, to show that an operation does the same work
/// whatever its input (the duress PIN, the real one, a wrong one). Only one
/// test uses it, inside `counting`, so the shared counters are not raced.
enum CountingSodium: CryptoSuite {
    nonisolated(unsafe) static var counts = CryptoCounts()

    static func counting<R>(into out: inout CryptoCounts, _ body: () throws -> R) rethrows -> R {
        counts = CryptoCounts()
        let r = try body()
        out = counts
        return r
    }

    static func aeadSeal(key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer,
                         plaintext: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) {
        counts.aeadSeal += 1
        Sodium.aeadSeal(key: key, nonce: nonce, associatedData: associatedData, plaintext: plaintext, output: output)
    }

    static func aeadOpen(key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer,
                         ciphertext: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) -> Bool {
        counts.aeadOpen += 1
        return Sodium.aeadOpen(key: key, nonce: nonce, associatedData: associatedData, ciphertext: ciphertext, output: output)
    }

    static func chachaPolySeal(key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer,
                               plaintext: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) {
        Sodium.chachaPolySeal(key: key, nonce: nonce, associatedData: associatedData, plaintext: plaintext, output: output)
    }

    static func chachaPolyOpen(key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer,
                               ciphertext: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) -> Bool {
        Sodium.chachaPolyOpen(key: key, nonce: nonce, associatedData: associatedData, ciphertext: ciphertext, output: output)
    }

    static func hchacha20(key: UnsafeRawBufferPointer, input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) {
        Sodium.hchacha20(key: key, input: input, output: output)
    }

    static func chacha20Xor(key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, counter: UInt64,
                            input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) {
        Sodium.chacha20Xor(key: key, nonce: nonce, counter: counter, input: input, output: output)
    }

    static func hmacSHA256(key: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) {
        counts.hmac += 1
        Sodium.hmacSHA256(key: key, message: message, output: output)
    }

    static func sha256(message: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) {
        Sodium.sha256(message: message, output: output)
    }

    static func x25519(scalar: UnsafeRawBufferPointer, point: UnsafeRawBufferPointer,
                       output: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        try Sodium.x25519(scalar: scalar, point: point, output: output)
    }

    static func x25519Base(scalar: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) {
        Sodium.x25519Base(scalar: scalar, output: output)
    }

    static func ed25519Verify(signature: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer,
                              publicKey: UnsafeRawBufferPointer) -> Bool {
        Sodium.ed25519Verify(signature: signature, message: message, publicKey: publicKey)
    }

    static func argon2id(password: UnsafeRawBufferPointer, salt: UnsafeRawBufferPointer, iterations: UInt32,
                         memoryBytes: UInt32, output: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        counts.argon2id += 1
        try Sodium.argon2id(password: password, salt: salt, iterations: iterations, memoryBytes: memoryBytes, output: output)
    }

    static func randomBytes(_ output: UnsafeMutableRawBufferPointer) { Sodium.randomBytes(output) }

    static func zeroize(_ buffer: UnsafeMutableRawBufferPointer) { Sodium.zeroize(buffer) }

    static func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        counts.constantTimeEqual += 1
        return Sodium.constantTimeEqual(a, b)
    }
}
