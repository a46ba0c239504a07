import ArgumentParser

@main
struct HavenBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "haven-bench", abstract: "Haven benchmarks.")
}
