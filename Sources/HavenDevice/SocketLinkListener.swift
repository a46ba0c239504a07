// SocketLinkListener: the simulator's end of the USB link, on a Unix socket.

import HavenCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why the listener could not start or run.
public enum ListenerError: Error, Equatable, CustomStringConvertible {
    /// Another process is accepting connections on the path.
    case inUse(String)
    /// The path exists and is not a socket (never deleted).
    case notASocket(String)
    case permissionDenied(String)
    case io(String)

    public var description: String {
        switch self {
        case .inUse(let s): "socket in use: \(s)"
        case .notASocket(let s): "not a socket (refusing to replace it): \(s)"
        case .permissionDenied(let s): "permission denied: \(s)"
        case .io(let s): "I/O error: \(s)"
        }
    }
}

/// Serves the link protocol on a Unix-domain stream socket, standing in for
/// the device's USB bulk endpoints: one host connection at a time (others
/// wait in the backlog), its bytes fed to a `LinkServer`, the server's
/// responses written back. A closed connection ends the session
/// (`LinkServer.reset()`), like a cable pulled.
///
/// Two ways to drive it: `run(until:)` blocks; an event loop instead puts
/// `pollDescriptors()` in its own `poll(2)` set and calls `service(timeoutMilliseconds: 0)`
/// when any is ready. All sockets are non-blocking.
public final class SocketLinkListener<Backend: LinkBackend> {
    public let path: String
    public let server: LinkServer<Backend>
    /// The listening socket.
    public private(set) var listenDescriptor: Int32 = -1
    /// The connected host, or -1.
    public private(set) var connectionDescriptor: Int32 = -1
    /// A partial frame older than this is dropped (§3 of the protocol).
    public var idleResetMilliseconds: UInt64 = 2_000
    var lastByteAt: UInt64 = 0
    /// Connections served so far.
    public private(set) var connectionsAccepted = 0

    /// Binds `path` (mode 0600). A stale socket file (nothing listening) is
    /// removed; a live one is `.inUse`; anything else at the path is refused.
    public init(path: String, server: LinkServer<Backend>) throws(ListenerError) {
        self.path = path
        self.server = server
        var address = try Self.address(path)
        var st = stat()
        if lstat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFSOCK else { throw .notASocket(path) }
            let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            let alive = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            } == 0
            _ = Glibc.close(probe)
            if alive { throw .inUse("another simulator is listening on \(path)") }
            unlink(path)
        }
        let s = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard s >= 0 else { throw .io("socket(): \(Self.text(errno))") }
        let old = umask(0o177)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        let bindErrno = errno
        umask(old)
        guard bound == 0 else {
            _ = Glibc.close(s)
            if bindErrno == EACCES { throw .permissionDenied("cannot create \(path)") }
            if bindErrno == EADDRINUSE { throw .inUse(path) }
            throw .io("bind(\(path)): \(Self.text(bindErrno))")
        }
        guard listen(s, 4) == 0 else {
            let e = errno
            _ = Glibc.close(s)
            unlink(path)
            throw .io("listen(): \(Self.text(e))")
        }
        listenDescriptor = s
    }

    deinit { close() }

    static func text(_ e: Int32) -> String { String(cString: strerror(e)) }

    static func address(_ path: String) throws(ListenerError) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity else { throw .io("socket path empty or too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    static func nowMilliseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
    }

    /// The descriptors and events to wait for: the listening socket while no
    /// host is connected; otherwise the connection (readable, and writable
    /// while responses are waiting).
    public func pollDescriptors() -> [pollfd] {
        if connectionDescriptor >= 0 {
            // No POLLIN while the server cannot take bytes (its output must
            // drain first): waiting on it would spin.
            var events = server.receiveSpace.count > 0 ? Int16(POLLIN) : 0
            if server.pendingOutput.count > 0 { events |= Int16(POLLOUT) }
            return [pollfd(fd: connectionDescriptor, events: events, revents: 0)]
        }
        return listenDescriptor >= 0 ? [pollfd(fd: listenDescriptor, events: Int16(POLLIN), revents: 0)] : []
    }

    /// One step: waits up to `timeoutMilliseconds` (0: do not wait) for a
    /// connection, bytes or room to write, then accepts, reads, feeds the
    /// server and writes what it answered. Returns whether anything moved.
    @discardableResult
    public func service(timeoutMilliseconds: Int) throws(ListenerError) -> Bool {
        // One pollfd on the stack: a service step allocates nothing.
        var fd = pollfd(fd: -1, events: Int16(POLLIN), revents: 0)
        if connectionDescriptor >= 0 {
            fd.fd = connectionDescriptor
            if server.receiveSpace.count == 0 { fd.events = 0 }
            if server.pendingOutput.count > 0 { fd.events |= Int16(POLLOUT) }
        } else {
            guard listenDescriptor >= 0 else { return false }
            fd.fd = listenDescriptor
        }
        let r = poll(&fd, 1, Int32(timeoutMilliseconds))
        if r < 0 {
            if errno == EINTR { return false }
            throw .io("poll(): \(Self.text(errno))")
        }
        if connectionDescriptor < 0 {
            guard r > 0 else { return false }
            return try acceptOne()
        }
        var moved = try flush()
        if r > 0 && fd.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
            moved = try readAvailable() || moved
            moved = try flush() || moved
        }
        if !moved && server.partialInput > 0 && Self.nowMilliseconds() &- lastByteAt > idleResetMilliseconds {
            server.discardPartialInput()
        }
        return moved
    }

    func acceptOne() throws(ListenerError) -> Bool {
        let c = accept(listenDescriptor, nil, nil)
        if c >= 0 {
            _ = fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK)
            _ = fcntl(c, F_SETFD, FD_CLOEXEC)
        }
        if c < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED { return false }
            throw .io("accept(): \(Self.text(errno))")
        }
        server.reset()
        connectionDescriptor = c
        connectionsAccepted += 1
        lastByteAt = Self.nowMilliseconds()
        return true
    }

    /// Reads what is there into the server, as long as it takes bytes.
    func readAvailable() throws(ListenerError) -> Bool {
        var moved = false
        while connectionDescriptor >= 0 {
            let space = server.receiveSpace
            if space.count == 0 {
                // The server is full: its output must drain first.
                if try !flush() { return moved }
                continue
            }
            let n = recv(connectionDescriptor, space.baseAddress!, space.count, 0)
            if n > 0 {
                server.didReceive(n)
                lastByteAt = Self.nowMilliseconds()
                moved = true
                continue
            }
            if n == 0 {
                dropConnection()
                return true
            }
            let e = errno
            if e == EAGAIN || e == EWOULDBLOCK { return moved }
            if e == EINTR { continue }
            dropConnection()
            return true
        }
        return moved
    }

    /// Writes pending responses until done or the socket is full.
    func flush() throws(ListenerError) -> Bool {
        var moved = false
        while connectionDescriptor >= 0 {
            let pending = server.pendingOutput
            if pending.count == 0 { return moved }
            let n = send(connectionDescriptor, pending.baseAddress!, pending.count, Int32(MSG_NOSIGNAL))
            if n > 0 {
                server.didSend(n)
                moved = true
                continue
            }
            let e = errno
            if n < 0 && (e == EAGAIN || e == EWOULDBLOCK) { return moved }
            if n < 0 && e == EINTR { continue }
            dropConnection()
            return true
        }
        return moved
    }

    /// The host went away: end the session, wait for the next one.
    public func dropConnection() {
        if connectionDescriptor >= 0 {
            _ = Glibc.close(connectionDescriptor)
            connectionDescriptor = -1
        }
        server.reset()
    }

    /// Serves until `stop()` returns true (checked every `pollMilliseconds`).
    public func run(pollMilliseconds: Int = 100, until stop: () -> Bool = { false }) throws(ListenerError) {
        while !stop() {
            try service(timeoutMilliseconds: pollMilliseconds)
        }
    }

    /// Closes the sockets and removes the socket file.
    public func close() {
        dropConnection()
        if listenDescriptor >= 0 {
            _ = Glibc.close(listenDescriptor)
            listenDescriptor = -1
            unlink(path)
        }
    }
}
