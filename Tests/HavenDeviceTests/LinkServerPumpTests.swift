import Foundation
import HavenCore
import HavenDevice
import HavenHost
import Testing

/// The pump the FunctionFS transport feeds, between the unchanged host
/// `LinkClient` and a real `DeviceHost` on an image: bytes in, responses
/// out through `send`, sessions reset on unplug.
@Suite struct LinkServerPumpTests {
    /// A `LinkTransport` whose writes go straight into the pump, as the
    /// bulk OUT pipe does, and whose reads return what the pump sent.
    final class PumpTransport: LinkTransport {
        let pump: LinkServerPump
        var inbox: [UInt8] = []
        var sends = 0
        var name: String { "pump" }
        init(_ pump: LinkServerPump) { self.pump = pump }

        func write(_ bytes: UnsafeRawBufferPointer, timeoutMilliseconds: Int) throws(TransportError) {
            do throws(FunctionFSError) {
                try pump.pump(bytes) { (reply) throws(FunctionFSError) in
                    self.inbox += reply
                    self.sends += 1
                }
            } catch {
                throw .io("\(error)")
            }
        }

        func read(into buffer: UnsafeMutableRawBufferPointer, timeoutMilliseconds: Int) throws(TransportError) -> Int {
            guard !inbox.isEmpty else { throw .timedOut("nothing sent") }
            let n = min(buffer.count, inbox.count)
            inbox.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            inbox.removeFirst(n)
            return n
        }

        func close() {}
    }

    /// Feeds `bytes` to the pump in one call; what it sent, in how many sends.
    func feed(_ pump: LinkServerPump, _ bytes: [UInt8]) -> (replies: [UInt8], sends: Int, error: FunctionFSError?) {
        var replies: [UInt8] = []
        var sends = 0
        var failure: FunctionFSError?
        bytes.withUnsafeBytes { raw in
            do throws(FunctionFSError) {
                try pump.pump(raw) { (reply) throws(FunctionFSError) in
                    replies += reply
                    sends += 1
                }
            } catch {
                failure = error
            }
        }
        return (replies, sends, failure)
    }

    func withHost(_ body: (DeviceHost) throws -> Void) throws {
        try withTemporaryDirectory { dir in
            let board = try BoardProfile.load(named: "sim", hardwareDirectory: packageRoot + "/Hardware")
            let image = try DeviceImage(path: dir + "/tablet.img", board: board)
            try body(try DeviceHost(image: image))
        }
    }

    @Test func identifyThroughThePumpReportsTheDevice() throws {
        try withHost { host in
            let pump = LinkServerPump(host: host, firmwareVersion: "haven-device test")
            let client = LinkClient(transport: PumpTransport(pump), timeoutMilliseconds: 1000)
            let identity = try client.identify()
            #expect(identity.deviceIDHex == String(decoding: host.deviceIDHex, as: UTF8.self))
            #expect(identity.firmwareVersion == "haven-device test")
            #expect(identity.boardName == "sim")
            #expect(!identity.isProvisioned)
        }
    }

    /// Many requests in one bulk OUT read (the host pipelines, the pipe
    /// coalesces): more than the server's output holds, so the pump must
    /// send between feeds. Every request is answered, in order.
    @Test func pipelinedRequestsBeyondTheOutputBufferAreAllAnswered() throws {
        try withHost { host in
            let pump = LinkServerPump(host: host, firmwareVersion: "t")
            // One identify request, as the client writes it.
            final class Recorder: LinkTransport {
                var written: [UInt8] = []
                var name: String { "recorder" }
                func write(_ bytes: UnsafeRawBufferPointer, timeoutMilliseconds: Int) throws(TransportError) { written += bytes }
                func read(into buffer: UnsafeMutableRawBufferPointer, timeoutMilliseconds: Int) throws(TransportError) -> Int {
                    throw .timedOut("recorder")
                }
                func close() {}
            }
            let recorder = Recorder()
            _ = try? LinkClient(transport: recorder, timeoutMilliseconds: 1).identify()
            #expect(!recorder.written.isEmpty)
            let single = feed(pump, recorder.written).replies
            #expect(!single.isEmpty)
            // Enough answers to fill the server's output (4 maximum frames) many times.
            let count = max(40, 12 * LinkFrame.maxFrame / single.count)
            var burst: [UInt8] = []
            for _ in 0..<count { burst += recorder.written }
            let (replies, sends, failure) = feed(pump, burst)
            #expect(failure == nil)
            // Identify answers carry a fresh challenge each: same size, not same bytes.
            #expect(replies.count == count * single.count)
            #expect(sends > 1)
        }
    }

    /// The cable pulled mid-frame: the reset drops the half frame, so the
    /// next session's first request is answered normally.
    @Test func resetDropsAPartialFrame() throws {
        try withHost { host in
            let pump = LinkServerPump(host: host, firmwareVersion: "t")
            let transport = PumpTransport(pump)
            let garbage: [UInt8] = [0x48, 0x56, 0x4C, 0x4B, 0x01, 0x00, 0x10]
            #expect(feed(pump, garbage).replies.isEmpty)
            #expect(pump.server.partialInput > 0 || pump.server.framesRejected > 0)
            pump.reset()
            #expect(pump.server.partialInput == 0)
            #expect(pump.resets == 1)
            let identity = try LinkClient(transport: transport, timeoutMilliseconds: 1000).identify()
            #expect(identity.boardName == "sim")
        }
    }
}
