import ArgumentParser
import Foundation
import HavenHost

struct Provision: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a signed config bundle to one or all attached devices, in parallel.",
        discussion: """
            Authenticates to each device with the provisioning key (a new device pins it), \
            sets its clock from this computer's, sends the bundle and waits for the device \
            to verify and install it. A device refuses a bundle that is not signed by its \
            pinned key or not newer than its config, and keeps working on the old one. \
            Every attempt is entered in the ledger.

            Examples:
              haven provision site-a.havencfg --key keys/provisioning.key
              haven provision site-a.havencfg --key keys/provisioning.key --device usb:HVN-0a1b2c3d4e5f
            """
    )

    @Argument(help: "The config bundle (from `haven config build`).")
    var bundle: String

    @Option(help: "The provisioning key file (from `haven keygen`).")
    var key: String

    @OptionGroup var selection: DeviceSelection
    @OptionGroup var ledgerOptions: LedgerOptions

    func run() throws {
        guard let data = FileManager.default.contents(atPath: bundle) else {
            throw CommandFailure("cannot read the bundle '\(bundle)'")
        }
        let signer = try ProvisioningKeyFile.load(key)
        let ledger = try ledgerOptions.open()
        let provisioner = Provisioner(bundle: [UInt8](data), keyPair: signer.keyPair, ledger: ledger,
                                      operatorName: ledgerOptions.resolvedOperator)
        guard let version = provisioner.bundleVersion else {
            throw CommandFailure("\(bundle) is not a config bundle (build one with `haven config build`)")
        }
        let addresses = try selection.addresses()
        let timeout = selection.timeout
        let lines = ProgressLines(names: addresses.map(\.description))
        let results = forEachDevice(addresses) { address -> (String, String, Bool) in
            let i = addresses.firstIndex(of: address)!
            do {
                let client = LinkClient(transport: try address.open(), timeoutMilliseconds: timeout)
                defer { client.close() }
                let outcome = try provisioner.provision(client: client) { sent, total in
                    lines.update(i, "sending \(bar(sent, total)) \(sent / 1024)/\(total / 1024) KiB")
                }
                let what = outcome.wasProvisioned ? "v\(outcome.previousVersion) → v\(outcome.installedVersion)"
                    : "new device, v\(outcome.installedVersion) installed, key pinned"
                lines.update(i, "installed (\(what))", final: true)
                return (outcome.device, what, true)
            } catch {
                lines.update(i, "FAILED: \(error)", final: true)
                return ("-", "\(error)", false)
            }
        }
        print("")
        var table = [["device", "id", "result"]]
        for (address, r) in zip(addresses, results) {
            table.append([address.description, String(r.0.prefix(12)), (r.2 ? "ok: " : "refused: ") + r.1])
        }
        print(TextTable.render(table))
        let ok = results.filter(\.2).count
        print("config v\(version): \(ok) of \(results.count) device\(results.count == 1 ? "" : "s") provisioned; ledger \(LedgerLocation.path(ledgerOptions.ledger))")
        if ok != results.count { throw ExitCode(1) }
    }
}
