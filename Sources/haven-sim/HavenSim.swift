import ArgumentParser
import Glibc
import HavenCore
import HavenDevice

@main
struct HavenSim: ParsableCommand {
    /// What identify reports as the firmware version.
    static let firmwareVersion = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "haven-sim",
        abstract: "Runs the Haven core as a field device on a file-backed flash image.",
        discussion: """
            The image persists: a restart is a reboot. Without --headless the terminal \
            becomes the tablet's screen (keys in Docs/simulator.md); with --headless, input \
            events are JSON lines on stdin and a screen model JSON line is printed after each.

            Until the signed config can be installed over the link, the device is set up \
            from the --dev-* options (a new image is formatted for --dev-pin).
            """
    )

    @Option(help: "The flash image (created, erased, on first use; <image>.secret beside it).")
    var image: String

    @Option(help: "Board profile name from Hardware/boards.")
    var board: String = "sim"

    @Option(help: "Folder holding Hardware/boards (default: found from the current directory or $HAVEN_HARDWARE).")
    var hardware: String?

    @Option(help: "Unix socket standing in for USB (the link protocol plugs in here).")
    var socket: String?

    @Flag(help: "JSON events on stdin, screen models on stdout.")
    var headless = false

    @Option(help: "Cut the power at the Nth flash program or erase: tear it and exit with status 99.")
    var powerCutAfter: Int?

    @Flag(help: "Accept {\"type\":\"debug-scan\"} (scans this process's memory; off by default).")
    var debugMemoryScan = false

    @OptionGroup var dev: DevOptions

    mutating func run() throws {
        if let n = powerCutAfter, n < 1 { throw ValidationError("--power-cut-after must be at least 1") }
        let host: DeviceHost
        var opened: DeviceImage?
        do {
            let profile = try BoardProfile.load(named: board, hardwareDirectory: hardware)
            let deviceImage = try DeviceImage(path: image, board: profile, powerCutAt: powerCutAfter)
            opened = deviceImage
            host = try DeviceHost(image: deviceImage, setup: try devSetup(deviceImage))
        } catch {
            // A device made by this start that could not be set up holds
            // nothing: remove it, so the next start is a first start again
            // (otherwise a typo in an option would leave a blank image that
            // is never formatted).
            if let made = opened, made.isNew {
                unlink(made.path)
                unlink(made.path + ".secret")
            }
            if error is ValidationError { throw error }
            FileHandleStderr.write("haven-sim: \(error)\n")
            throw ExitCode(2)
        }
        host.allowsMemoryScan = debugMemoryScan
        signal(SIGPIPE, SIG_IGN)
        let loop = EventLoop()
        LinkHook.attach(socketPath: socket, host: host, loop: loop)
        if headless {
            let h = Headless(host: host, loop: loop)
            h.start()
            loop.run()
        } else {
            let ui = TerminalUI(host: host, loop: loop)
            guard ui.start() else {
                FileHandleStderr.write("haven-sim: stdin is not a terminal; use --headless for pipes\n")
                throw ExitCode(2)
            }
            loop.run()
            ui.stop()
        }
    }
}

extension HavenSim {
    /// TEMPORARY: the development set-up from the --dev-* options, used
    /// only while no signed config is installed (DevProvisioning formats a
    /// new image for the PIN). nil: boot on the installed config, or
    /// unprovisioned (the device id on screen, waiting for a config over
    /// the link: `DeviceHost.installConfig`).
    func devSetup(_ image: DeviceImage) throws -> DeviceSetup? {
        guard dev.pin != nil else { return nil }
        if let installed = try image.installedConfig() {
            FileHandleStderr.write("haven-sim: a config is installed (version \(installed.version)); --dev-* ignored\n")
            return nil
        }
        let provisioning = try dev.provisioning()
        let setup = try provisioning.setup(for: image)
        try provisioning.formatIfNew(image)
        return setup
    }
}

enum FileHandleStderr {
    static func write(_ text: String) {
        var t = text
        t.withUTF8 { writeAll(2, UnsafeRawBufferPointer($0)) }
    }
}
