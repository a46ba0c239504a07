import Foundation

/// Where the demo finds what it ships with: the sample forms (the project's
/// fixtures, written as XLSForms and converted by pyxform) and the
/// simulator binary next to `haven`.
enum DemoFiles {
    static var executableDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    }

    /// `Tests/Fixtures/forms` of the checkout this `haven` was built from
    /// (or of the current directory's checkout).
    static func formsDirectory() throws -> URL {
        for start in [URL(fileURLWithPath: FileManager.default.currentDirectoryPath), executableDirectory] {
            var dir = start.standardizedFileURL
            while true {
                let candidate = dir.appendingPathComponent("Tests/Fixtures/forms")
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("dv_module.xml").path) {
                    return candidate
                }
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        throw DemoFailure("cannot find the demo forms (Tests/Fixtures/forms of the Haven checkout); run haven demo from the checkout")
    }

    static func simulator() throws -> String {
        let sibling = executableDirectory.appendingPathComponent("haven-sim").path
        if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let p = String(dir) + "/haven-sim"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        throw DemoFailure("cannot find haven-sim next to haven or on PATH (build it: swift build --product haven-sim)")
    }
}

struct DemoFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
