// A crypto suite for fuzzing: libsodium for everything, except that an
// Ed25519 signature of 64 bytes of 0x5A verifies under any key and the
// "random" generator is a fixed stream. This lets a fuzzer reach what sits
// behind authentication (the link server's record and config handlers)
// and keeps every run reproducible. Fuzz builds only: never in Sources/.
import HavenCore
import HavenSodium

enum FuzzSuite: CryptoSuite {
    static let forgedSignatureByte: UInt8 = 0x5A
    nonisolated(unsafe) static var counter: UInt8 = 0

    static func aeadSeal(key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer,
                         plaintext: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) {
        Sodium.aeadSeal(key: key, nonce: nonce, associatedData: associatedData, plaintext: plaintext, output: output)
    }
    static func aeadOpen(key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer,
                         ciphertext: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) -> Bool {
        Sodium.aeadOpen(key: key, nonce: nonce, associatedData: associatedData, ciphertext: ciphertext, output: output)
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
        if signature.count == CryptoSizes.ed25519Signature, signature.allSatisfy({ $0 == forgedSignatureByte }) { return true }
        return Sodium.ed25519Verify(signature: signature, message: message, publicKey: publicKey)
    }
    static func argon2id(password: UnsafeRawBufferPointer, salt: UnsafeRawBufferPointer, iterations: UInt32,
                         memoryBytes: UInt32, output: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        try Sodium.argon2id(password: password, salt: salt, iterations: iterations, memoryBytes: memoryBytes, output: output)
    }
    static func randomBytes(_ output: UnsafeMutableRawBufferPointer) {
        for i in 0..<output.count {
            counter &+= 1
            output[i] = counter
        }
    }
    static func zeroize(_ buffer: UnsafeMutableRawBufferPointer) { Sodium.zeroize(buffer) }
    static func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        Sodium.constantTimeEqual(a, b)
    }
}

/// A link frame (header + payload, CRC sealed) as bytes.
func fuzzFrame(type: UInt8, seq: UInt16, flags: UInt8, payload: [UInt8], crc: CRC32Table, version: UInt8 = 1) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: LinkFrame.headerSize + payload.count)
    out.withUnsafeMutableBytes { o in
        payload.withUnsafeBytes { p in
            _ = FrameCodec.encode(FrameHeader(version: version, type: type, seq: seq, flags: flags, length: 0),
                                  payload: p, into: o, crc: crc)
        }
    }
    return out
}

/// Re-seals every frame found in `bytes` in place: from each "HL", the
/// header's length is clamped to what follows and the check byte and CRC
/// are recomputed, so a mutated stream of real frames still reaches the
/// payload decoders. Bytes between frames are left as they are.
func fuzzResealFrames(_ bytes: inout [UInt8], crc: CRC32Table) {
    var i = 0
    bytes.withUnsafeMutableBytes { b in
        while i + LinkFrame.headerSize <= b.count {
            guard b[i] == LinkFrame.magic0, b[i + 1] == LinkFrame.magic1 else { i += 1; continue }
            let announced = Int(b[i + 8]) | Int(b[i + 9]) << 8 | Int(b[i + 10]) << 16 | Int(b[i + 11]) << 24
            let length = min(announced, LinkFrame.maxPayload, b.count - i - LinkFrame.headerSize)
            let header = FrameHeader(version: b[i + 2], type: b[i + 3], seq: UInt16(b[i + 4]) | UInt16(b[i + 5]) << 8,
                                     flags: b[i + 6], length: UInt32(length))
            let frame = UnsafeMutableRawBufferPointer(rebasing: b[i..<(i + LinkFrame.headerSize + length)])
            i += FrameCodec.seal(header, frame: frame, crc: crc)
        }
    }
}
