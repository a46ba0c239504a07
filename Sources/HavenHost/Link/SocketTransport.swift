// SocketTransport: the link over a Unix-domain stream socket (haven-sim).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A `LinkTransport` to a simulator listening on a Unix-domain stream
/// socket. Timeouts are `poll(2)` waits; writes use `MSG_NOSIGNAL` so a
/// closed peer is an error, not a SIGPIPE.
public final class SocketTransport: LinkTransport {
    public let path: String
    public var name: String { "sim:" + path }
    private var fd: Int32

    /// Connects to `path`. Errors: no socket file or nothing listening →
    /// `.noDevice` (is haven-sim running?), EACCES → `.permissionDenied`.
    public init(path: String) throws(TransportError) {
        self.path = path
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity else {
            throw .io("socket path is empty or longer than \(capacity - 1) bytes: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let s = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw .io("socket(): \(Self.errorText(errno))") }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if result != 0 {
            let e = errno
            _ = Glibc.close(s)
            switch e {
            case ENOENT: throw .noDevice("no simulator socket at \(path) (is haven-sim running?)")
            case ECONNREFUSED: throw .noDevice("nothing is listening on \(path) (haven-sim stopped; stale socket file)")
            case EACCES, EPERM: throw .permissionDenied("cannot connect to \(path): \(Self.errorText(e))")
            case ENOTSOCK: throw .noDevice("\(path) is not a socket")
            case EAGAIN: throw .busy("the simulator at \(path) is not accepting connections")
            default: throw .io("connect(\(path)): \(Self.errorText(e))")
            }
        }
        fd = s
    }

    deinit { close() }

    static func errorText(_ e: Int32) -> String { String(cString: strerror(e)) }

    /// Waits for `events` on the socket; false when the wait expired.
    private func wait(_ events: Int16, deadline: UInt64?) throws(TransportError) -> Bool {
        while true {
            var timeout: Int32 = -1
            if let deadline {
                let now = Self.nowMilliseconds()
                if now >= deadline { return false }
                timeout = Int32(min(deadline - now, UInt64(Int32.max)))
            }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let r = poll(&p, 1, timeout)
            if r > 0 { return true }
            if r == 0 { return false }
            if errno != EINTR { throw .io("poll(): \(Self.errorText(errno))") }
        }
    }

    static func nowMilliseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
    }

    public func write(_ bytes: UnsafeRawBufferPointer, timeoutMilliseconds: Int) throws(TransportError) {
        guard fd >= 0 else { throw .disconnected("\(name) is closed") }
        let deadline = timeoutMilliseconds > 0 ? Self.nowMilliseconds() + UInt64(timeoutMilliseconds) : nil
        var sent = 0
        while sent < bytes.count {
            let n = send(fd, bytes.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            if n > 0 {
                sent += n
                continue
            }
            let e = errno
            if n < 0 && (e == EAGAIN || e == EWOULDBLOCK) {
                guard try wait(Int16(POLLOUT), deadline: deadline) else {
                    throw .timedOut("\(name): wrote \(sent) of \(bytes.count) bytes in \(timeoutMilliseconds) ms")
                }
                continue
            }
            if n < 0 && e == EINTR { continue }
            if e == EPIPE || e == ECONNRESET || e == ENOTCONN {
                throw .disconnected("\(name): the simulator closed the connection")
            }
            throw .io("\(name): send(): \(Self.errorText(e))")
        }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, timeoutMilliseconds: Int) throws(TransportError) -> Int {
        guard fd >= 0 else { throw .disconnected("\(name) is closed") }
        guard buffer.count > 0 else { return 0 }
        let deadline = timeoutMilliseconds > 0 ? Self.nowMilliseconds() + UInt64(timeoutMilliseconds) : nil
        while true {
            let n = recv(fd, buffer.baseAddress!, buffer.count, Int32(MSG_DONTWAIT))
            if n > 0 { return n }
            if n == 0 { throw .disconnected("\(name): the simulator closed the connection") }
            let e = errno
            if e == EAGAIN || e == EWOULDBLOCK {
                guard try wait(Int16(POLLIN), deadline: deadline) else {
                    throw .timedOut("\(name): no answer within \(timeoutMilliseconds) ms")
                }
                continue
            }
            if e == EINTR { continue }
            if e == ECONNRESET || e == ENOTCONN { throw .disconnected("\(name): connection reset by the simulator") }
            throw .io("\(name): recv(): \(Self.errorText(e))")
        }
    }

    public func close() {
        if fd >= 0 {
            _ = Glibc.close(fd)
            fd = -1
        }
    }
}
