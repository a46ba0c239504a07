import Foundation
import HavenDevice
import HavenHost

/// What a study team makes on its laptop: keys and a signed config bundle
/// (dv_module with the savings decoy), with a cheap Argon2id (tests are
/// not about KDF cost). The quick-exit button is code 114 (KEY_VOLUMEDOWN),
/// 3 presses within 1.5 s.
struct SignedConfig {
    static let pin = "2468"
    let identity = AgeIdentity.generate()
    let signer = ProvisioningKey.generate()
    let bundle: [UInt8]

    /// Compiles the fixtures' instruments into `dir` and builds the bundle for `board`.
    init(dir: String, board: BoardProfile) throws {
        for name in ["dv_module", "decoy_savings"] {
            let xml = try Data(contentsOf: URL(fileURLWithPath: packageRoot + "/Tests/Fixtures/forms/\(name).xml"))
            try Data(try FormCompiler.compile(xml: xml, sourceName: name, limits: CompileLimits(repeatCapacity: 50)))
                .write(to: URL(fileURLWithPath: dir + "/" + name + ".instrument"))
        }
        let json = """
            {"version": 1, "board": "\(board.name)", "devices": [{"name": "test tablet"}],
             "instrument": "dv_module.instrument", "decoy": "decoy_savings.instrument",
             "recipients": ["\(identity.recipient.encoded)"],
             "pins": {"enumerator": ["\(Self.pin)"], "duress": "1357"},
             "lock": {"maxFailures": 10, "backoffSeconds": [0], "showAttemptsLeft": false, "autoLockSeconds": 600},
             "quickExit": {"action": "hide", "onScreenControl": true,
                           "button": {"code": 114, "presses": 3, "withinMilliseconds": 1500}, "chord": [], "decoyScreensIn": 2},
             "checkpointEveryAnswers": 1}
            """
        bundle = try ConfigBuilder.build(try ConfigFile.decode(Data(json.utf8)), baseDirectory: URL(fileURLWithPath: dir),
                                         key: signer, kdf: KDFCost(iterations: 1, memoryKiB: 8), board: board).bundle
    }
}
