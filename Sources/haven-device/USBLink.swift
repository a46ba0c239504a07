// USBLink: the link server on FunctionFS, inside haven-device's event loop.

import Glibc
import HavenDevice

/// Registers the FunctionFS transport's two descriptors with the event
/// loop: ep0 (BIND/ENABLE/DISABLE/SETUP events: a DISABLE or UNBIND, the
/// cable pulled, resets the link session) and the bulk OUT pipe (bytes for
/// `LinkServerPump`, whose responses go out on bulk IN). Screen input and
/// the link share one thread, so a config install or a pull is just
/// another event for the device, as in the simulator.
final class USBLink {
    let transport: FunctionFSEndpointTransport
    let pump: LinkServerPump
    let log: (String) -> Void
    private var buffer = [UInt8](repeating: 0, count: 16384)
    /// Called after link traffic changed the device (a config install).
    var changed: () -> Void = {}

    init(transport: FunctionFSEndpointTransport, pump: LinkServerPump, loop: EventLoop, log: @escaping (String) -> Void) {
        self.transport = transport
        self.pump = pump
        self.log = log
        transport.connectionEvents = { [pump] event in
            switch event {
            case .connected:
                log("usb: host connected")
            case .disconnected:
                pump.reset()
                log("usb: host disconnected; link session reset")
            }
        }
        loop.add(fd: transport.controlDescriptor) { [unowned self] _, _ in self.control() }
        loop.add(fd: transport.dataDescriptor) { [unowned self] _, _ in self.data() }
    }

    func control() {
        do throws(FunctionFSError) {
            try transport.handleControlEvents()
        } catch .badEvent(let problem) {
            log("usb: ignored ep0 input: " + problem.description)
        } catch {
            log("usb: " + error.description)
        }
    }

    func data() {
        let transport = self.transport
        let pump = self.pump
        var failure: FunctionFSError?
        buffer.withUnsafeMutableBytes { bytes in
            do throws(FunctionFSError) {
                let count = try transport.receive(into: bytes)
                guard count > 0 else {
                    // Not connected: the bytes of a dead session stay in the
                    // pipe until DISABLE drops them; do not spin on them.
                    if !transport.isConnected { usleep(10_000) }
                    return
                }
                try pump.pump(UnsafeRawBufferPointer(rebasing: bytes[0..<count])) { (reply) throws(FunctionFSError) in
                    try transport.send(reply)
                }
            } catch {
                failure = error
            }
        }
        if let failure {
            // DISABLE follows on ep0; it resets the session.
            log(failure == .disconnected ? "usb: host went away during a transfer" : "usb: " + failure.description)
        }
        changed()
    }
}
