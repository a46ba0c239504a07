import ArgumentParser
import HavenHost

/// `haven usb-probe`: a hidden diagnostic of the raw USB path, below the
/// link protocol. Lists the attached Haven devices and, with
/// `--echo-bytes N`, writes N bytes to the first (or `--serial`) device and
/// reads N bytes back, expecting them unchanged: against a device (or the
/// umockdev harness in Tools/umockdev) whose bulk endpoints loop back, it
/// checks libusb, permissions, packet sizes and zero-length packets without
/// any protocol on top. The tests in Tests/HavenHostTests/USB*.swift use it.
struct USBProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usb-probe",
        abstract: "List Haven USB devices; optionally loop bytes through one (diagnostic).",
        discussion: """
            Example (with the umockdev harness and a loopback socket server):
              Tools/umockdev/run-with-device --socket /tmp/echo.sock -- haven usb-probe --echo-bytes 4096
            """,
        shouldDisplay: false
    )

    @Option(help: "Bytes to write and expect back (0: only list).")
    var echoBytes: Int = 0

    @Option(help: "Serial number of the device to use (default: the only one attached).")
    var serial: String?

    @Option(help: "Timeout of each write and read, in milliseconds (0: none).")
    var timeout: Int = 10_000

    func run() throws {
        let finder = USBDeviceFinder()
        do {
            let devices = try finder.devices()
            for device in devices {
                var line = device.name + " " + finder.idText
                line += " serial " + (device.serial ?? "?")
                line += " product " + (device.product ?? "?")
                if let problem = device.openError { line += " (" + problem.description + ")" }
                print(line)
            }
            guard echoBytes > 0 else {
                if devices.isEmpty { throw finder.noDeviceError() }
                return
            }
            let transport = try USBTransport(serial: serial, finder: finder)
            defer { transport.close() }
            print("opened \(transport.name) max packet \(transport.maxPacketSize)")
            try echo(transport)
        } catch let error as TransportError {
            throw CommandFailure(error.description)
        }
    }

    private func echo(_ transport: USBTransport) throws {
        var sent = [UInt8](repeating: 0, count: echoBytes)
        var state: UInt32 = 0x4856_0001
        for index in sent.indices {
            state = state &* 1_664_525 &+ 1_013_904_223
            sent[index] = UInt8(truncatingIfNeeded: state >> 24)
        }
        var received = [UInt8](repeating: 0, count: echoBytes)
        try sent.withUnsafeBytes { bytes in
            try transport.write(bytes, timeoutMilliseconds: timeout)
        }
        var filled = 0
        while filled < echoBytes {
            filled += try received.withUnsafeMutableBytes { bytes -> Int in
                try transport.read(
                    into: UnsafeMutableRawBufferPointer(rebasing: bytes[filled...]), timeoutMilliseconds: timeout)
            }
        }
        guard received == sent else {
            let first = sent.indices.first { sent[$0] != received[$0] } ?? 0
            throw TransportError.io("echo of \(echoBytes) bytes came back different from byte \(first) on")
        }
        print("echoed \(echoBytes) bytes")
    }
}
