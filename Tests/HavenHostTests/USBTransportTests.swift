import Foundation
import HavenHost
import Testing

/// The libusb-1.0 path end to end without hardware: `haven usb-probe` opens
/// the Haven device through USBDeviceFinder and USBTransport, and umockdev
/// (Tools/umockdev) emulates the device, forwarding its bulk endpoints to a
/// Unix socket server run by the test. Serialized: each case runs a Python
/// handler and a busy-polling libusb, and the machine has two cores.
@Suite(.serialized)
struct USBTransportTests {
    @Test(
        "bytes go out and come back unchanged through libusb",
        arguments: [1, 511, 512, 513, 4096, 100_000, 1_000_000])
    func roundTrip(size: Int) throws {
        let server = try UnixSocketServer(.echo)
        let run = try runUnderUSBDevice(["--socket", server.path], probe: ["--echo-bytes", String(size)])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("usb:001/002 1209:4856 serial HVN-SIM-0001 product Haven Survey Tablet"))
        #expect(run.stdout.contains("opened usb:001/002 max packet 512"))
        #expect(run.stdout.contains("echoed \(size) bytes"))
        #expect(run.count("out_bytes") == size)
        #expect(run.count("in_bytes") == size)
        #expect(server.bytesReceived == size)
        // A write ending on a packet boundary is closed by one zero-length packet.
        #expect(run.count("zero_length_out") == (size % 512 == 0 ? 1 : 0))
        #expect(!run.unplugged)
    }

    @Test("no device attached: the noDevice message")
    func noDevice() throws {
        // No umockdev testbed: libusb sees this machine's (empty) bus.
        let result = try runTool(try builtHavenExecutable(), ["usb-probe", "--echo-bytes", "1"])
        #expect(result.status == 1)
        #expect(
            result.stderr.contains(
                "no device: no Haven device (USB 1209:4856) is attached; plug the tablet in with a data cable"),
            "\(result.stderr)")
    }

    @Test("device node not accessible: permission denied naming the udev rule")
    func permissionDenied() throws {
        let server = try UnixSocketServer(.echo)
        let run = try runUnderUSBDevice(["--socket", server.path, "--deny-access"], probe: ["--echo-bytes", "1"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("permission denied: opening usb:001/002"), "\(run.stderr)")
        #expect(run.stderr.contains("install the udev rule Hardware/udev/70-haven.rules"))
        #expect(run.stderr.contains("/etc/udev/rules.d/"))
        // Listed all the same, with the reason it cannot be opened.
        #expect(run.stdout.contains("usb:001/002 1209:4856 serial ? product ? (permission denied"))
        #expect(run.count("out_urbs") == 0)
        #expect(server.bytesReceived == 0)
    }

    @Test("interface held by another program: busy")
    func busy() throws {
        let server = try UnixSocketServer(.echo)
        let run = try runUnderUSBDevice(["--socket", server.path, "--busy"], probe: ["--echo-bytes", "1"])
        #expect(run.status == 1)
        #expect(
            run.stderr.contains("device busy: claiming the Haven interface of usb:001/002: another program"),
            "\(run.stderr)")
        #expect(run.count("out_urbs") == 0)
    }

    @Test("a device speaking another link protocol version is refused before any transfer")
    func otherProtocolVersion() throws {
        let server = try UnixSocketServer(.echo)
        let run = try runUnderUSBDevice(
            ["--socket", server.path, "--interface-protocol", "2"], probe: ["--echo-bytes", "10"])
        #expect(run.status == 1)
        #expect(
            run.stderr.contains(
                "I/O error: usb:001/002 speaks link protocol version 2, this haven speaks version 1"),
            "\(run.stderr)")
        #expect(run.count("out_urbs") == 0)
        #expect(server.bytesReceived == 0)
    }

    @Test("cable pulled during a read: disconnected, unplugged")
    func unplugMidTransfer() throws {
        let server = try UnixSocketServer(.echo)
        let run = try runUnderUSBDevice(
            ["--socket", server.path, "--unplug-after-in", "1000"], probe: ["--echo-bytes", "5000"])
        #expect(run.status == 1)
        #expect(
            run.stderr.contains("device disconnected: usb:001/002 was unplugged during a read"), "\(run.stderr)")
        #expect(run.unplugged)
        #expect(run.count("in_bytes") == 1000)
        #expect(run.count("out_bytes") == 5000)
    }

    @Test("the far end stops mid-stream (simulator killed): disconnected")
    func peerClosesMidTransfer() throws {
        let server = try UnixSocketServer(.closeAfter(700))
        let run = try runUnderUSBDevice(["--socket", server.path], probe: ["--echo-bytes", "3000"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("device disconnected: usb:001/002 was unplugged"), "\(run.stderr)")
        #expect(run.count("in_bytes") == 700)
    }

    @Test("a device that never answers: timed out after the read timeout")
    func readTimeout() throws {
        let server = try UnixSocketServer(.sink)
        let started = ContinuousClock.now
        let run = try runUnderUSBDevice(
            ["--socket", server.path], probe: ["--echo-bytes", "600", "--timeout", "400"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("timed out: reading from usb:001/002"), "\(run.stderr)")
        #expect(run.count("out_bytes") == 600)
        #expect(run.count("in_bytes") == 0)
        #expect(ContinuousClock.now - started >= .milliseconds(400))
    }

    @Test("a device that stops taking data: the write times out")
    func writeTimeout() throws {
        let server = try UnixSocketServer(.stall)
        let run = try runUnderUSBDevice(
            ["--socket", server.path], probe: ["--echo-bytes", "4000000", "--timeout", "400"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("timed out: writing to usb:001/002"), "\(run.stderr)")
        #expect(run.count("in_urbs") == 0)
    }

    @Test("full speed: 64-byte packets, zero-length packet after 64 and 128 bytes", arguments: [63, 64, 65, 128])
    func fullSpeed(size: Int) throws {
        let server = try UnixSocketServer(.echo)
        let run = try runUnderUSBDevice(
            ["--socket", server.path, "--full-speed"], probe: ["--echo-bytes", String(size)])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("opened usb:001/002 max packet 64"))
        #expect(run.stdout.contains("echoed \(size) bytes"))
        #expect(run.count("zero_length_out") == (size % 64 == 0 ? 1 : 0))
    }

    @Test("a device chosen by serial among two; none chosen among two, or an unknown serial: noDevice")
    func chooseBySerial() throws {
        let server = try UnixSocketServer(.echo)
        let chosen = try runUnderUSBDevice(
            ["--socket", server.path, "--serial", "HVN-TEST-7"], probe: ["--serial", "HVN-TEST-7", "--echo-bytes", "64"])
        #expect(chosen.status == 0, "\(chosen.stderr)")
        #expect(chosen.stdout.contains("serial HVN-TEST-7"))
        #expect(chosen.stdout.contains("echoed 64 bytes"))

        let two = try UnixSocketServer(.echo)
        let second = try runUnderUSBDevice(
            ["--socket", server.path, "--socket", two.path], probe: ["--serial", "HVN-SIM-0002", "--echo-bytes", "300"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("usb:001/002 1209:4856 serial HVN-SIM-0001"))
        #expect(second.stdout.contains("usb:001/003 1209:4856 serial HVN-SIM-0002"))
        #expect(second.stdout.contains("opened usb:001/003 max packet 512"))
        #expect(two.bytesReceived == 300)

        let ambiguous = try runUnderUSBDevice(
            ["--socket", server.path, "--socket", two.path], probe: ["--echo-bytes", "300"])
        #expect(ambiguous.status == 1)
        #expect(
            ambiguous.stderr.contains("2 Haven devices are attached (HVN-SIM-0001, HVN-SIM-0002); choose one by serial"),
            "\(ambiguous.stderr)")
        #expect(server.bytesReceived == 64)

        let wrong = try runUnderUSBDevice(
            ["--socket", server.path, "--serial", "HVN-TEST-7"], probe: ["--serial", "HVN-OTHER", "--echo-bytes", "64"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("no device: no Haven device with serial HVN-OTHER is attached"), "\(wrong.stderr)")
    }
}

/// The transport's error texts without a device.
struct USBIdentityTests {
    @Test("USB identity matches Hardware/usb/haven-usb.json")
    func identityMatchesHardwareFile() throws {
        let url = URL(fileURLWithPath: usbRepositoryRoot + "/Hardware/usb/haven-usb.json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        #expect(json["vendorId"] as? String == "0x1209")
        #expect(json["productId"] as? String == "0x4856")
        let interface = try #require(json["interface"] as? [String: Any])
        #expect(interface["class"] as? String == "0xFF")
        #expect(interface["subclass"] as? String == "0x48")
        #expect(interface["protocol"] as? String == "0x01")
        let endpoints = try #require(interface["endpoints"] as? [[String: Any]])
        #expect(endpoints.compactMap { $0["address"] as? String } == ["0x01", "0x81"])
        #expect(HavenUSBIdentity.vendorID == 0x1209 && HavenUSBIdentity.productID == 0x4856)
        #expect(HavenUSBIdentity.bulkOutEndpoint == 0x01 && HavenUSBIdentity.bulkInEndpoint == 0x81)
    }

    @Test("the udev rule grants the Haven VID:PID")
    func udevRuleNamesDevice() throws {
        let text = try String(contentsOfFile: usbRepositoryRoot + "/Hardware/udev/70-haven.rules", encoding: .utf8)
        let rules = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(rules.contains { $0.contains("ATTRS{idVendor}==\"1209\"") && $0.contains("ATTRS{idProduct}==\"4856\"") })
        #expect(rules.contains { $0.contains("TAG+=\"uaccess\"") })
        #expect(rules.contains { $0.contains("GROUP=\"plugdev\"") && $0.contains("MODE=\"0660\"") })
    }
}
