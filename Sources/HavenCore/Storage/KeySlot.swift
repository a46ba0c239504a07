/// One wrapped copy of the device data key (see `Docs/store-format.md` §2.2).
///
/// A slot holds the data key sealed with a key-encryption key (KEK) derived
/// from a secret only an authorised person or part has: the enumerator PIN
/// (Argon2id) mixed with the device secret. Crypto-erase destroys every slot,
/// after which no ciphertext on the flash can be opened.
public struct KeySlot: Equatable, Sendable {
    public enum Kind: UInt8, Sendable {
        case empty = 0
        /// KEK = HKDF(salt: device secret, ikm: Argon2id(PIN, salt)).
        case pin = 1
        /// KEK supplied whole (a recovery or provisioning key held off-device).
        case rawKey = 2
    }

    public var kind: Kind
    public var kdfIterations: UInt32
    public var kdfMemoryKiB: UInt32
    public var salt: [UInt8]
    public var nonce: [UInt8]
    public var wrappedKey: [UInt8]

    public static let empty = KeySlot(kind: .empty, kdfIterations: 0, kdfMemoryKiB: 0,
                                      salt: [UInt8](repeating: 0, count: 16),
                                      nonce: [UInt8](repeating: 0, count: 24),
                                      wrappedKey: [UInt8](repeating: 0, count: 48))

    public init(kind: Kind, kdfIterations: UInt32, kdfMemoryKiB: UInt32,
                salt: [UInt8], nonce: [UInt8], wrappedKey: [UInt8]) {
        precondition(salt.count == 16 && nonce.count == 24 && wrappedKey.count == 48, "key slot field sizes")
        self.kind = kind
        self.kdfIterations = kdfIterations
        self.kdfMemoryKiB = kdfMemoryKiB
        self.salt = salt
        self.nonce = nonce
        self.wrappedKey = wrappedKey
    }

    /// Layout: kind u8, kdf u8 (1 = Argon2id), reserved u16, iterations u32,
    /// memory KiB u32, reserved u32, salt[16], nonce[24], wrapped[48], reserved[8].
    func encode(into out: UnsafeMutableRawBufferPointer) {
        out.fill(0)
        out[0] = kind.rawValue
        out[1] = kind == .pin ? 1 : 0
        out.storeLE(kdfIterations, at: 4)
        out.storeLE(kdfMemoryKiB, at: 8)
        salt.withUnsafeBytes { out.copy($0, to: 16) }
        nonce.withUnsafeBytes { out.copy($0, to: 32) }
        wrappedKey.withUnsafeBytes { out.copy($0, to: 56) }
    }

    static func decode(_ b: UnsafeRawBufferPointer) -> KeySlot? {
        guard let kind = Kind(rawValue: b[0]) else { return nil }
        return KeySlot(kind: kind, kdfIterations: b.loadLE(at: 4), kdfMemoryKiB: b.loadLE(at: 8),
                       salt: [UInt8](b.slice(16, 16)), nonce: [UInt8](b.slice(32, 24)),
                       wrappedKey: [UInt8](b.slice(56, 48)))
    }

    /// The associated data binding a wrapped key to its slot's parameters, so
    /// a downgraded KDF setting fails to open instead of weakening the slot.
    fileprivate func withAssociatedData<R>(index: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { ad in
            ad[0] = 0x48; ad[1] = 0x56; ad[2] = 0x4E; ad[3] = 0x6B  // "HVNk"
            ad.storeLE(UInt32(index), at: 4)
            ad.storeLE(UInt32(kind.rawValue), at: 8)
            ad.storeLE(kdfIterations, at: 12)
            salt.withUnsafeBytes { ad.copy($0, to: 16) }
            ad.storeLE(kdfMemoryKiB, at: 28)
            return body(UnsafeRawBufferPointer(ad))
        }
    }
}

/// Wrapping and unwrapping the data key.
public enum KeySlots<C: CryptoSuite> {
    /// Seals `dataKey` under `kek` into a new slot for position `index`.
    public static func wrap(dataKey: UnsafeRawBufferPointer, kek: UnsafeRawBufferPointer, index: Int,
                            kind: KeySlot.Kind, kdfIterations: UInt32, kdfMemoryKiB: UInt32,
                            salt: [UInt8]) -> KeySlot {
        var slot = KeySlot(kind: kind, kdfIterations: kdfIterations, kdfMemoryKiB: kdfMemoryKiB, salt: salt,
                           nonce: [UInt8](repeating: 0, count: 24), wrappedKey: [UInt8](repeating: 0, count: 48))
        slot.nonce.withUnsafeMutableBytes { C.randomBytes($0) }
        let nonce = slot.nonce
        var wrapped = [UInt8](repeating: 0, count: 48)
        slot.withAssociatedData(index: index) { ad in
            nonce.withUnsafeBytes { n in
                wrapped.withUnsafeMutableBytes { out in
                    C.aeadSeal(key: kek, nonce: n, associatedData: ad, plaintext: dataKey, output: out)
                }
            }
        }
        slot.wrappedKey = wrapped
        return slot
    }

    /// Opens `slot` with `kek` into `dataKey` (32 bytes).
    public static func unwrap(_ slot: KeySlot, index: Int, kek: UnsafeRawBufferPointer,
                              dataKey: UnsafeMutableRawBufferPointer) throws(StoreError) {
        guard slot.kind != .empty else { throw .noMatchingKeySlot }
        let ok = slot.withAssociatedData(index: index) { ad -> Bool in
            slot.nonce.withUnsafeBytes { n in
                slot.wrappedKey.withUnsafeBytes { w in
                    C.aeadOpen(key: kek, nonce: n, associatedData: ad, ciphertext: w, output: dataKey)
                }
            }
        }
        if !ok { throw .noMatchingKeySlot }
    }

    /// PIN → KEK: HKDF(salt: device secret, ikm: Argon2id(PIN, slot salt),
    /// info: "haven pin kek v1"). The device secret (secure element or sealed
    /// file) makes an image copied off the device useless for offline guessing.
    public static func pinKEK(pin: UnsafeRawBufferPointer, salt: UnsafeRawBufferPointer,
                              iterations: UInt32, memoryKiB: UInt32, deviceSecret: UnsafeRawBufferPointer,
                              kek: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        try withUnsafeTemporaryAllocation(byteCount: 32, alignment: 1) { (stretched) throws(CryptoError) in
            defer { C.zeroize(stretched) }
            try C.argon2id(password: pin, salt: salt, iterations: iterations,
                           memoryBytes: memoryKiB &* 1024, output: stretched)
            pinKEK(stretched: UnsafeRawBufferPointer(stretched), deviceSecret: deviceSecret, kek: kek)
        }
    }

    /// The second half of `pinKEK`: HKDF of an Argon2id output with the
    /// device secret. Split out so a PIN attempt can run Argon2id once and
    /// derive both the KEK and the duress check from it (Docs/safety.md §3).
    public static func pinKEK(stretched: UnsafeRawBufferPointer, deviceSecret: UnsafeRawBufferPointer,
                              kek: UnsafeMutableRawBufferPointer) {
        label("haven pin kek v1") { info in
            HKDF<C>.derive(salt: deviceSecret, inputKeyMaterial: stretched, info: info, output: kek)
        }
    }
}
