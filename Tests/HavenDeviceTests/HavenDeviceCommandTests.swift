import Foundation
import Testing

/// The built `haven-device` binary's start-up: the device id it reports
/// (what the gadget script puts in the USB serial number), the secret it
/// makes, and the errors that stop it before it serves anything.
@Suite struct HavenDeviceCommandTests {
    func binary() throws -> String {
        let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var directory = URL(fileURLWithPath: me).deletingLastPathComponent()
        if directory.lastPathComponent.hasSuffix(".xctest") { directory = directory.deletingLastPathComponent() }
        return directory.appendingPathComponent("haven-device").path
    }

    func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try binary())
        process.arguments = arguments + ["--no-memory-lock", "--hardware", packageRoot + "/Hardware"]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test func printsTheSameDeviceIdOnEveryStartAndKeepsTheSecretPrivate() throws {
        try withTemporaryDirectory { dir in
            let image = dir + "/tablet.img"
            let first = try run(["--image", image, "--board", "sim", "--print-device-id"])
            #expect(first.status == 0, "\(first.stderr)")
            let id = first.stdout.trimmingCharacters(in: .newlines)
            #expect(id.count == 32 && id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
            let second = try run(["--image", image, "--board", "sim", "--print-device-id"])
            #expect(second.stdout.trimmingCharacters(in: .newlines) == id)
            let attributes = try FileManager.default.attributesOfItem(atPath: image + ".secret")
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            #expect((attributes[.size] as? Int) == 32)
            // --secret puts it elsewhere: another secret, another device.
            let other = try run(["--image", dir + "/b.img", "--board", "sim", "--secret", dir + "/b.key", "--print-device-id"])
            #expect(other.status == 0 && FileManager.default.fileExists(atPath: dir + "/b.key"))
            #expect(other.stdout.trimmingCharacters(in: .newlines) != id)
        }
    }

    @Test func refusesToStartWithoutFlashOrFunctionFS() throws {
        try withTemporaryDirectory { dir in
            // The simulator profile names no linux.flash.
            let noFlash = try run(["--board", "sim", "--headless"])
            #expect(noFlash.status != 0)
            #expect(noFlash.stderr.contains("--image"), "\(noFlash.stderr)")
            // No FunctionFS mounted there: a clear error, status 2.
            let noFFS = try run(["--image", dir + "/t.img", "--board", "sim", "--headless", "--ffs", dir + "/no-ffs"])
            #expect(noFFS.status == 2)
            #expect(noFFS.stderr.contains(dir + "/no-ffs/ep0") && noFFS.stderr.contains("functionfs mounted"), "\(noFFS.stderr)")
            // An image of another board's size is never resized.
            let wrongBoard = try run(["--image", dir + "/t.img", "--secret", dir + "/t.img.secret",
                                      "--board", "ref-tablet-a7", "--print-device-id"])
            #expect(wrongBoard.status == 2)
            #expect(wrongBoard.stderr.contains("refusing to use it"), "\(wrongBoard.stderr)")
        }
    }
}
