// Provisioner: one signed config bundle onto one device, entered in the ledger.

import Foundation
import HavenCore
import HavenSodium

/// Authenticates with the provisioning key (pinning it on a new device),
/// sets the device's clock from the host's, sends the bundle in chunks and
/// records the outcome in the ledger, refusals included (a refused config
/// is part of the chain of custody too).
public struct Provisioner: Sendable {
    public struct Outcome: Sendable {
        public var device: String
        public var installedVersion: UInt64
        public var previousVersion: UInt64
        public var wasProvisioned: Bool
    }

    public let bundle: [UInt8]
    public let keyPair: Sodium.Ed25519KeyPair
    public let ledger: Ledger?
    public let operatorName: String

    public init(bundle: [UInt8], keyPair: Sodium.Ed25519KeyPair, ledger: Ledger?, operatorName: String) {
        self.bundle = bundle
        self.keyPair = keyPair
        self.ledger = ledger
        self.operatorName = operatorName
    }

    /// The version the bundle carries (read from its signed config).
    public var bundleVersion: UInt64? {
        bundle.withUnsafeBytes { raw in
            guard let split = try? ConfigBundle.split(raw), let config = try? DeviceConfig.decode(split.config) else {
                return nil
            }
            return config.version
        }
    }

    public func provision(client: LinkClient, progress: @escaping (Int, Int) -> Void = { _, _ in }) throws -> Outcome {
        let identity = try client.authenticate(keyPair: keyPair)
        let device = identity.deviceIDHex
        let hash = hex(Sodium.sha256(bundle))
        try client.setTime(LinkCivilTime.now())
        do {
            let version = try client.putConfig(bundle, progress: progress)
            try ledger?.recordProvision(device: device, deviceName: nil, operatorName: operatorName,
                                        configVersion: version, sha256: hash, result: "installed")
            return Outcome(device: device, installedVersion: version, previousVersion: identity.configVersion,
                           wasProvisioned: identity.isProvisioned)
        } catch {
            try? ledger?.recordProvision(device: device, deviceName: nil, operatorName: operatorName,
                                         configVersion: bundleVersion ?? 0, sha256: hash, result: "refused: \(error)")
            throw error
        }
    }
}

extension LinkCivilTime {
    /// The host's local time now.
    public static func now(_ date: Date = Date()) -> LinkCivilTime {
        let calendar = Calendar.current
        let c = calendar.dateComponents(in: TimeZone.current, from: date)
        return LinkCivilTime(year: UInt16(c.year ?? 1970), month: UInt8(c.month ?? 1), day: UInt8(c.day ?? 1),
                             hour: UInt8(c.hour ?? 0), minute: UInt8(c.minute ?? 0), second: UInt8(c.second ?? 0),
                             utcOffsetMinutes: Int16(TimeZone.current.secondsFromGMT(for: date) / 60))
    }
}
