// FunctionFSDeviceLoop: the runtime's USB loop (transport <-> pump).

/// Runs a `DeviceLinkPump` on a `FunctionFSEndpointTransport` until
/// `shouldStop` says so: waits for ep0 events and bulk OUT bytes, hands
/// bytes to the pump, resets the pump when the host goes away.
///
/// A device runtime with more to wait on (buttons, screen timers) polls
/// `transport.pollDescriptors` together with its own fds and calls
/// `serviceOnce` instead.
public struct FunctionFSDeviceLoop<Pump: DeviceLinkPump> {
    public let transport: FunctionFSEndpointTransport
    public let pump: Pump
    /// Told of sessions and recoverable problems (never of payload bytes).
    public var log: (String) -> Void
    private var buffer: [UInt8]

    /// Takes over `transport.connectionEvents` (resets the pump on unplug).
    public init(transport: FunctionFSEndpointTransport, pump: Pump, log: @escaping (String) -> Void = { _ in }) {
        self.transport = transport
        self.pump = pump
        self.log = log
        buffer = [UInt8](repeating: 0, count: 16384)
        let pump = self.pump
        let log = self.log
        transport.connectionEvents = { event in
            switch event {
            case .connected:
                log("usb: host connected")
            case .disconnected:
                pump.reset()
                log("usb: host disconnected; link session reset")
            }
        }
    }

    /// Loops until `shouldStop()`; returns on `.closed` or an OS error.
    public mutating func run(shouldStop: () -> Bool) throws(FunctionFSError) {
        while !shouldStop() {
            try serviceOnce(timeoutMilliseconds: 250)
        }
    }

    /// One wait (up to `timeoutMilliseconds`) and whatever it brought.
    /// A host that leaves mid-response is not an error: the session resets.
    public mutating func serviceOnce(timeoutMilliseconds: Int32) throws(FunctionFSError) {
        do throws(FunctionFSError) {
            guard try transport.step(timeoutMilliseconds: timeoutMilliseconds) else { return }
            let transport = self.transport
            let pump = self.pump
            var failure: FunctionFSError?
            buffer.withUnsafeMutableBytes { bytes in
                do throws(FunctionFSError) {
                    let count = try transport.receive(into: bytes)
                    guard count > 0 else { return }
                    try pump.pump(UnsafeRawBufferPointer(rebasing: bytes[0..<count])) { (reply) throws(FunctionFSError) in
                        try transport.send(reply)
                    }
                } catch {
                    failure = error
                }
            }
            if let failure { throw failure }
        } catch .disconnected {
            // DISABLE follows on ep0; it resets the pump and drops old bytes.
            log("usb: host went away during a transfer")
        } catch .badEvent(let problem) {
            log("usb: ignored ep0 input: " + problem.description)
        }
    }
}
