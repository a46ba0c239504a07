import ArgumentParser
import Foundation
import HavenDevice
import HavenHost

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Build signed device configs.",
        subcommands: [Build.self]
    )

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a signed config bundle from a readable config file.",
            discussion: """
                The config file (JSON, see Docs/config-format.md §7 and Tests/Fixtures/config/field-config.json) names \
                the instruments (compiled .instrument files, or XForm .xml compiled on the fly), the \
                research team's age recipients, the enumerator and duress PINs, quick exit, lock and \
                wipe policy and a version that must grow with every config sent to a device.

                It holds the PINs in clear and the bundle holds Argon2id outputs of them: both are \
                secrets. Keep them with the provisioning key.

                Example:
                  haven keygen --out keys/
                  haven config build field-config.json --key keys/provisioning.key -o site-a.havencfg
                """
        )

        @Argument(help: "The config file (JSON).")
        var config: String

        @Option(help: "The provisioning key file (from `haven keygen`).")
        var key: String

        @Option(name: .shortAndLong, help: "Where to write the bundle (default: CONFIG with .havencfg).")
        var output: String?

        @Option(help: "Board profile (Argon2id cost, flash size); default: the file's \"board\", else sim.")
        var board: String?

        @Option(help: "Folder holding Hardware/boards (default: found from the current directory or $HAVEN_HARDWARE).")
        var hardware: String?

        func run() throws {
            guard let keyText = try? String(contentsOfFile: key, encoding: .utf8) else {
                throw CommandFailure("cannot read the provisioning key '\(key)': no such file or not readable")
            }
            guard let data = FileManager.default.contents(atPath: config) else {
                throw CommandFailure("cannot read '\(config)': no such file or not readable")
            }
            do {
                let signer = try ProvisioningKey(parsingSecretFile: keyText)
                let file = try ConfigFile.decode(data)
                let profile: BoardProfile
                do {
                    profile = try BoardProfile.load(named: board ?? file.board ?? "sim", hardwareDirectory: hardware)
                } catch {
                    throw CommandFailure("\(error)")
                }
                let base = URL(fileURLWithPath: config).deletingLastPathComponent()
                let built = try ConfigBuilder.build(file, baseDirectory: base, key: signer, kdf: KDFCost(board: profile),
                                                    board: profile)
                let destination = output ?? URL(fileURLWithPath: config).deletingPathExtension()
                    .appendingPathExtension("havencfg").path
                try KeyFiles.writeSecret(bytes: built.bundle, to: destination, overwrite: true)
                print("config version \(built.config.version) → \(destination) (\(built.bundle.count) bytes, "
                      + "\(built.config.policy.recipientCount) recipient(s), \(file.pins.enumerator.count) PIN(s)"
                      + "\(file.pins.duress == nil ? "" : " + duress"), board \(profile.name))")
            } catch let error as ConfigBuildError {
                throw CommandFailure(error.description)
            }
        }
    }
}
