import Glibc
import HavenCore
import HavenDevice

/// The USB link of the simulator: a Unix socket (`--socket PATH`) serving
/// the link protocol (Docs/link-protocol.md) from the same single-threaded
/// event loop as the screen, so a config install or a pull is just another
/// event for the device. The descriptors to wait on change as hosts connect
/// and leave; they are registered again after every step.
enum LinkHook {
    /// Kept alive for the life of the process.
    nonisolated(unsafe) static var pump: LinkPump?

    static func attach(socketPath: String?, host: DeviceHost, loop: EventLoop) {
        guard let socketPath else { return }
        let backend = DeviceHostLinkBackend(host: host, firmwareVersion: "haven-sim " + HavenSim.firmwareVersion)
        // put-config staging: the largest config a slot holds plus the PIN
        // material and bundle framing.
        let server = LinkServer(backend: backend, configCapacity: host.image.configArea.capacity + 16 * 1024)
        // The socket's folder (the default place `haven devices` looks is
        // per user): made private when it does not exist yet.
        if let slash = socketPath.lastIndex(of: "/"), slash != socketPath.startIndex {
            let folder = String(socketPath[..<slash])
            if access(folder, F_OK) != 0 { _ = mkdir(folder, 0o700) }
        }
        do throws(ListenerError) {
            let listener = try SocketLinkListener(path: socketPath, server: server)
            let p = LinkPump(listener: listener, loop: loop)
            p.rearm()
            pump = p
        } catch {
            FileHandleStderr.write("haven-sim: --socket \(socketPath): \(error)\n")
            exit(2)
        }
    }
}

/// Moves bytes between the socket and the link server when poll(2) says so.
final class LinkPump {
    let listener: SocketLinkListener<DeviceHostLinkBackend>
    let loop: EventLoop
    var registered: [Int32] = []

    init(listener: SocketLinkListener<DeviceHostLinkBackend>, loop: EventLoop) {
        self.listener = listener
        self.loop = loop
    }

    func rearm() {
        for fd in registered { loop.remove(fd: fd) }
        registered.removeAll(keepingCapacity: true)
        for p in listener.pollDescriptors() {
            loop.add(fd: p.fd, events: p.events) { [unowned self] _, _ in self.step() }
            registered.append(p.fd)
        }
    }

    func step() {
        do throws(ListenerError) {
            _ = try listener.service(timeoutMilliseconds: 0)
        } catch {
            FileHandleStderr.write("haven-sim: link: \(error)\n")
            listener.dropConnection()
        }
        rearm()
    }
}
