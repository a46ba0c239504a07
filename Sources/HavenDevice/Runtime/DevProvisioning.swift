import Glibc
import HavenCore
import HavenSodium

/// TEMPORARY — development provisioning, until the signed config (issue 5)
/// is installed over the link. The integrator replaces this file with the
/// config install: `DeviceSetup` then comes from the installed config and
/// the store is formatted by the install, not here.
///
/// Builds a `DeviceSetup` from command-line values (compiled instrument
/// files, age recipients, a PIN, policy knobs) and formats a *new* image
/// (one that did not exist before this start) with one PIN slot wrapping a
/// fresh random data key, exactly as a config install will (KEK =
/// HKDF(device secret, Argon2id(PIN)), Docs/safety.md §3.1). An existing
/// image is never reformatted: an erased device stays erased across
/// restarts, as a real one does.
public struct DevProvisioning {
    public var pin: String
    public var duressPIN: String?
    public var instrumentPath: String
    public var decoyPath: String
    /// age X25519 recipients ("age1…").
    public var recipients: [String]
    public var quickExitAction: QuickExitAction = .hide
    public var autoLockMilliseconds: UInt64 = 120_000
    public var checkpointEveryAnswers = 5
    public var decoyScreensIn = 3
    public var maxFailures: UInt32 = 10
    /// The hardware quick-exit button: id, presses, window.
    public var button = ButtonTrigger(button: 1, presses: 3, windowMilliseconds: 1_500)
    /// Argon2id cost (nil: the board's).
    public var kdfIterations: UInt32?
    public var kdfMemoryKiB: UInt32?

    public init(pin: String, instrumentPath: String, decoyPath: String, recipients: [String]) {
        self.pin = pin
        self.instrumentPath = instrumentPath
        self.decoyPath = decoyPath
        self.recipients = recipients
    }

    /// The setup these values describe, for `image` (the KDF salt is derived
    /// from its device secret so it is the same at every start).
    public func setup(for image: DeviceImage) throws(DeviceRuntimeError) -> DeviceSetup {
        let instrument = try Self.readFile(instrumentPath)
        let decoy = try Self.readFile(decoyPath)
        var keys: [UInt8] = []
        guard !recipients.isEmpty else { throw .provisioning("at least one --recipient is needed") }
        for r in recipients {
            guard let key = AgeRecipientText.decode(r) else {
                throw .provisioning("--recipient \(r.prefix(12))…: not an age X25519 recipient (age1…)")
            }
            keys += key
        }
        let (iterations, memory) = kdf(image.board)
        var duress: DuressVerifier?
        if let duressPIN {
            let salt = Self.salt(image)
            let made = Array(duressPIN.utf8).withUnsafeBytes { p -> Result<DuressVerifier, CryptoError> in
                do throws(CryptoError) {
                    return .success(try DuressVerifier.make(Sodium.self, pin: p, salt: salt, iterations: iterations,
                                                            memoryKiB: memory))
                } catch {
                    return .failure(error)
                }
            }
            switch made {
            case .success(let v): duress = v
            case .failure(let error): throw .provisioning("duress verifier: \(error)")
            }
        }
        let policy = SafetyPolicy(maxFailures: maxFailures, showAttemptsLeft: true, duress: duress,
                                  quickExitControl: true, quickExitButton: button, quickExitChord: [],
                                  quickExitAction: quickExitAction, autoLockMilliseconds: autoLockMilliseconds,
                                  checkpointEveryAnswers: checkpointEveryAnswers, decoyScreensIn: decoyScreensIn,
                                  recipients: keys)
        return DeviceSetup(policy: policy, instrument: instrument, decoy: decoy)
    }

    /// Formats the store with one PIN slot if the image is new.
    public func formatIfNew(_ image: DeviceImage) throws(DeviceRuntimeError) {
        guard image.isNew else { return }
        let (iterations, memory) = kdf(image.board)
        let salt = Self.salt(image)
        let dataKey = SecretBuffer(capacity: 32)
        let kek = SecretBuffer(capacity: 32)
        defer {
            dataKey.wipe()
            kek.wipe()
        }
        Sodium.randomBytes(dataKey.bytes)
        let failure = Array(pin.utf8).withUnsafeBytes { p in
            salt.withUnsafeBytes { s -> CryptoError? in
                do throws(CryptoError) {
                    try KeySlots<Sodium>.pinKEK(pin: p, salt: s, iterations: iterations, memoryKiB: memory,
                                                deviceSecret: image.secret.used, kek: kek.bytes)
                    return nil
                } catch {
                    return error
                }
            }
        }
        if let failure { throw .provisioning("PIN key: \(failure)") }
        let slot = KeySlots<Sodium>.wrap(dataKey: UnsafeRawBufferPointer(dataKey.bytes), kek: UnsafeRawBufferPointer(kek.bytes),
                                         index: 0, kind: .pin, kdfIterations: iterations, kdfMemoryKiB: memory,
                                         salt: salt)
        do throws(StoreError) {
            try Superblock<FlashPartition<PowerCutFlash>, Sodium>.format(image.storeFlash, dataKey: UnsafeRawBufferPointer(dataKey.bytes),
                                                         slots: [slot])
        } catch {
            throw .provisioning("formatting the store: \(error)")
        }
    }

    func kdf(_ board: BoardProfile) -> (UInt32, UInt32) {
        (kdfIterations ?? UInt32(board.kdf.argon2Iterations), kdfMemoryKiB ?? UInt32(board.kdf.argon2MemoryKiB))
    }

    /// HMAC(device secret, "haven dev provisioning salt")[0..<16].
    static func salt(_ image: DeviceImage) -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: 32)
        let label = Array("haven dev provisioning salt".utf8)
        label.withUnsafeBytes { l in
            mac.withUnsafeMutableBytes { Sodium.hmacSHA256(key: image.secret.used, message: l, output: $0) }
        }
        return Array(mac[0..<16])
    }

    static func readFile(_ path: String) throws(DeviceRuntimeError) -> [UInt8] {
        guard let f = fopen(path, "rb") else {
            throw .provisioning("cannot read \(path): " + String(cString: strerror(errno)))
        }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }
}

/// Decodes "age1…" (Bech32, BIP 173, HRP "age") into the 32-byte X25519 key.
enum AgeRecipientText {
    static let charset = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)

    static func decode(_ text: String) -> [UInt8]? {
        let lower = text.lowercased()
        guard lower.hasPrefix("age1"), let sep = lower.lastIndex(of: "1") else { return nil }
        let hrp = Array(lower[..<sep].utf8)
        var values: [UInt8] = []
        for c in lower[lower.index(after: sep)...].utf8 {
            guard let v = charset.firstIndex(of: c) else { return nil }
            values.append(UInt8(v))
        }
        guard values.count > 6 else { return nil }
        var expanded = hrp.map { $0 >> 5 }
        expanded.append(0)
        expanded += hrp.map { $0 & 31 }
        guard polymod(expanded + values) == 1 else { return nil }
        var out: [UInt8] = []
        var acc: UInt32 = 0
        var bits = 0
        for v in values.dropLast(6) {
            acc = acc << 5 | UInt32(v)
            bits += 5
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((acc >> UInt32(bits)) & 0xFF))
            }
        }
        guard bits < 5, acc & ((1 << UInt32(bits)) - 1) == 0, out.count == 32 else { return nil }
        return out
    }

    static func polymod(_ values: [UInt8]) -> UInt32 {
        let gen: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
        var chk: UInt32 = 1
        for v in values {
            let top = chk >> 25
            chk = (chk & 0x1ff_ffff) << 5 ^ UInt32(v)
            for i in 0..<5 where (top >> UInt32(i)) & 1 == 1 { chk ^= gen[i] }
        }
        return chk
    }
}
