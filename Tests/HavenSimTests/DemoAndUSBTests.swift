import Foundation
import HavenCore
import HavenDevice
import HavenHost
import HavenSodium
import Testing

/// The `haven` binary beside `haven-sim` in the build folder.
func havenBinary() throws -> String {
    let path = URL(fileURLWithPath: try simBinary()).deletingLastPathComponent().appendingPathComponent("haven").path
    guard FileManager.default.isExecutableFile(atPath: path) else { throw SimTestError("haven not built next to haven-sim") }
    return path
}

/// Runs a program with its standard error merged into the text returned.
func runText(_ path: String, _ arguments: [String]) throws -> (status: Int32, text: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite(.serialized) struct DemoAndUSBTests {
    /// The README's main command, twice in a row in the same folder: the
    /// second run starts clean (it removes the first run's files).
    @Test func havenDemoPassesTwiceInARow() throws {
        let dir = "/tmp/haven-demo-test-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for run in 1...2 {
            let r = try runText(try havenBinary(), ["demo", "--dir", dir])
            #expect(r.status == 0, "run \(run): \(r.text)")
            #expect(r.text.contains("Done: the simulator is stopped"))
            #expect(r.text.contains("quick exit"))
            let pulled = try FileManager.default.contentsOfDirectory(atPath: dir + "/pulled")
            #expect(pulled.filter { $0.hasSuffix(".age") }.count == 1, "run \(run) pulled \(pulled)")
        }
        // No simulator left running.
        let ps = try runText("/bin/ps", ["-eo", "args"])
        #expect(!ps.text.contains(dir + "/tablet.img"))
    }

    /// `haven devices`, `provision` and `pull` unchanged through libusb-1.0:
    /// umockdev emulates the Haven USB device and forwards its bulk
    /// endpoints to a running `haven-sim`.
    @Test func devicesProvisionAndPullThroughLibusb() throws {
        let d = try LinkedDevice()
        let sim = try d.start()
        let keyFile = d.dir.appendingPathComponent("provisioning.key").path
        try KeyFiles.writeSecret(d.signer.secretFileText, to: keyFile)
        let bundleFile = d.dir.appendingPathComponent("site.havencfg").path
        try Data(try d.bundle(version: 1)).write(to: URL(fileURLWithPath: bundleFile))
        let empty = d.dir.appendingPathComponent("no-sims").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let ledger = d.dir.appendingPathComponent("ledger.sqlite").path
        let harness = repositoryRoot.appendingPathComponent("Tools/umockdev/run-with-device").path
        let haven = try havenBinary()
        func viaUSB(_ args: [String], extra: [String] = []) throws -> (status: Int32, text: String) {
            try runText(harness, ["--socket", d.socket] + extra + ["--", haven] + args + ["--sim-dir", empty])
        }

        var r = try viaUSB(["devices", "--json"])
        #expect(r.status == 0, "\(r.text)")
        #expect(r.text.contains("\"address\":\"usb:") && r.text.contains("\"provisioned\":false"))

        r = try viaUSB(["provision", bundleFile, "--key", keyFile, "--ledger", ledger])
        #expect(r.status == 0, "\(r.text)")
        #expect(r.text.contains("1 of 1 device provisioned"))
        for i in 0..<3 { try d.interview(sim, code: "KG20\(10 + i)", age: 25 + i) }

        // Unplugged in the middle of the pull: a clear message, nothing lost.
        let out = d.dir.appendingPathComponent("pulled").path
        r = try viaUSB(["pull", "--key", keyFile, "-o", out, "--ledger", ledger], extra: ["--unplug-after-in", "600"])
        #expect(r.status != 0)
        #expect(r.text.contains("unplugged"), "\(r.text)")

        r = try viaUSB(["pull", "--key", keyFile, "-o", out, "--ledger", ledger, "--json"])
        #expect(r.status == 0, "\(r.text)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".age") }
        #expect(files.count == 3)
        r = try viaUSB(["devices", "--json"])
        #expect(r.text.contains("\"recordsWaiting\":0"), "\(r.text)")
        #expect(sim.finish() == 0)
    }

    @Test func noDeviceAndPermissionDeniedSayWhatToDo() throws {
        let empty = "/tmp/haven-no-sims-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        var r = try runText(try havenBinary(), ["devices", "--sim-dir", empty])
        #expect(r.status != 0 && r.text.contains("no Haven device attached"), "\(r.text)")
        let d = try LinkedDevice()
        let sim = try d.start()
        r = try runText(repositoryRoot.appendingPathComponent("Tools/umockdev/run-with-device").path,
                        ["--socket", d.socket, "--deny-access", "--", try havenBinary(), "devices", "--sim-dir", empty])
        #expect(r.text.contains("70-haven.rules"), "\(r.text)")
        #expect(sim.finish() == 0)
    }
}
