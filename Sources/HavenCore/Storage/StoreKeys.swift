/// The keys a mounted store works with, derived from the device data key,
/// and the nonce source. Owned by one store; zeroized on `wipe()` and deinit.
///
/// Subkeys are separated by purpose (HKDF info strings) so a fragment header,
/// a fragment body and an anchor can share a nonce without sharing a key.
final class StoreKeys<C: CryptoSuite> {
    /// header key ‖ body key ‖ anchor key ‖ nonce prefix (16) ‖ key check (16)
    private let material: UnsafeMutableRawBufferPointer
    private var counter: UInt64 = 0

    static var materialSize: Int { 3 * 32 + 16 + 16 }

    init(dataKey: UnsafeRawBufferPointer) {
        precondition(dataKey.count == CryptoSizes.key, "data key is 32 bytes")
        material = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.materialSize, alignment: 16)
        Self.derive(dataKey, "haven store v1 fragment header", into: material.slice(0, 32))
        Self.derive(dataKey, "haven store v1 fragment body", into: material.slice(32, 32))
        Self.derive(dataKey, "haven store v1 anchor", into: material.slice(64, 32))
        // A fresh random prefix per mount: nonces are prefix ‖ counter, so they
        // never repeat under one key without a per-write call to the RNG.
        C.randomBytes(material.slice(96, 16))
        Self.keyCheck(dataKey: dataKey, into: material.slice(112, 16))
        C.hchacha20(key: headerKey, input: UnsafeRawBufferPointer(material.slice(96, 16)), output: subkeys.slice(0, 32))
        C.hchacha20(key: bodyKey, input: UnsafeRawBufferPointer(material.slice(96, 16)), output: subkeys.slice(32, 32))
    }

    /// HChaCha20 subkeys for a nonce prefix: own prefix (header, body), then
    /// the last other prefix seen when reading (prefix, header, body).
    private let subkeys: UnsafeMutableRawBufferPointer = .allocate(byteCount: 144, alignment: 16)
    private var foreignValid = false

    deinit { wipe() }

    /// The header and body subkeys for fragments whose nonce starts with
    /// `nonce[0..<16]`: XChaCha20's HChaCha20 step, done once per prefix
    /// rather than once per fragment (every fragment written in one mount
    /// shares the prefix).
    func subkeys(for nonce: UnsafeRawBufferPointer) -> (header: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer) {
        let prefix = nonce.slice(0, 16)
        if Self.same16(prefix, UnsafeRawBufferPointer(material.slice(96, 16))) {
            return (UnsafeRawBufferPointer(subkeys.slice(0, 32)), UnsafeRawBufferPointer(subkeys.slice(32, 32)))
        }
        if !foreignValid || !Self.same16(prefix, UnsafeRawBufferPointer(subkeys.slice(64, 16))) {
            subkeys.slice(64, 16).copy(prefix, to: 0)
            C.hchacha20(key: headerKey, input: prefix, output: subkeys.slice(80, 32))
            C.hchacha20(key: bodyKey, input: prefix, output: subkeys.slice(112, 32))
            foreignValid = true
        }
        return (UnsafeRawBufferPointer(subkeys.slice(80, 32)), UnsafeRawBufferPointer(subkeys.slice(112, 32)))
    }

    var headerKey: UnsafeRawBufferPointer { UnsafeRawBufferPointer(material.slice(0, 32)) }
    var bodyKey: UnsafeRawBufferPointer { UnsafeRawBufferPointer(material.slice(32, 32)) }
    var anchorKey: UnsafeRawBufferPointer { UnsafeRawBufferPointer(material.slice(64, 32)) }
    var keyCheck: UnsafeRawBufferPointer { UnsafeRawBufferPointer(material.slice(112, 16)) }

    /// Writes a never-repeating 24-byte nonce.
    func nextNonce(into nonce: UnsafeMutableRawBufferPointer) {
        nonce.copy(UnsafeRawBufferPointer(material.slice(96, 16)), to: 0)
        counter &+= 1
        nonce.storeLE(counter, at: 16)
    }

    @inline(__always)
    private static func same16(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        a.loadUnaligned(fromByteOffset: 0, as: UInt64.self) == b.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
            && a.loadUnaligned(fromByteOffset: 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
    }

    private var wiped = false

    func wipe() {
        if wiped { return }
        C.zeroize(material)
        material.deallocate()
        C.zeroize(subkeys)
        subkeys.deallocate()
        wiped = true
    }

    /// First 16 bytes of HMAC(dataKey, label): lets mount tell a wrong key
    /// from an empty store without revealing anything about the key.
    static func keyCheck(dataKey: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 1) { mac in
            label("haven store v1 key check") { info in
                C.hmacSHA256(key: dataKey, message: info, output: mac)
            }
            out.copy(UnsafeRawBufferPointer(mac.slice(0, 16)), to: 0)
            C.zeroize(mac)
        }
    }

    private static func derive(_ key: UnsafeRawBufferPointer, _ info: StaticString, into out: UnsafeMutableRawBufferPointer) {
        label(info) { infoBytes in
            HKDF<C>.derive(salt: UnsafeRawBufferPointer(start: nil, count: 0), inputKeyMaterial: key,
                           info: infoBytes, output: out)
        }
    }
}

/// The bytes of a static label, without allocating.
@inline(__always)
func label<R>(_ text: StaticString, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    body(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
}
