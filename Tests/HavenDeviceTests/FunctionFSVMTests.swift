import Foundation
import HavenDevice
import HavenHost
import Testing

/// The USB link through a real Linux kernel: Tools/vm/usb-test builds the
/// release binaries and boots Debian's kernel in qemu (TCG), where
/// haven-device --echo serves FunctionFS behind a configfs gadget and the
/// unchanged `haven usb-probe` reaches it through libusb and dummy_hcd.
/// Not skipped: a missing qemu/busybox/cpio fails with what to install.
/// Serialized: both tests build into the same release scratch folder and
/// a VM each is all the 2-core machines can run at once.
@Suite("FunctionFS in a VM", .serialized)
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

    /// The real runtime through the kernel: haven-device on a file image
    /// (board ref-tablet-a7) serves the link over FunctionFS; the unchanged
    /// `haven` runs devices, provision (a bundle built here), pull — cut
    /// by an unbind once the first record is on disk — and pull again
    /// after the bind; the interviews are driven through haven-device's
    /// headless stdin. The pulled files come back base64 on the console
    /// and are opened here, with libsodium's age (HavenHost) and with
    /// Debian's `age -d`: every interview exactly once.
    @Test(.timeLimit(.minutes(20)))
    func provisionInterviewsAndPullCutByUnbindThroughTheKernel() throws {
        let interviews = 5
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("haven-vm-link-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func file(_ name: String) -> String { dir.appendingPathComponent(name).path }

        // The research team's keys and a signed config, built on this side.
        let board = try BoardProfile.load(named: "ref-tablet-a7", hardwareDirectory: packageRoot + "/Hardware")
        let config = try SignedConfig(dir: dir.path, board: board)
        let identity = config.identity
        try KeyFiles.writeSecret(config.signer.secretFileText, to: file("provisioning.key"))
        try KeyFiles.writeSecret(identity.encoded + "\n", to: file("research.agekey"))
        try Data(config.bundle).write(to: URL(fileURLWithPath: file("site.havencfg")))

        // The enumerator's taps, as headless events: unlock, then N interviews.
        var events = [#"{"type":"pin","value":"2468"}"#]
        for i in 0..<interviews {
            events += [#"{"type":"start"}"#, #"{"type":"next"}"#, #"{"type":"answer","value":"yes"}"#,
                       #"{"type":"next"}"#, #"{"type":"next"}"#, #"{"type":"answer","value":\#(25 + i)}"#,
                       #"{"type":"next"}"#, #"{"type":"next"}"#, #"{"type":"answer","value":"married"}"#,
                       #"{"type":"next"}"#, #"{"type":"answer","value":2}"#,
                       #"{"type":"next"}"#, #"{"type":"answer","value":"KG20\#(10 + i)"}"#,
                       #"{"type":"next"}"#, #"{"type":"answer","value":"2024-06-10"}"#,
                       #"{"type":"next"}"#, #"{"type":"yes"}"#, #"{"type":"answer","value":"no"}"#,
                       #"{"type":"next"}"#, #"{"type":"next"}"#, #"{"type":"next"}"#,
                       #"{"type":"finalize"}"#, #"{"type":"home"}"#]
        }
        try (events.joined(separator: "\n") + "\n").write(toFile: file("interviews.jsonl"), atomically: true, encoding: .utf8)
        try "\(interviews)\n".write(toFile: file("expected-records"), atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: packageRoot + "/Tools/vm/usb-test")
        process.arguments = ["Tools/vm/scenarios/usb-link.sh",
                             "--file", file("site.havencfg") + "=/haven/site.havencfg",
                             "--file", file("provisioning.key") + "=/haven/provisioning.key",
                             "--file", file("interviews.jsonl") + "=/haven/interviews.jsonl",
                             "--file", file("expected-records") + "=/haven/expected-records",
                             "--file", packageRoot + "/Hardware/boards/ref-tablet-a7.json=/haven/Hardware/boards/ref-tablet-a7.json"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .replacingOccurrences(of: "\r", with: "")
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "VM scenario failed:\n\(text.suffix(4000))")
        for step in ["block device initialized once", "devices (unprovisioned)", "provisioned", "interviews \(interviews)", "records waiting \(interviews)",
                     "unplugged mid-pull", "pulled after replug: \(interviews) records, \(interviews) distinct",
                     "ledger \(interviews) pull entries, \(interviews) records",
                     "nothing left on the device", "stopped"] {
            let seen = text.contains("SCENARIO-OK " + step)
            #expect(seen, "missing step: \(step)")
        }

        // The records, opened on this side.
        var files: [String: [UInt8]] = [:]
        var current: String?
        var base64 = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("HAVEN-FILE-BEGIN ") {
                current = String(line.dropFirst("HAVEN-FILE-BEGIN ".count))
                base64 = ""
            } else if line == "HAVEN-FILE-END", let name = current {
                files[name] = Data(base64Encoded: base64).map { [UInt8]($0) }
                current = nil
            } else if current != nil {
                base64 += line
            }
        }
        #expect(files.count == interviews, "\(files.keys.sorted())")
        var codes: [String] = []
        for (name, bytes) in files.sorted(by: { $0.key < $1.key }) {
            let plain = try AgeFile.decrypt(bytes, identities: [identity])
            let record = try AnswerRecord(bytes: plain)
            for answer in record.answers {
                if case .text(let value) = answer.value, value.hasPrefix("KG20") { codes.append(value) }
            }
            // Debian's age opens it too (the real peer).
            try Data(bytes).write(to: URL(fileURLWithPath: file(name)))
            let age = Process()
            age.executableURL = URL(fileURLWithPath: "/usr/bin/age")
            age.arguments = ["-d", "-i", file("research.agekey"), file(name)]
            let ageOut = Pipe()
            age.standardOutput = ageOut
            try age.run()
            let opened = [UInt8](ageOut.fileHandleForReading.readDataToEndOfFile())
            age.waitUntilExit()
            #expect(age.terminationStatus == 0 && opened == plain, "age -d \(name)")
        }
        #expect(codes.sorted() == (0..<interviews).map { "KG20\(10 + $0)" }, "every interview exactly once: \(codes)")
    }
}
