import ArgumentParser
import HavenCore
import HavenDevice

/// TEMPORARY: the development set-up (see `DevProvisioning`), removed when
/// the signed config is installed over the link.
struct DevOptions: ParsableArguments {
    @Option(name: .customLong("dev-pin"), help: "PIN of the store formatted on a new image.")
    var pin: String?

    @Option(name: .customLong("dev-duress-pin"), help: "Duress PIN.")
    var duressPIN: String?

    @Option(name: .customLong("instrument"), help: "Compiled real instrument (haven compile).")
    var instrument: String?

    @Option(name: .customLong("decoy"), help: "Compiled decoy instrument.")
    var decoy: String?

    @Option(name: .customLong("recipient"), help: "Research team's age recipient (age1…); repeatable.")
    var recipients: [String] = []

    @Option(name: .customLong("dev-quick-exit"), help: "Quick-exit action: hide, lock or wipe.")
    var action: String = "hide"

    @Option(name: .customLong("dev-auto-lock-ms"), help: "Auto-lock after this much inactivity (0: never).")
    var autoLock: UInt64 = 120_000

    @Option(name: .customLong("dev-checkpoint-every"), help: "Checkpoint every K answers.")
    var checkpointEvery: Int = 5

    @Option(name: .customLong("dev-max-failures"), help: "Wipe after N wrong PINs (0: never).")
    var maxFailures: UInt32 = 10

    @Option(name: .customLong("dev-kdf-iterations"), help: "Argon2id iterations (default: the board's).")
    var kdfIterations: UInt32?

    @Option(name: .customLong("dev-kdf-memory-kib"), help: "Argon2id memory in KiB (default: the board's).")
    var kdfMemory: UInt32?

    func provisioning() throws -> DevProvisioning {
        guard let pin, let instrument, let decoy else {
            throw ValidationError("until config install exists, --dev-pin, --instrument, --decoy and --recipient are required")
        }
        var p = DevProvisioning(pin: pin, instrumentPath: instrument, decoyPath: decoy, recipients: recipients)
        p.duressPIN = duressPIN
        switch action {
        case "hide": p.quickExitAction = .hide
        case "lock": p.quickExitAction = .lock
        case "wipe": p.quickExitAction = .wipe
        default: throw ValidationError("--dev-quick-exit must be hide, lock or wipe")
        }
        p.autoLockMilliseconds = autoLock
        p.checkpointEveryAnswers = checkpointEvery
        p.maxFailures = maxFailures
        p.kdfIterations = kdfIterations
        p.kdfMemoryKiB = kdfMemory
        return p
    }
}
