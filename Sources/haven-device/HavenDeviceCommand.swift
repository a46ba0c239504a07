// haven-device: the Haven runtime on a Linux tablet, serving the link over
// USB FunctionFS (Hardware/gadget/haven-gadget.sh starts it).

import ArgumentParser
import Glibc
import HavenDevice

/// `haven-device --ffs /dev/ffs-haven --echo`.
///
/// Today it runs the USB path with the echo pump (the kernel-path check in
/// Tools/vm). INTEGRATION POINT: add `--image` / `--board` (BoardProfile),
/// build the `DeviceHost` as haven-sim does, and serve the link server:
///
/// ```swift
/// final class LinkServerPump: DeviceLinkPump {          // wraps H2's LinkServer + backend on DeviceHost
///     func pump(_ received: UnsafeRawBufferPointer, send: ...) throws(FunctionFSError) {
///         // feed `received` to the server; for each response it produced: try send(response)
///     }
///     func reset() { /* server.reset(): drop partial frame, unauthenticate */ }
/// }
/// try serveUSB(pump: LinkServerPump(host: host))
/// ```
///
/// With an event loop that also waits on evdev buttons and screen timers
/// (haven-sim's `EventLoop.add(fd:)`), add `transport.controlDescriptor`
/// (→ `handleControlEvents()`) and `transport.dataDescriptor` (→
/// `receive(into:)`, server, `send`) instead of `FunctionFSDeviceLoop.run`,
/// and reset the server from `transport.connectionEvents`.
@main
struct HavenDeviceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "haven-device",
        abstract: "Run a Haven device on a Linux board (USB link over FunctionFS).",
        discussion: """
            Started by haven-device.service (Hardware/systemd) after Hardware/gadget/haven-gadget.sh \
            mounted FunctionFS; the gadget binds to the USB controller once this program has \
            written its descriptors.
            """
    )

    @Option(help: "Directory where the FunctionFS instance is mounted.")
    var ffs: String = "/dev/ffs-haven"

    @Flag(help: "Send every received byte back (USB diagnostic; no link protocol).")
    var echo = false

    @Flag(help: .hidden)
    var checkHardening = false

    @Flag(help: "Do not lock memory (development only: keys may reach swap).")
    var noMemoryLock = false

    func run() throws {
        let report = ProcessHardening.apply(lockMemory: !noMemoryLock)
        for warning in report.warnings { printError("haven-device: " + warning) }
        if checkHardening {
            let core = ProcessHardening.coreLimit()
            print("core-limit \(core.soft) \(core.hard)")
            print("dumpable \(ProcessHardening.dumpable().map { String($0) } ?? "?")")
            print("memory-locked \(report.memoryLocked) VmLck \(ProcessHardening.lockedKiB().map { String($0) } ?? "?") kB")
            return
        }
        guard echo else {
            throw ValidationError(
                "the link server is not wired into haven-device yet: only --echo (USB diagnostic) runs")
        }
        try serveUSB(pump: EchoPump())
    }

    /// Opens FunctionFS at `ffs` and serves `pump` until SIGTERM/SIGINT.
    private func serveUSB<Pump: DeviceLinkPump>(pump: Pump) throws {
        let transport: FunctionFSEndpointTransport
        do {
            transport = try FunctionFSEndpointTransport(paths: FunctionFSPaths(directory: ffs, descriptors: .haven), descriptors: .haven)
        } catch {
            throw ValidationError(error.description)
        }
        printError("haven-device: descriptors written to \(ffs)/ep0; waiting for the host")
        StopSignal.install()
        var loop = FunctionFSDeviceLoop(transport: transport, pump: pump) { printError("haven-device: " + $0) }
        do {
            try loop.run { StopSignal.requested }
        } catch {
            transport.close()
            throw ValidationError(error.description)
        }
        transport.close()
    }
}

private func printError(_ text: String) {
    let line = Array((text + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// SIGTERM/SIGINT ask the loop to stop (it checks every 250 ms), so the
/// endpoints are closed cleanly and the gadget script can unbind.
enum StopSignal {
    nonisolated(unsafe) static var flag: sig_atomic_t = 0

    static var requested: Bool { flag != 0 }

    static func install() {
        for signalNumber in [SIGTERM, SIGINT] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in StopSignal.flag = 1 }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(signalNumber, &action, nil)
        }
    }
}
