// Helpers shared by the known-answer tests: vectors are written as hex, as in
// the RFCs, and compared as hex so a failure prints both values legibly.

/// Bytes from hex; spaces and newlines are ignored so vectors can be pasted in
/// the RFCs' layout. Malformed hex is a bug in the test, so it traps.
func hex(_ text: String) -> [UInt8] {
    let digits = text.unicodeScalars.filter { !$0.properties.isWhitespace }
    precondition(digits.count % 2 == 0, "odd number of hex digits")
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    var high: UInt8?
    for scalar in digits {
        guard let nibble = UInt8(String(scalar), radix: 16) else { preconditionFailure("not a hex digit") }
        if let h = high {
            bytes.append(h << 4 | nibble)
            high = nil
        } else {
            high = nibble
        }
    }
    return bytes
}

/// Lowercase hex of `bytes`, for comparing against a vector.
func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// The same hex, normalised (whitespace removed, lowercase), so expected
/// values can keep the RFCs' line breaks.
func normalizedHex(_ text: String) -> String {
    hexString(hex(text))
}

/// `count` bytes written by `body`, for calling the suite's pointer API from
/// tests the way the core does.
func output(count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows -> [UInt8] {
    var bytes = [UInt8](repeating: 0xEE, count: count)
    try bytes.withUnsafeMutableBytes { try body($0) }
    return bytes
}

/// Standard (RFC 4648) base64 without padding, as in PHC strings; decoded
/// here so a vector can be copied verbatim from an encoded Argon2 hash.
func base64Unpadded(_ text: String) -> [UInt8] {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var value: UInt32 = 0
    var bits = 0
    var bytes: [UInt8] = []
    for c in text.utf8 {
        guard let index = alphabet.firstIndex(of: c) else { preconditionFailure("not base64") }
        value = value << 6 | UInt32(index)
        bits += 6
        if bits >= 8 {
            bits -= 8
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(bits)))
        }
    }
    return bytes
}
