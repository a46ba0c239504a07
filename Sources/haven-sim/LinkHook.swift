import Glibc
import HavenDevice

/// INTEGRATION POINT for the link protocol (H2: `SocketLinkListener`, the
/// device side `LinkServer` and a `LinkBackend` implemented over
/// `DeviceRuntime`). The simulator's event loop already polls stdin and
/// the resize pipe; the link joins it as more descriptors:
///
/// ```swift
/// let listener = try SocketLinkListener(path: socketPath, backend: RuntimeLinkBackend(host))
/// loop.add(fd: listener.fd) { _, _ in listener.poll(loop) }   // accepts; adds each connection with loop.add
/// ```
///
/// The backend works on `DeviceHost`: put-config commit →
/// `host.installConfig(bundle:)` (installs and reboots the runtime on the
/// new config); store access → `host.runtime?.controller.mountedStore`
/// (nil: locked); set-time → `host.clock.setToday`; device id →
/// `host.deviceIDHex`. Every handler run is followed by `loop.afterEach`
/// (the terminal UI redraws there), so an install or an erase over the
/// link shows up on screen at once.
enum LinkHook {
    static func attach(socketPath: String?, host: DeviceHost, loop: EventLoop) {
        guard let socketPath else { return }
        let note = "haven-sim: --socket \(socketPath): the link protocol is not built in yet; no socket opened\n"
        var text = note
        text.withUTF8 { writeAll(2, UnsafeRawBufferPointer($0)) }
        _ = host
        _ = loop
    }
}
