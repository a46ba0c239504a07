import Foundation
import HavenCore
import HavenDevice
import HavenSodium

/// Argon2id cost for the PINs (from the board profile's `kdf`).
public struct KDFCost: Equatable, Sendable {
    public var iterations: UInt32
    public var memoryKiB: UInt32

    public init(iterations: UInt32, memoryKiB: UInt32) {
        self.iterations = iterations
        self.memoryKiB = memoryKiB
    }

    public init(board: BoardProfile) {
        self.init(iterations: UInt32(clamping: board.kdf.argon2Iterations),
                  memoryKiB: UInt32(clamping: board.kdf.argon2MemoryKiB))
    }
}

/// Turns a readable config file into a signed bundle (Docs/config-format.md
/// §2–4): compiles or reads the instruments, parses the recipients, turns
/// the PINs into PIN material (Argon2id with the board's cost and one salt
/// shared by every PIN slot and the duress verifier, so a PIN attempt costs
/// one Argon2id), encodes CONFIG, signs it.
///
/// The salt is not drawn at random on every build: it is derived from the
/// provisioning key and the PINs (`pinSalt`). Same PINs → same PIN material
/// → a locked device accepts the new config (Docs/config-format.md §6: only
/// a PIN *change* needs the device unlocked); new PINs → a new salt.
public enum ConfigBuilder {
    public struct Output: Sendable {
        /// The bundle file's bytes.
        public var bundle: [UInt8]
        /// The decoded config (for the summary line).
        public var config: DeviceConfig
    }

    /// Builds from a file on disk; instrument paths are relative to its folder.
    public static func build(configPath: String, key: ProvisioningKey, board: BoardProfile) throws(ConfigBuildError)
        -> Output {
        guard let data = FileManager.default.contents(atPath: configPath) else { throw .missingFile(configPath) }
        let file = try ConfigFile.decode(data)
        let base = URL(fileURLWithPath: configPath).deletingLastPathComponent()
        return try build(file, baseDirectory: base, key: key, kdf: KDFCost(board: board), board: board)
    }

    public static func build(_ file: ConfigFile, baseDirectory: URL, key: ProvisioningKey, kdf: KDFCost,
                             board: BoardProfile) throws(ConfigBuildError) -> Output {
        guard file.version >= 1 else { throw .file("version must be at least 1") }
        let limits = CompileLimits(repeatCapacity: board.repeatCapacity)
        let instrument = try loadInstrument(file.instrument, base: baseDirectory, limits: limits)
        let decoy = try loadInstrument(file.decoy, base: baseDirectory, limits: limits)
        let recipients = try parseRecipients(file.recipients)
        let names = try parseDevices(file.devices ?? [])
        var policy = try makePolicy(file)
        policy.recipients = recipients

        let pinMaterial = try makePinMaterial(file.pins, kdf: kdf, saltKey: key.keyPair.seed)
        let config = DeviceConfig(version: file.version, provisioningKey: key.publicKey,
                                  pinMaterialHash: Sodium.sha256(pinMaterial), deviceNames: names,
                                  instrument: instrument, decoy: decoy, policy: policy)
        let unsigned = config.encodeUnsigned()
        let signed = unsigned + Sodium.ed25519Sign(message: ConfigSignature<Sodium>.message(unsigned: unsigned),
                                                   keyPair: key.keyPair)
        if let geometry = try? board.geometry() {
            let capacity = ConfigLayout.capacity(geometry: geometry)
            if signed.count > capacity { throw .tooLarge(bytes: signed.count, capacity: capacity, board: board.name) }
        }
        // Read back what a device will read: the encoder and decoder agree.
        let decoded: DeviceConfig
        do {
            decoded = try signed.withUnsafeBytes { (b) throws(ConfigFormatError) -> DeviceConfig in
                try DeviceConfig.decode(b)
            }
        } catch {
            throw .policy("the encoded config does not decode (\(error)); this is a bug")
        }
        return Output(bundle: ConfigBundle.encode(config: signed, pinMaterial: pinMaterial), config: decoded)
    }

    // MARK: Parts

    static func loadInstrument(_ path: String, base: URL, limits: CompileLimits) throws(ConfigBuildError) -> [UInt8] {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path)
        guard let data = FileManager.default.contents(atPath: url.path) else { throw .missingFile(url.path) }
        let bytes: [UInt8]
        if url.pathExtension.lowercased() == "xml" {
            do {
                bytes = try FormCompiler.compile(xml: data, sourceName: url.lastPathComponent, limits: limits)
            } catch {
                throw .instrument(path: path, reason: "\(error)")
            }
        } else {
            bytes = [UInt8](data)
        }
        do {
            _ = try Instrument(bytes: bytes)
        } catch {
            throw .instrument(path: path, reason: "not a Haven instrument (\(error)); give a compiled .instrument or an XForm .xml")
        }
        return bytes
    }

    static func parseRecipients(_ list: [String]) throws(ConfigBuildError) -> [UInt8] {
        guard !list.isEmpty else { throw .recipient(index: 0, reason: "at least one age recipient (age1…) is needed") }
        guard list.count <= ConfigLayout.maxRecipients else {
            throw .recipient(index: ConfigLayout.maxRecipients, reason: "at most \(ConfigLayout.maxRecipients) recipients")
        }
        var keys: [UInt8] = []
        for (i, text) in list.enumerated() {
            do {
                keys += try AgeRecipient(parsing: text).publicKey
            } catch {
                throw .recipient(index: i, reason: "\(error)")
            }
        }
        return keys
    }

    static func parseDevices(_ list: [ConfigFile.Device]) throws(ConfigBuildError) -> [DeviceName] {
        guard list.count <= ConfigLayout.maxDeviceNames else {
            throw .device(index: ConfigLayout.maxDeviceNames, reason: "at most \(ConfigLayout.maxDeviceNames) device names")
        }
        var out: [DeviceName] = []
        for (i, d) in list.enumerated() {
            let name = Array(d.name.utf8)
            guard !name.isEmpty, name.count <= ConfigLayout.maxNameBytes else {
                throw .device(index: i, reason: "name must be 1 to \(ConfigLayout.maxNameBytes) bytes of UTF-8")
            }
            var id: [UInt8]?
            if let text = d.id {
                guard let bytes = unhex(text), bytes.count == 16 else {
                    throw .device(index: i, reason: "id must be 32 hexadecimal digits (as `haven devices` shows it)")
                }
                id = bytes
            }
            out.append(DeviceName(deviceID: id, name: name))
        }
        return out
    }

    static func makePolicy(_ file: ConfigFile) throws(ConfigBuildError) -> SafetyPolicy {
        var p = SafetyPolicy(recipients: [])
        if let lock = file.lock {
            if let n = lock.maxFailures { p.maxFailures = n }
            if let b = lock.backoffSeconds {
                guard b.count <= ConfigLayout.maxBackoffSteps else {
                    throw .policy("lock.backoffSeconds has at most \(ConfigLayout.maxBackoffSteps) steps")
                }
                p.backoffMilliseconds = try b.map { (s) throws(ConfigBuildError) -> UInt64 in
                    guard s <= 86_400 * 365 else { throw .policy("lock.backoffSeconds: \(s) s is too long") }
                    return s * 1000
                }
            }
            if let s = lock.showAttemptsLeft { p.showAttemptsLeft = s }
            if let a = lock.autoLockSeconds {
                guard a <= 86_400 * 365 else { throw .policy("lock.autoLockSeconds is too long") }
                p.autoLockMilliseconds = a * 1000
            }
        }
        if let q = file.quickExit {
            switch q.action ?? "hide" {
            case "hide": p.quickExitAction = .hide
            case "lock": p.quickExitAction = .lock
            case "wipe": p.quickExitAction = .wipe
            case let other: throw .policy("quickExit.action '\(other)' is not one of hide, lock, wipe")
            }
            if let c = q.onScreenControl { p.quickExitControl = c }
            if let b = q.button {
                guard b.presses >= 2, b.presses <= ButtonPressWindow.capacity else {
                    throw .policy("quickExit.button.presses must be 2 to \(ButtonPressWindow.capacity)")
                }
                p.quickExitButton = ButtonTrigger(button: b.code, presses: b.presses, windowMilliseconds: b.withinMilliseconds)
            }
            if let chord = q.chord {
                guard chord.count <= KeyChordDetector.capacity else {
                    throw .policy("quickExit.chord has at most \(KeyChordDetector.capacity) keys")
                }
                p.quickExitChord = chord
            }
            if let d = q.decoyScreensIn {
                guard d >= 0, d <= 1000 else { throw .policy("quickExit.decoyScreensIn must be 0 to 1000") }
                p.decoyScreensIn = d
            }
        }
        if let every = file.checkpointEveryAnswers {
            guard every >= 1, every <= 1_000_000 else { throw .policy("checkpointEveryAnswers must be at least 1") }
            p.checkpointEveryAnswers = every
        }
        return p
    }

    /// PIN rules: 4 to 64 characters, no spaces or control characters,
    /// enumerator PINs distinct, the duress PIN different from all of them.
    static func checkPIN(_ pin: String, _ what: String) throws(ConfigBuildError) {
        guard pin.count >= 4, pin.utf8.count <= 64 else { throw .pin("\(what) must be 4 to 64 characters") }
        guard !pin.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F })
        else { throw .pin("\(what) must not contain spaces or control characters") }
    }

    /// First 16 bytes of HMAC-SHA256(key: provisioning seed, "haven pin salt
    /// v1\0" ‖ iterations u32 ‖ memory KiB u32 ‖ for each enumerator PIN:
    /// u32 length ‖ UTF-8 ‖ then the duress PIN the same way, or u32 0xFFFFFFFF).
    /// Public like any salt, unpredictable without the provisioning key.
    static func pinSalt(_ pins: ConfigFile.PINs, kdf: KDFCost, saltKey: [UInt8]) -> [UInt8] {
        var message = Array("haven pin salt v1\0".utf8)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { message += $0 } }
        u32(kdf.iterations)
        u32(kdf.memoryKiB)
        for pin in pins.enumerator {
            u32(UInt32(pin.utf8.count))
            message += Array(pin.utf8)
        }
        if let d = pins.duress {
            u32(UInt32(d.utf8.count))
            message += Array(d.utf8)
        } else {
            u32(.max)
        }
        defer { message.withUnsafeMutableBytes { Sodium.zeroize($0) } }
        return Array(Sodium.hmacSHA256(key: saltKey, message: message).prefix(CryptoSizes.argon2SaltBytes))
    }

    static func makePinMaterial(_ pins: ConfigFile.PINs, kdf: KDFCost,
                                saltKey: [UInt8]) throws(ConfigBuildError) -> [UInt8] {
        guard !pins.enumerator.isEmpty, pins.enumerator.count <= ConfigLayout.maxPinSlots else {
            throw .pin("enumerator needs 1 to \(ConfigLayout.maxPinSlots) PINs")
        }
        for (i, p) in pins.enumerator.enumerated() { try checkPIN(p, "enumerator[\(i)]") }
        guard Set(pins.enumerator).count == pins.enumerator.count else { throw .pin("enumerator PINs must differ") }
        if let d = pins.duress {
            try checkPIN(d, "duress")
            if pins.enumerator.contains(d) { throw .duressEqualsPIN }
        }
        guard kdf.iterations >= 1, kdf.memoryKiB >= 8 else { throw .policy("the board's Argon2id cost is invalid") }

        let salt = pinSalt(pins, kdf: kdf, saltKey: saltKey)
        var stretched: [[UInt8]] = []
        defer {
            for i in stretched.indices { stretched[i].withUnsafeMutableBytes { Sodium.zeroize($0) } }
        }
        for pin in pins.enumerator {
            stretched.append(try argon2(pin, salt: salt, kdf: kdf))
        }
        var duress: DuressVerifier?
        if let d = pins.duress {
            do {
                duress = try Array(d.utf8).withUnsafeBytes { (p) throws(CryptoError) -> DuressVerifier in
                    try DuressVerifier.make(Sodium.self, pin: p, salt: salt, iterations: kdf.iterations,
                                            memoryKiB: kdf.memoryKiB)
                }
            } catch {
                throw .policy("Argon2id failed for the duress PIN (\(error))")
            }
        }
        let slots = pins.enumerator.map { _ in (salt: salt, iterations: kdf.iterations, memoryKiB: kdf.memoryKiB) }
        return PinMaterial.encode(slots: slots, stretched: stretched, duress: duress)
    }

    static func argon2(_ pin: String, salt: [UInt8], kdf: KDFCost) throws(ConfigBuildError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var failure: CryptoError?
        Array(pin.utf8).withUnsafeBytes { p in
            salt.withUnsafeBytes { s in
                out.withUnsafeMutableBytes { o in
                    do throws(CryptoError) {
                        try Sodium.argon2id(password: p, salt: s, iterations: kdf.iterations,
                                            memoryBytes: kdf.memoryKiB &* 1024, output: o)
                    } catch {
                        failure = error
                    }
                }
            }
        }
        if let failure { throw .policy("Argon2id failed (\(failure)); is the board's memory cost too large?") }
        return out
    }
}
