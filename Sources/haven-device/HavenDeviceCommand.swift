// haven-device: the Haven runtime on a Linux tablet, serving the link over
// USB FunctionFS (Hardware/gadget/haven-gadget.sh starts it).

import ArgumentParser
import Glibc
import HavenCore
import HavenDevice
import HavenSodium

/// `haven-device --image PATH --board NAME [--ffs DIR] [--headless]`: the
/// Haven core on a Linux board. `DeviceHost` on the board's flash (a file,
/// raw partition or MTD block device), the link server on FunctionFS
/// (`LinkServerPump`), buttons/keypad/touch from evdev (`EvdevKeyMap`), and
/// a screen: the kiosk text console (the simulator's terminal renderer, on
/// the tty systemd gives it) or, with `--headless`, the simulator's JSON
/// events on stdin and screen models on stdout (scripted use, the VM test).
/// Everything runs on one thread in one `EventLoop`.
///
/// `--echo` keeps the USB diagnostic (no link protocol, no device host).
@main
struct HavenDeviceCommand: ParsableCommand {
    /// What identify reports as the firmware version.
    static let firmwareVersion = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "haven-device",
        abstract: "Run a Haven device on a Linux board (USB link over FunctionFS).",
        discussion: """
            Started by haven-device.service (Hardware/systemd) after Hardware/gadget/haven-gadget.sh \
            mounted FunctionFS; the gadget binds to the USB controller once this program has \
            written its descriptors. The flash is --image, else the board profile's linux.flash; \
            the device secret is --secret, else linux.secret, else <image>.secret. Without \
            --headless the terminal on stdin/stdout is the screen (the kiosk console).
            """
    )

    @Option(help: "Directory where the FunctionFS instance is mounted.")
    var ffs: String = "/dev/ffs-haven"

    @Option(help: "The flash: an image file (created erased on first use) or a raw partition/MTD block device (default: the board profile's linux.flash).")
    var image: String?

    @Option(help: "Board profile name from Hardware/boards.")
    var board: String = "ref-tablet-a7"

    @Option(help: "Folder holding Hardware/boards (default: found from the current directory, the executable or $HAVEN_HARDWARE).")
    var hardware: String?

    @Option(help: "The device secret file (default: the board profile's linux.secret, else <image>.secret).")
    var secret: String?

    @Option(help: "An evdev input device (repeatable; default: the board profile's linux.input).")
    var input: [String] = []

    @Flag(help: "JSON events on stdin, screen models on stdout (Docs/simulator.md §3-4).")
    var headless = false

    @Flag(help: "First start on a block device: erase it and make a new device secret.")
    var initialize = false

    @Flag(help: "Print the device id (32 hex digits, for the USB serial number) and exit; makes the image and secret on a first start.")
    var printDeviceId = false

    @Flag(help: "Send every received byte back (USB diagnostic; no link protocol).")
    var echo = false

    @Option(help: .hidden)
    var linkDelayMs: UInt32 = 0

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
        if echo {
            try serveEcho()
            return
        }
        try serveDevice()
    }

    /// The device: host, link, input, screen, one event loop.
    private func serveDevice() throws {
        let host: DeviceHost
        let profile: BoardProfile
        do {
            profile = try BoardProfile.load(named: board, hardwareDirectory: hardware)
            guard let path = image ?? profile.linux?.flash else {
                throw ValidationError("no flash: pass --image or set linux.flash in the board profile \(board)")
            }
            let deviceImage = try DeviceImage(path: path, board: profile,
                                              secretPath: secret ?? profile.linux?.secret, initialize: initialize)
            if printDeviceId {
                let id = DeviceIdentity<Sodium>.hex(DeviceIdentity<Sodium>.deviceID(secret: deviceImage.secret.used))
                print(String(decoding: id, as: UTF8.self))
                return
            }
            host = try DeviceHost(image: deviceImage)
        } catch let error as ValidationError {
            throw error
        } catch {
            printError("haven-device: \(error)")
            throw ExitCode(2)
        }
        signal(SIGPIPE, SIG_IGN)
        let loop = EventLoop()
        var refresh: () -> Void = {}

        // USB: the link server on FunctionFS.
        let transport: FunctionFSEndpointTransport
        do {
            transport = try FunctionFSEndpointTransport(paths: FunctionFSPaths(directory: ffs, descriptors: .haven), descriptors: .haven)
        } catch {
            printError("haven-device: \(error.description)")
            throw ExitCode(2)
        }
        let pump = LinkServerPump(host: host, firmwareVersion: "haven-device " + Self.firmwareVersion)
        pump.responseDelayMilliseconds = linkDelayMs
        let usb = USBLink(transport: transport, pump: pump, loop: loop) { printError("haven-device: " + $0) }
        printError("haven-device: \(profile.name), device \(String(decoding: host.deviceIDHex, as: UTF8.self)), "
            + (host.isProvisioned ? "provisioned" : "not provisioned") + "; descriptors written to \(ffs)/ep0")

        // Input: evdev buttons, keypad, touch.
        let keyMap = EvdevKeyMap(buttons: profile.buttons)
        for name in keyMap.unknownNames { printError("haven-device: board button \(name) is not a known KEY_* name; ignored") }
        var readers: [EvdevReader] = []
        for path in input.isEmpty ? (profile.linux?.input ?? []) : input {
            do {
                let reader = try EvdevReader(path: path)
                readers.append(reader)
                loop.add(fd: reader.descriptor) { [unowned reader] _, _ in
                    let open = reader.readAvailable({ event in
                        for action in keyMap.actions(for: event) { action.apply(to: host) }
                    }, damaged: { printError("haven-device: \(reader.path): \($0)") })
                    if !open {
                        printError("haven-device: input device \(reader.path) went away")
                        loop.remove(fd: reader.descriptor)
                    }
                    refresh()
                }
            } catch {
                printError("haven-device: \(error)")  // a missing keypad must not stop the link
            }
        }

        // Screen.
        var terminal: TerminalUI?
        var scripted: Headless?  // kept: its loop handlers hold it unowned
        if headless {
            scripted = Headless(host: host, loop: loop)
            scripted?.start()
        } else {
            let ui = TerminalUI(host: host, loop: loop)
            guard ui.start() else {
                printError("haven-device: stdin is not a terminal (give the unit a TTYPath) or use --headless")
                throw ExitCode(2)
            }
            terminal = ui
            refresh = { [unowned ui] in ui.redraw() }
        }
        usb.changed = refresh

        StopSignal.install()
        let frontTimer = loop.onTimer
        loop.onTimer = {
            frontTimer()
            pump.idleCheck()
            if StopSignal.requested { loop.stop() }
        }
        loop.run()
        terminal?.stop()
        transport.close()
        withExtendedLifetime((readers, scripted, usb)) {}
    }

    /// The USB diagnostic: echo on FunctionFS until SIGTERM/SIGINT.
    private func serveEcho() throws {
        let transport: FunctionFSEndpointTransport
        do {
            transport = try FunctionFSEndpointTransport(paths: FunctionFSPaths(directory: ffs, descriptors: .haven), descriptors: .haven)
        } catch {
            throw ValidationError(error.description)
        }
        printError("haven-device: descriptors written to \(ffs)/ep0; waiting for the host")
        StopSignal.install()
        var loop = FunctionFSDeviceLoop(transport: transport, pump: EchoPump()) { printError("haven-device: " + $0) }
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
