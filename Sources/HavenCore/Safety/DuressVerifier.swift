/// What the device needs to recognise the duress PIN without storing it:
/// an Argon2id salt and cost, and a 32-byte tag
///
///     tag = HKDF-SHA256(salt = "", ikm = Argon2id(PIN, salt, iterations, memory),
///                       info = "haven duress tag v1")
///
/// Made by the config builder from the duress PIN (`make`), carried in the
/// signed config. A PIN attempt runs Argon2id once per distinct salt and
/// cost among the PIN slots and this verifier — provisioning uses the same
/// salt and cost for both, so normally once — and derives both the slot KEK
/// and this tag from the one result, so a duress attempt and a real one do
/// the same work (Docs/safety.md §3).
///
/// The builder's tag does not involve the device secret (the host cannot
/// know it), so the bundle allows offline guessing of the duress PIN at
/// Argon2id cost per guess. The device therefore keeps only the *bound*
/// form (`bound(to:)`): tag' = HMAC-SHA256(key: HKDF(salt: "", ikm: device
/// secret, info: "haven duress bind v1"), tag), and compares a candidate
/// the same way, so a copy of its flash alone allows no guessing.
public struct DuressVerifier: Equatable, Sendable {
    public var salt: [UInt8]
    public var iterations: UInt32
    public var memoryKiB: UInt32
    public var tag: [UInt8]
    /// `tag` is the device-bound tag' (see above), not the builder's tag.
    public var boundToDevice: Bool

    public init(salt: [UInt8], iterations: UInt32, memoryKiB: UInt32, tag: [UInt8], boundToDevice: Bool = false) {
        self.salt = salt
        self.iterations = iterations
        self.memoryKiB = memoryKiB
        self.tag = tag
        self.boundToDevice = boundToDevice
    }

    /// This verifier bound to the device with `deviceSecret` (install time).
    public func bound<C: CryptoSuite>(_: C.Type, deviceSecret: UnsafeRawBufferPointer) -> DuressVerifier {
        if boundToDevice { return self }
        var out = self
        var bound = [UInt8](repeating: 0, count: 32)
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { key in
            Self.bindKey(C.self, deviceSecret: deviceSecret, into: key)
            tag.withUnsafeBytes { t in
                bound.withUnsafeMutableBytes { C.hmacSHA256(key: UnsafeRawBufferPointer(key), message: t, output: $0) }
            }
            C.zeroize(key)
        }
        out.tag = bound
        out.boundToDevice = true
        return out
    }

    /// HKDF(salt: "", ikm: device secret, info: "haven duress bind v1").
    static func bindKey<C: CryptoSuite>(_: C.Type, deviceSecret: UnsafeRawBufferPointer,
                                        into out: UnsafeMutableRawBufferPointer) {
        label("haven duress bind v1") { info in
            HKDF<C>.derive(salt: UnsafeRawBufferPointer(start: nil, count: 0), inputKeyMaterial: deviceSecret,
                           info: info, output: out)
        }
    }

    var isWellFormed: Bool { salt.count == CryptoSizes.argon2SaltBytes && tag.count == 32 }

    /// Builds the verifier for `pin` (the config builder's side).
    public static func make<C: CryptoSuite>(_: C.Type, pin: UnsafeRawBufferPointer, salt: [UInt8],
                                            iterations: UInt32, memoryKiB: UInt32) throws(CryptoError) -> DuressVerifier {
        precondition(salt.count == CryptoSizes.argon2SaltBytes, "Argon2id salt is 16 bytes")
        var tag = [UInt8](repeating: 0, count: 32)
        try withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { (stretched) throws(CryptoError) in
            defer { C.zeroize(stretched) }
            try argon2id(C.self, pin: pin, salt: salt, iterations: iterations, memoryKiB: memoryKiB, into: stretched)
            tag.withUnsafeMutableBytes { out in Self.tag(C.self, stretched: UnsafeRawBufferPointer(stretched), into: out) }
        }
        return DuressVerifier(salt: salt, iterations: iterations, memoryKiB: memoryKiB, tag: tag)
    }

    /// Argon2id with an array salt (arrays' `withUnsafeBytes` only rethrows untyped).
    static func argon2id<C: CryptoSuite>(_: C.Type, pin: UnsafeRawBufferPointer, salt: [UInt8], iterations: UInt32,
                                         memoryKiB: UInt32, into out: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        let failure = salt.withUnsafeBytes { s -> CryptoError? in
            do throws(CryptoError) {
                try C.argon2id(password: pin, salt: s, iterations: iterations, memoryBytes: memoryKiB &* 1024, output: out)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// The tag for an Argon2id output.
    static func tag<C: CryptoSuite>(_: C.Type, stretched: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        label("haven duress tag v1") { info in
            HKDF<C>.derive(salt: UnsafeRawBufferPointer(start: nil, count: 0), inputKeyMaterial: stretched,
                           info: info, output: out)
        }
    }

    /// Same Argon2id inputs as a PIN slot?
    func sharesKDF(with slot: KeySlot) -> Bool {
        slot.kdfIterations == iterations && slot.kdfMemoryKiB == memoryKiB && slot.salt == salt
    }
}
