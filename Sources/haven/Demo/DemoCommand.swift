import ArgumentParser
import Foundation
import HavenCore
import HavenDevice
import HavenHost

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the whole job end to end on a simulated tablet, and say what happened.",
        discussion: """
            In a folder of its own (default ./haven-demo) the demo creates research-team and \
            provisioning keys, compiles a short domestic-violence module (English and \
            Kinyarwanda) and a household-savings decoy, builds and signs a config, starts \
            haven-sim, provisions it over the link, runs an interview that is interrupted by \
            quick exit and then resumed with the PIN and finalized, pulls the sealed record, \
            and exports it to CSV with the research team's identity.

            Every run starts clean: the files of an earlier demo run in the folder are \
            removed first (a folder that holds anything else is refused).

            Example:
              haven demo
              haven demo --dir /tmp/haven-demo
            """
    )

    @Option(help: "Folder for the demo's files (created; emptied of an earlier demo run).")
    var dir: String = "haven-demo"

    static let marker = ".haven-demo"
    static let pin = "246810"
    static let duressPIN = "135790"

    func run() throws {
        let folder = URL(fileURLWithPath: dir).standardizedFileURL
        print("Haven demo: the whole job on a simulated tablet, in \(folder.path)")
        do {
            try Self.prepare(folder)
            var demo = DemoRun(folder: folder, story: DemoStory())
            try demo.run()
        } catch {
            DemoStory().fail("\(error)")
            throw ExitCode(1)
        }
    }

    /// A fresh folder, or one an earlier demo made (its files are removed).
    static func prepare(_ folder: URL) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: folder.path) {
            let contents = try fm.contentsOfDirectory(atPath: folder.path)
            if !contents.isEmpty && !contents.contains(marker) {
                throw DemoFailure("\(folder.path) holds other files; give the demo an empty or new folder with --dir")
            }
            for name in contents { try fm.removeItem(at: folder.appendingPathComponent(name)) }
        }
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("made by haven demo; the next run empties this folder\n".utf8)
            .write(to: folder.appendingPathComponent(marker))
    }
}

/// The demo's printed account: numbered steps, indented details.
struct DemoStory {
    private var step = 0
    mutating func begin(_ title: String) {
        step += 1
        print("\n\(step). \(title)")
    }
    func detail(_ text: String) { print("   " + text) }
    func fail(_ text: String) {
        FileHandle.standardError.write(Data("\nhaven demo FAILED: \(text)\n".utf8))
    }
}
