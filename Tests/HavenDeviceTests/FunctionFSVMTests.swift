import Foundation
import Testing

/// The USB link through a real Linux kernel: Tools/vm/usb-test builds the
/// release binaries and boots Debian's kernel in qemu (TCG), where
/// haven-device --echo serves FunctionFS behind a configfs gadget and the
/// unchanged `haven usb-probe` reaches it through libusb and dummy_hcd.
/// Not skipped: a missing qemu/busybox/cpio fails with what to install.
@Suite("FunctionFS in a VM")
struct FunctionFSVMTests {
    @Test(.timeLimit(.minutes(20)))
    func echoRoundTripsAndCablePullThroughTheKernel() throws {
        for tool in ["/usr/bin/qemu-system-x86_64", "/usr/bin/cpio", "/bin/busybox"] {
            #expect(FileManager.default.isExecutableFile(atPath: tool), "\(tool) missing: run Tools/setup")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: packageRoot + "/Tools/vm/usb-test")
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "VM scenario failed:\n\(text.suffix(3000))")
        var expected = ["enumerated"]
        for count in [1, 511, 512, 513, 100000] { expected.append("echo \(count)") }
        expected.append("unplugged mid-transfer")
        for count in [1, 513, 100000] { expected.append("after replug echo \(count)") }
        expected.append("stopped")
        for count in [1, 64, 128, 100000] { expected.append("full speed echo \(count)") }
        expected.append("full speed stopped")
        for step in expected {
            #expect(text.contains("SCENARIO-OK " + step), "missing step: \(step)")
        }
        // The host saw the Haven interface: bulk OUT and IN, 512-byte packets.
        #expect(text.contains("Bulk out max packet 0200"))
        #expect(text.contains("Bulk in max packet 0200"))
    }
}
