/// HKDF-SHA256 (RFC 5869) built from the suite's HMAC, because libsodium
/// 1.0.18 (Debian 12) has no `crypto_kdf_hkdf_*` and a board's crypto engine
/// usually offers only HMAC. `output.count` may be at most 255 × 32 bytes.
public enum HKDF<C: CryptoSuite> {
    /// Extract: PRK = HMAC(salt, ikm). An empty salt means 32 zero bytes.
    public static func extract(
        salt: UnsafeRawBufferPointer,
        inputKeyMaterial: UnsafeRawBufferPointer,
        prk: UnsafeMutableRawBufferPointer
    ) {
        precondition(prk.count == 32, "HKDF PRK is 32 bytes")
        if salt.count == 0 {
            withUnsafeTemporaryAllocation(byteCount: 32, alignment: 1) { zero in
                zero.initializeMemory(as: UInt8.self, repeating: 0)
                C.hmacSHA256(key: UnsafeRawBufferPointer(zero), message: inputKeyMaterial, output: prk)
            }
        } else {
            C.hmacSHA256(key: salt, message: inputKeyMaterial, output: prk)
        }
    }

    /// Expand: T(i) = HMAC(PRK, T(i-1) ‖ info ‖ i), output = T(1) ‖ T(2) ‖ …
    public static func expand(
        prk: UnsafeRawBufferPointer,
        info: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) {
        precondition(output.count <= 255 * 32, "HKDF output too long")
        let blockCapacity = 32 + info.count + 1
        withUnsafeTemporaryAllocation(byteCount: blockCapacity, alignment: 1) { block in
            withUnsafeTemporaryAllocation(byteCount: 32, alignment: 1) { t in
                var produced = 0
                var counter: UInt8 = 1
                var previous = 0
                while produced < output.count {
                    var used = 0
                    if previous > 0 {
                        block.baseAddress!.copyMemory(from: t.baseAddress!, byteCount: 32)
                        used = 32
                    }
                    if info.count > 0 {
                        (block.baseAddress! + used).copyMemory(from: info.baseAddress!, byteCount: info.count)
                        used += info.count
                    }
                    block[used] = counter
                    used += 1
                    C.hmacSHA256(key: prk, message: UnsafeRawBufferPointer(rebasing: block[0..<used]), output: t)
                    let take = min(32, output.count - produced)
                    (output.baseAddress! + produced).copyMemory(from: t.baseAddress!, byteCount: take)
                    produced += take
                    previous = 32
                    counter &+= 1
                }
                C.zeroize(t)
                C.zeroize(block)
            }
        }
    }

    /// Extract then expand.
    public static func derive(
        salt: UnsafeRawBufferPointer,
        inputKeyMaterial: UnsafeRawBufferPointer,
        info: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) {
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 1) { prk in
            extract(salt: salt, inputKeyMaterial: inputKeyMaterial, prk: prk)
            expand(prk: UnsafeRawBufferPointer(prk), info: info, output: output)
            C.zeroize(prk)
        }
    }
}
