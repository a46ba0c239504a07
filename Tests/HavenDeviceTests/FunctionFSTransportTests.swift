import Foundation
import Glibc
import HavenDevice
import Testing

/// The transport against stand-ins for the FunctionFS files: a stream
/// socketpair for ep0 (events in, nothing else out after the blobs), and
/// SOCK_SEQPACKET socketpairs for the bulk endpoints, where a zero-length
/// write is a visible empty record, like a zero-length packet. The real
/// kernel path runs in the VM (FunctionFSVMTests).
final class FakeFunctionFS {
    let transport: FunctionFSEndpointTransport
    /// Test ends: write events to ep0, write host bytes to bulk OUT, read
    /// device bytes from bulk IN.
    let ep0: Int32
    let hostOut: Int32
    let hostIn: Int32
    var connectionEvents: [FunctionFSConnectionEvent] = []
    var setupAnswers: [FunctionFSSetupAnswer] = []

    init() throws {
        func pair(_ type: Int32) throws -> (Int32, Int32) {
            var fds: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, type, 0, &fds) == 0 else { throw POSIXError(.EIO) }
            return (fds[0], fds[1])
        }
        let control = try pair(Int32(SOCK_STREAM.rawValue))
        let out = try pair(Int32(SOCK_SEQPACKET.rawValue))
        let into = try pair(Int32(SOCK_SEQPACKET.rawValue))
        ep0 = control.1
        hostOut = out.1
        hostIn = into.1
        transport = try FunctionFSEndpointTransport(ep0: control.0, bulkOut: out.0, bulkIn: into.0)
        transport.connectionEvents = { [unowned self] in connectionEvents.append($0) }
        transport.setupAnswered = { [unowned self] in setupAnswers.append($1) }
    }

    deinit {
        transport.connectionEvents = nil
        transport.setupAnswered = nil
        transport.close()
        close(ep0)
        close(hostOut)
        close(hostIn)
    }

    static func event(_ type: UInt8, setup: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0]) -> [UInt8] {
        setup + [type, 0, 0, 0]
    }

    func send(events: [UInt8]) throws {
        #expect(events.withUnsafeBytes { write(ep0, $0.baseAddress, $0.count) } == events.count)
        // Handle exactly what was sent (level-triggered ep0).
        var fds = [pollfd(fd: transport.controlDescriptor, events: Int16(POLLIN), revents: 0)]
        #expect(poll(&fds, 1, 2000) == 1)
        try transport.handleControlEvents()
    }

    func hostWrites(_ bytes: [UInt8]) {
        #expect(bytes.withUnsafeBytes { write(hostOut, $0.baseAddress, $0.count) } == bytes.count)
    }

    /// Bulk OUT bytes the transport hands over within `milliseconds`.
    func receiveAll(expecting count: Int, milliseconds: Int32 = 3000) throws -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(milliseconds)))
        while received.count < count && ContinuousClock.now < deadline {
            var fds = [pollfd(fd: transport.dataDescriptor, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 1, 50)
            let n = try buffer.withUnsafeMutableBytes { bytes in try transport.receive(into: bytes) }
            received += buffer[0..<n]
        }
        return received
    }

    /// The next record on bulk IN (nil when none within 200 ms).
    func hostReadsRecord() -> [UInt8]? {
        var fds = [pollfd(fd: hostIn, events: Int16(POLLIN), revents: 0)]
        guard poll(&fds, 1, 200) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { read(hostIn, $0.baseAddress, $0.count) }
        return n >= 0 ? Array(buffer[0..<n]) : nil
    }
}

@Suite("FunctionFS transport")
struct FunctionFSTransportTests {
    @Test func writesBlobsToEp0AndOpensEndpointFiles() throws {
        try withTemporaryDirectory { directory in
            let paths = FunctionFSPaths(directory: directory)
            #expect(paths.bulkOut == directory + "/ep1" && paths.bulkIn == directory + "/ep2")
            #expect(FileManager.default.createFile(atPath: paths.ep0, contents: nil))
            #expect(mkfifo(paths.bulkOut, 0o600) == 0 && mkfifo(paths.bulkIn, 0o600) == 0)
            // Our ends first, so the transport's blocking opens succeed.
            let hostOut = open(paths.bulkOut, O_RDWR | O_NONBLOCK)
            let hostIn = open(paths.bulkIn, O_RDONLY | O_NONBLOCK)
            defer { close(hostOut); close(hostIn) }
            let transport = try FunctionFSEndpointTransport(paths: paths)
            transport.close()
            let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: paths.ep0)))
            #expect(written == FunctionFSDescriptorsTests.expectedDescriptors + FunctionFSDescriptorsTests.expectedStrings)
        }
    }

    @Test func missingMountIsATypedError() {
        #expect(throws: FunctionFSError.cannotOpen(path: "/nonexistent-ffs/ep0", errno: ENOENT)) {
            try FunctionFSEndpointTransport(paths: FunctionFSPaths(directory: "/nonexistent-ffs"))
        }
    }

    @Test func virtualAddressPathsAreNamedByAddress() {
        var descriptors = FunctionFSDescriptors.haven
        descriptors.virtualAddresses = true
        let paths = FunctionFSPaths(directory: "/dev/ffs", descriptors: descriptors)
        #expect(paths.bulkOut == "/dev/ffs/ep01" && paths.bulkIn == "/dev/ffs/ep81")
    }

    @Test func dataMovesOnlyBetweenEnableAndDisable() throws {
        let fake = try FakeFunctionFS()
        try fake.send(events: FakeFunctionFS.event(0))  // BIND
        #expect(fake.transport.isBound && !fake.transport.isConnected)
        #expect(throws: FunctionFSError.disconnected) {
            try [UInt8](repeating: 1, count: 4).withUnsafeBytes { try fake.transport.send($0) }
        }
        try fake.send(events: FakeFunctionFS.event(2))  // ENABLE
        #expect(fake.transport.isConnected)
        #expect(fake.connectionEvents == [.connected])
        fake.hostWrites([1, 2, 3])
        fake.hostWrites([4, 5])
        #expect(try fake.receiveAll(expecting: 5) == [1, 2, 3, 4, 5])
        try fake.send(events: FakeFunctionFS.event(5) + FakeFunctionFS.event(6))  // SUSPEND, RESUME
        #expect(fake.transport.isConnected)
        try fake.send(events: FakeFunctionFS.event(3))  // DISABLE
        #expect(!fake.transport.isConnected)
        #expect(fake.connectionEvents == [.connected, .disconnected])
    }

    @Test func sendAddsZeroLengthPacketOnlyAtPacketMultiples() throws {
        let fake = try FakeFunctionFS()
        try fake.send(events: FakeFunctionFS.event(0) + FakeFunctionFS.event(2))
        // Stand-in files cannot answer FUNCTIONFS_ENDPOINT_DESC: 64 bytes.
        #expect(fake.transport.inPacketSize == 64)
        let payload = (0..<128).map { UInt8($0) }
        try payload.withUnsafeBytes { try fake.transport.send($0) }
        #expect(fake.hostReadsRecord() == payload)
        #expect(fake.hostReadsRecord() == [])  // zero-length packet
        try Array(payload[0..<100]).withUnsafeBytes { try fake.transport.send($0) }
        #expect(fake.hostReadsRecord() == Array(payload[0..<100]))
        #expect(fake.hostReadsRecord() == nil)  // no zero-length packet
    }

    @Test func cablePulledDropsOldBytesAndResumes() throws {
        let fake = try FakeFunctionFS()
        try fake.send(events: FakeFunctionFS.event(0) + FakeFunctionFS.event(2))
        fake.hostWrites([9, 9, 9])  // half a frame of the old session
        // Wait until the reader thread moved it into the pipe.
        var fds = [pollfd(fd: fake.transport.dataDescriptor, events: Int16(POLLIN), revents: 0)]
        #expect(poll(&fds, 1, 2000) == 1)
        try fake.send(events: FakeFunctionFS.event(3) + FakeFunctionFS.event(1))  // DISABLE, UNBIND
        #expect(!fake.transport.isConnected && !fake.transport.isBound)
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(try buffer.withUnsafeMutableBytes { try fake.transport.receive(into: $0) } == 0)
        try fake.send(events: FakeFunctionFS.event(0) + FakeFunctionFS.event(2))  // BIND, ENABLE
        fake.hostWrites([7, 8])
        #expect(try fake.receiveAll(expecting: 2) == [7, 8])
        #expect(fake.connectionEvents == [.connected, .disconnected, .connected])
    }

    @Test func unknownSetupRequestsStallAndAcceptedOnesAcknowledge() throws {
        let fake = try FakeFunctionFS()
        let vendorIn: [UInt8] = [0xC1, 0x01, 0, 0, 0, 0, 0x40, 0]
        let vendorOut: [UInt8] = [0x41, 0x02, 0, 0, 0, 0, 0, 0]
        try fake.send(events: FakeFunctionFS.event(4, setup: vendorIn) + FakeFunctionFS.event(4, setup: vendorOut))
        #expect(fake.setupAnswers == [.stalled, .stalled])
        fake.transport.acceptsSetup = { $0.request == 0x02 }
        try fake.send(events: FakeFunctionFS.event(4, setup: vendorOut) + FakeFunctionFS.event(2))
        #expect(fake.setupAnswers == [.stalled, .stalled, .acknowledged])
        // The zero-length answers did not eat the event behind them.
        #expect(fake.transport.isConnected)
    }

    @Test func badEventIsReportedAfterTheGoodOnesAreHandled() throws {
        let fake = try FakeFunctionFS()
        let bytes = FakeFunctionFS.event(2) + FakeFunctionFS.event(9) + FakeFunctionFS.event(3)
        #expect(throws: FunctionFSError.badEvent(.unknownType(9, offset: 20))) {
            try fake.send(events: bytes)
        }
        #expect(fake.connectionEvents == [.connected, .disconnected])
    }

    @Test func truncatedEp0ReadIsReportedAndTheWholeEventsAreHandled() throws {
        let fake = try FakeFunctionFS()
        let bytes = FakeFunctionFS.event(0) + FakeFunctionFS.event(2) + [0x01, 0x02, 0x03]
        #expect(throws: FunctionFSError.badEvent(.truncated(length: 27))) {
            try fake.send(events: bytes)
        }
        #expect(fake.transport.isBound && fake.transport.isConnected)
    }

    @Test func closedTransportRefusesEverything() throws {
        let fake = try FakeFunctionFS()
        fake.transport.close()
        fake.transport.close()  // idempotent
        #expect(fake.transport.pollDescriptors.isEmpty)
        #expect(throws: FunctionFSError.closed) { try fake.transport.handleControlEvents() }
        #expect(throws: FunctionFSError.closed) {
            try [UInt8](repeating: 0, count: 4).withUnsafeBytes { try fake.transport.send($0) }
        }
        var buffer = [UInt8](repeating: 0, count: 4)
        #expect(throws: FunctionFSError.closed) {
            try buffer.withUnsafeMutableBytes { _ = try fake.transport.receive(into: $0) }
        }
    }

    @Test func deviceLoopEchoesAndResetsThePumpOnUnplug() throws {
        let fake = try FakeFunctionFS()
        let pump = EchoPump()
        var loop = FunctionFSDeviceLoop(transport: fake.transport, pump: pump)
        #expect(fake.transport.connectionEvents != nil)
        let events = FakeFunctionFS.event(0) + FakeFunctionFS.event(2)
        #expect(events.withUnsafeBytes { write(fake.ep0, $0.baseAddress, $0.count) } == events.count)
        let message = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var echoed: [UInt8] = []
        let deadline = ContinuousClock.now.advanced(by: .seconds(3))
        var sent = false
        while echoed.count < message.count && ContinuousClock.now < deadline {
            try loop.serviceOnce(timeoutMilliseconds: 20)
            if fake.transport.isConnected && !sent {
                fake.hostWrites(message)
                sent = true
            }
            while let record = fake.hostReadsRecordNow() { echoed += record }
        }
        #expect(echoed == message)
        #expect(pump.echoed == message.count)
        let disable = FakeFunctionFS.event(3)
        #expect(disable.withUnsafeBytes { write(fake.ep0, $0.baseAddress, $0.count) } == 12)
        try loop.serviceOnce(timeoutMilliseconds: 1000)
        #expect(pump.resets == 1)
    }
}

extension FakeFunctionFS {
    func hostReadsRecordNow() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { recv(hostIn, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        return n > 0 ? Array(buffer[0..<n]) : nil
    }
}

@Suite("Process hardening")
struct ProcessHardeningTests {
    /// Runs the built haven-device, which hardens itself first, and reads
    /// back what the kernel says about the process.
    @Test func haveDeviceProcessHasCoreDumpsOff() throws {
        let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var directory = URL(fileURLWithPath: me).deletingLastPathComponent()
        if directory.lastPathComponent.hasSuffix(".xctest") { directory = directory.deletingLastPathComponent() }
        let binary = directory.appendingPathComponent("haven-device").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--check-hardening"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(text.contains("core-limit 0 0\n"))
        #expect(text.contains("dumpable 0\n"))
        // mlockall succeeds as root; otherwise the report must say false and
        // haven-device printed a warning. Either way the line is present.
        #expect(text.contains("memory-locked "))
        if getuid() == 0 { #expect(text.contains("memory-locked true")) }
    }
}
