import ArgumentParser

@main
struct HavenSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "haven-sim",
        abstract: "Runs the Haven core on a file-backed flash image."
    )
}
