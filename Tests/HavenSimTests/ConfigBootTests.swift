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

    @Test func anUnprovisionedImageWithoutDevOptionsIsRefused() throws {
        let device = try SimDevice()
        let s = try sim(device)
        #expect(s.first.isEmpty)
        #expect(s.waitStatus() == 2)
        // Nothing is left behind: the next start is a first start.
        #expect(!FileManager.default.fileExists(atPath: device.image))
        #expect(!FileManager.default.fileExists(atPath: device.secretPath))
        let dev = try device.start()
        #expect(kind(dev.first) == "lock")
        #expect(kind(try dev.event("pin", ["value": SimDevice.pin])) == "home")
        #expect(dev.finish() == 0)
    }
}
