import ArgumentParser
import HavenHost

@main
struct Haven: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "haven",
        abstract: "Host tool for Haven field devices: compile, provision, pull, export.",
        version: HavenHost.version,
        subcommands: [Demo.self, Keygen.self, Compile.self, ConfigCommand.self, Devices.self, Provision.self, Pull.self, Export.self, LedgerCommand.self, USBProbe.self]
    )
}
