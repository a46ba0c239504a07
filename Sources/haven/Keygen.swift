import ArgumentParser
import Foundation
import HavenHost

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the research team's age identity and the provisioning signing key.",
        discussion: """
            Writes, in --out (default: the current folder):
              research.agekey        the research team's age identity (AGE-SECRET-KEY-1…), mode 0600;
                                     opens every record: keep it at headquarters, never on a pull station
              research.agekey.pub    its public recipient (age1…): put it under "recipients" in the config file
              provisioning.key       the Ed25519 provisioning key, mode 0600: signs configs, authenticates to devices
              provisioning.key.pub   its public half

            The identity file is the one `age-keygen` writes, so `age -d -i research.agekey` opens records too.
            Existing files are never replaced unless --force is given.

            Examples:
              haven keygen --out keys/
              haven keygen --only provisioning --out field-office/
            """
    )

    enum Which: String, ExpressibleByArgument, CaseIterable {
        case both, age, provisioning
    }

    @Option(name: .shortAndLong, help: "Folder to write the key files into.")
    var out: String = "."

    @Option(help: "Which keys to create: both, age, provisioning.")
    var only: Which = .both

    @Flag(help: "Replace existing key files.")
    var force = false

    func run() throws {
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: out, isDirectory: &isDir) {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } else if !isDir.boolValue {
            throw CommandFailure("'\(out)' is not a folder")
        }
        let dir = URL(fileURLWithPath: out)
        do {
            if only != .provisioning {
                let identity = AgeIdentity.generate()
                let path = dir.appendingPathComponent("research.agekey").path
                try KeyFiles.writeSecret(KeyFiles.ageIdentityFileText(identity), to: path, overwrite: force)
                try KeyFiles.writePublic(identity.recipient.encoded + "\n", to: path + ".pub", overwrite: force)
                print("age identity      \(path) (0600)")
                print("  recipient       \(identity.recipient.encoded)")
            }
            if only != .age {
                let key = ProvisioningKey.generate()
                let path = dir.appendingPathComponent("provisioning.key").path
                try KeyFiles.writeSecret(key.secretFileText, to: path, overwrite: force)
                try KeyFiles.writePublic(key.publicFileText, to: path + ".pub", overwrite: force)
                print("provisioning key  \(path) (0600)")
                print("  public          \(key.publicFileText.trimmingCharacters(in: .newlines))")
            }
        } catch let error as ConfigBuildError {
            throw CommandFailure(error.description)
        }
    }
}
