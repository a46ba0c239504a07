import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The repository root (this file is Tests/HavenHostTests/USBTestSupport.swift).
let usbRepositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The `haven` executable built next to this test bundle.
func builtHavenExecutable() throws -> String {
    let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    var directory = URL(fileURLWithPath: me).deletingLastPathComponent()
    // swift test runs .build/<config>/HavenPackageTests.xctest (a file on Linux).
    if directory.lastPathComponent.hasSuffix(".xctest") { directory = directory.deletingLastPathComponent() }
    let path = directory.appendingPathComponent("haven").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw USBHarnessProblem("no built `haven` at \(path); run `swift build --build-tests` first")
    }
    return path
}

struct USBHarnessProblem: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Fails (never skips) when the umockdev harness cannot run, saying how to
/// install it.
func requireUmockdev() throws {
    let wrapper = FileManager.default.isExecutableFile(atPath: "/usr/bin/umockdev-wrapper")
    let gi = try runTool(
        "/usr/bin/python3", ["-c", "import gi; gi.require_version('UMockdev', '1.0')"])
    guard wrapper, gi.status == 0 else {
        throw USBHarnessProblem(
            "the USB tests need umockdev: run Tools/setup (installs umockdev gir1.2-umockdev-1.0 python3-gi usbutils)")
    }
}

/// The result of `haven usb-probe` under the emulated device.
struct USBHarnessRun {
    let status: Int32
    let stdout: String
    let stderr: String
    /// The device's counters (Tools/umockdev/haven-usb-device.py --stats).
    let stats: [String: Any]

    func count(_ key: String) -> Int { (stats[key] as? NSNumber)?.intValue ?? -1 }
    var unplugged: Bool { (stats["unplugged"] as? Bool) ?? false }
}

/// Runs `haven usb-probe PROBE...` with the emulated Haven device attached
/// (Tools/umockdev/run-with-device DEVICE... -- haven usb-probe PROBE...).
func runUnderUSBDevice(_ device: [String], probe: [String]) throws -> USBHarnessRun {
    try requireUmockdev()
    let haven = try builtHavenExecutable()
    let scratch = try TempDir()
    let statsPath = scratch.path("stats.json")
    let result = try runTool(
        usbRepositoryRoot + "/Tools/umockdev/run-with-device",
        device + ["--stats", statsPath, "--", haven, "usb-probe"] + probe)
    var stats: [String: Any] = [:]
    if let data = FileManager.default.contents(atPath: statsPath),
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    {
        stats = object
    }
    return USBHarnessRun(
        status: result.status, stdout: String(decoding: result.stdout, as: UTF8.self), stderr: result.stderr,
        stats: stats)
}

/// A Unix stream socket server on its own thread: the far end of the
/// emulated device's bulk endpoints. `.echo` sends every byte back,
/// `.sink` reads and never answers, `.closeAfter(n)` echoes n bytes and
/// then hangs up (a simulator that stops), `.stall` never reads (a device
/// that stopped taking data).
final class UnixSocketServer: @unchecked Sendable {
    enum Behaviour: Sendable {
        case echo
        case sink
        case closeAfter(Int)
        case stall
    }

    let path: String
    private let listener: Int32
    private let behaviour: Behaviour
    private let lock = NSLock()
    private var received = 0
    private var connections: [Int32] = []
    private var stopped = false

    /// Bytes the server has read from all its clients.
    var bytesReceived: Int { lock.withLock { received } }

    init(_ behaviour: Behaviour = .echo) throws {
        self.behaviour = behaviour
        path = "/tmp/haven-usb-\(UUID().uuidString.prefix(8)).sock"
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw USBHarnessProblem("socket: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(listener, 4) == 0 else {
            Glibc.close(listener)
            throw USBHarnessProblem("bind/listen \(path): errno \(errno)")
        }
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit {
        lock.withLock { stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
        lock.withLock { for connection in connections { shutdown(connection, Int32(SHUT_RDWR)) } }
        unlink(path)
    }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return
            }
            lock.withLock { connections.append(connection) }
            let thread = Thread { [self] in serve(connection) }
            thread.start()
        }
    }

    private func serve(_ connection: Int32) {
        defer { Glibc.close(connection) }
        if case .stall = behaviour {
            while !lock.withLock({ stopped }) { usleep(10_000) }
            return
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var served = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return }
            lock.withLock { received += count }
            var answer = count
            switch behaviour {
            case .echo: break
            case .sink: answer = 0
            case .closeAfter(let limit): answer = min(count, limit - served)
            case .stall: answer = 0
            }
            var sent = 0
            while sent < answer {
                let wrote = buffer.withUnsafeBytes {
                    send(connection, $0.baseAddress! + sent, answer - sent, Int32(MSG_NOSIGNAL))
                }
                if wrote <= 0 { return }
                sent += wrote
            }
            served += answer
            if case .closeAfter(let limit) = behaviour, served >= limit {
                shutdown(connection, Int32(SHUT_RDWR))
                return
            }
        }
    }
}
