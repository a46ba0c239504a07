import Foundation

/// A `haven-sim --headless` child process driven like the demo's "hands":
/// one JSON event line in, one screen-model line out (Docs/simulator.md §4).
/// Terminated (and its socket removed) on `stop()` and on deinit, so a
/// failing demo leaves no simulator behind.
final class SimulatorProcess {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffer: [UInt8] = []
    let socketPath: String

    init(executable: String, image: String, socket: String, board: String = "sim", stderrFile: String) throws {
        socketPath = socket
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--image", image, "--board", board, "--headless", "--socket", socket]
        process.standardInput = input
        process.standardOutput = output
        FileManager.default.createFile(atPath: stderrFile, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: stderrFile)
        try process.run()
    }

    /// The model printed at start-up.
    func firstScreen() throws -> [String: Any] { try readModel() }

    /// Sends one event and returns the screen model it produced.
    @discardableResult
    func send(_ event: [String: Any]) throws -> [String: Any] {
        let data = try JSONSerialization.data(withJSONObject: event) + Data("\n".utf8)
        try input.fileHandleForWriting.write(contentsOf: data)
        return try readModel()
    }

    /// Waits until the socket accepts connections (the simulator is up).
    func waitForSocket(timeout: TimeInterval = 10) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !FileManager.default.fileExists(atPath: socketPath) {
            guard process.isRunning, Date() < deadline else {
                throw DemoFailure("the simulator did not open its socket \(socketPath)")
            }
            usleep(20_000)
        }
    }

    private func readModel() throws -> [String: Any] {
        let fd = output.fileHandleForReading.fileDescriptor
        while true {
            if let nl = buffer.firstIndex(of: 10) {
                let line = Array(buffer[..<nl])
                buffer.removeSubrange(...nl)
                guard let model = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                    throw DemoFailure("the simulator printed something that is not a screen model")
                }
                return model
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = read(fd, &chunk, chunk.count)
            guard n > 0 else { throw DemoFailure("the simulator stopped (exit status \(process.isRunning ? -1 : process.terminationStatus))") }
            buffer += chunk[..<n]
        }
    }

    /// Power off: end of input is a clean exit for a headless simulator.
    func stop() {
        guard process.isRunning else { return }
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate(); process.waitUntilExit() }
    }

    deinit { stop() }
}
