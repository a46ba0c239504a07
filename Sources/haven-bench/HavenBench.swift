import ArgumentParser

/// Benchmarks for Haven. One subcommand per area, one file per subcommand
/// (`StoreCommand.swift`, ...); `BenchSupport.swift` holds the shared timing,
/// statistics and table code. Results go in BENCHMARKS.md (`--markdown`).
@main
struct HavenBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "haven-bench",
        abstract: "Haven benchmarks.",
        discussion: """
            Each subcommand prints a table with the baseline measured in the same run, \
            and a Markdown section for BENCHMARKS.md with --markdown.
            """,
        subcommands: [
            StoreCommand.self,
            InterviewCommand.self,
            SafetyCommand.self,
            LinkCommand.self,
            PeersCommand.self,
            FuzzSeedsCommand.self,
        ],
        defaultSubcommand: StoreCommand.self
    )
}
