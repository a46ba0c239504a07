import Foundation
import HavenCore
import HavenDevice
import HavenHost
import HavenSodium
import Testing

/// A device whose image holds an installed signed config boots on it: its
/// PIN, its duress PIN, its instruments and its policy; no --dev-* needed.
/// (The install itself is done here in process, through the same
/// `ConfigInstaller` the link will call.)
@Suite struct ConfigBootTests {
    static let fixture = repositoryRoot.appendingPathComponent("Tests/Fixtures/config/field-config.json")

    func installFixtureConfig(on device: SimDevice) throws {
        let board = try BoardProfile.load(named: "sim", hardwareDirectory: repositoryRoot.appendingPathComponent("Hardware").path)
        let file = try ConfigFile.decode(try Data(contentsOf: Self.fixture))
        let output = try ConfigBuilder.build(file, baseDirectory: Self.fixture.deletingLastPathComponent(),
                                             key: ProvisioningKey.generate(), kdf: KDFCost(iterations: 1, memoryKiB: 8),
                                             board: board)
        let image = try DeviceImage(path: device.image, board: board)
        let outcome = try output.bundle.withUnsafeBytes { b in
            try ConfigInstaller<Sodium>.install(bundle: b, area: image.configArea, store: image.storeFlash,
                                                deviceSecret: image.secret.used)
        }
        #expect(outcome == .firstInstall)
    }

    func sim(_ device: SimDevice, extra: [String] = []) throws -> SimProcess {
        try SimProcess(arguments: ["--image", device.image, "--hardware",
                                   repositoryRoot.appendingPathComponent("Hardware").path, "--headless"] + extra)
    }

    @Test func bootsOnTheInstalledConfig() throws {
        let device = try SimDevice()
        try installFixtureConfig(on: device)
        let s = try sim(device)
        #expect(kind(s.first) == "lock")
        #expect((s.first["pin"] as? [String: Any])?["attemptsLeft"] is NSNull)  // showAttemptsLeft: false
        #expect(try s.event("pin", ["value": SimDevice.pin])["notice"] as? String == "wrong-pin")
        let home = try s.event("pin", ["value": "482915"])
        #expect(kind(home) == "home")
        #expect(home["title"] as? String == "Domestic violence module (Haven fixture)")
        #expect(kind(try s.event("start")) == "note")
        #expect(kind(try s.event("lock")) == "lock")
        // The duress PIN bound to this device at install: the decoy only, the store erased.
        let decoy = try s.event("pin", ["value": "731604"])
        #expect(decoy["title"] as? String == "Household savings survey")
        #expect(s.finish() == 0)
    }

    @Test func withoutAConfigItBootsUnprovisionedAndShowsItsDeviceID() throws {
        let device = try SimDevice()
        let s = try sim(device)
        #expect(kind(s.first) == "unprovisioned")
        let secret = [UInt8](try Data(contentsOf: URL(fileURLWithPath: device.secretPath)))
        let id = secret.withUnsafeBytes { DeviceIdentity<Sodium>.hex(DeviceIdentity<Sodium>.deviceID(secret: $0)) }
        #expect(s.first["deviceId"] as? String == String(decoding: id, as: UTF8.self))
        let refused = try s.event("pin", ["value": "482915"])
        #expect(kind(refused) == "unprovisioned")
        #expect(refused["error"] as? String == "this device is not set up yet")
        #expect(s.finish() == 0)
    }

    @Test func installingABundleRebootsTheRuntimeOnIt() throws {
        let device = try SimDevice()
        let board = try BoardProfile.load(named: "sim", hardwareDirectory: repositoryRoot.appendingPathComponent("Hardware").path)
        let file = try ConfigFile.decode(try Data(contentsOf: Self.fixture))
        let output = try ConfigBuilder.build(file, baseDirectory: Self.fixture.deletingLastPathComponent(),
                                             key: ProvisioningKey.generate(), kdf: KDFCost(iterations: 1, memoryKiB: 8),
                                             board: board)
        do {
            let host = try DeviceHost(image: try DeviceImage(path: device.image, board: board))
            #expect(!host.isProvisioned)
            let outcome = try output.bundle.withUnsafeBytes { try host.installConfig(bundle: $0) }
            #expect(outcome == .firstInstall)
            #expect(host.isProvisioned)
            let buffer = SecretBuffer(capacity: 1 << 20)
            var w = JSONLineWriter(buffer: buffer)
            host.writeModel(into: &w)
            let model = try SimProcess.parse(String(decoding: buffer.used, as: UTF8.self))
            #expect(kind(model) == "lock")
            // The same bundle again: not newer, refused.
            #expect(throws: ConfigError.notNewer(installed: 1, offered: 1)) {
                try output.bundle.withUnsafeBytes { try host.installConfig(bundle: $0) }
            }
        }
        // The next start boots on it.
        let s = try sim(device)
        #expect(kind(s.first) == "lock")
        #expect(kind(try s.event("pin", ["value": "482915"])) == "home")
        #expect(s.finish() == 0)
    }

    /// One JSON event applied in process; the model after it.
    @discardableResult
    func send(_ host: DeviceHost, _ json: String) throws -> [String: Any] {
        let reader = SimEventReader()
        let line = Array(json.utf8)
        let event = try line.withUnsafeBytes { try reader.read($0) }
        host.apply(event)
        let buffer = SecretBuffer(capacity: 1 << 20)
        var w = JSONLineWriter(buffer: buffer)
        host.writeModel(into: &w)
        return try SimProcess.parse(String(decoding: buffer.used, as: UTF8.self))
    }

    @Test func aNewerConfigInstalledMidInterviewKeepsTheInterview() throws {
        let device = try SimDevice()
        let board = try BoardProfile.load(named: "sim", hardwareDirectory: repositoryRoot.appendingPathComponent("Hardware").path)
        let key = ProvisioningKey.generate()
        func bundle(version: UInt64) throws -> [UInt8] {
            var file = try ConfigFile.decode(try Data(contentsOf: Self.fixture))
            file.version = version
            return try ConfigBuilder.build(file, baseDirectory: Self.fixture.deletingLastPathComponent(), key: key,
                                           kdf: KDFCost(iterations: 1, memoryKiB: 8), board: board).bundle
        }
        let host = try DeviceHost(image: try DeviceImage(path: device.image, board: board))
        _ = try bundle(version: 1).withUnsafeBytes { try host.installConfig(bundle: $0) }
        #expect(kind(try send(host, #"{"type":"pin","value":"482915"}"#)) == "home")
        try send(host, #"{"type":"start"}"#)
        try send(host, #"{"type":"next"}"#)
        try send(host, #"{"type":"answer","value":"yes"}"#)
        try send(host, #"{"type":"next"}"#)
        #expect(label(try send(host, #"{"type":"next"}"#)) == "How old are you?")
        let outcome = try bundle(version: 2).withUnsafeBytes { try host.installConfig(bundle: $0) }
        #expect(outcome == .updated)
        #expect(kind(try send(host, #"{"type":"screen"}"#)) == "lock")
        let resumed = try send(host, #"{"type":"pin","value":"482915"}"#)
        #expect(label(resumed) == "How old are you?")
        #expect(label(try send(host, #"{"type":"back"}"#)) == "Survey round")
    }
}
