import HavenCore

/// Everything the runtime needs to know about what a device runs: the
/// safety policy and the two compiled instruments (Docs/instrument-format.md).
///
/// It is a value, not files: on a provisioned device it comes from the
/// installed signed config (the config install decides where it is read
/// from); during development from `DevProvisioning`. The runtime never
/// looks at either source.
public struct DeviceSetup: Sendable {
    public var policy: SafetyPolicy
    /// The real instrument's compiled bytes.
    public var instrument: [UInt8]
    /// The decoy instrument's compiled bytes.
    public var decoy: [UInt8]

    public init(policy: SafetyPolicy, instrument: [UInt8], decoy: [UInt8]) {
        self.policy = policy
        self.instrument = instrument
        self.decoy = decoy
    }

    /// The setup an installed signed config describes: its policy (with the
    /// duress verifier bound to this device) and its two instruments.
    public init(installed: InstalledConfig) {
        self.init(policy: installed.safetyPolicy, instrument: installed.config.instrument,
                  decoy: installed.config.decoy)
    }
}
