import Glibc

/// The device's single-threaded event loop (haven-sim and haven-device): poll(2) on every registered
/// descriptor (stdin, the resize pipe, and — once the link is plugged in —
/// the link socket's descriptors) with a timer for auto-lock ticks.
/// Adding an input source is one `add(fd:)` call; handlers may add and
/// remove sources (a link listener adding an accepted connection).
public final class EventLoop {
    public typealias Handler = (_ fd: Int32, _ revents: Int16) -> Void

    private var sources: [(fd: Int32, events: Int16, handler: Handler)] = []
    /// Milliseconds between timer calls.
    public var timerMilliseconds: Int32 = 1000
    public var onTimer: () -> Void = {}
    /// Called after every handler or timer run (front ends redraw here).
    public var afterEach: () -> Void = {}
    public private(set) var running = true

    public init() {}

    public func add(fd: Int32, events: Int16 = Int16(POLLIN), _ handler: @escaping Handler) {
        remove(fd: fd)
        sources.append((fd, events, handler))
    }

    public func remove(fd: Int32) {
        sources.removeAll { $0.fd == fd }
    }

    public func stop() { running = false }

    public func run() {
        var nextTimer = now() + Int64(timerMilliseconds)
        while running {
            var fds = sources.map { pollfd(fd: $0.fd, events: $0.events, revents: 0) }
            let wait = Int32(clamping: max(0, nextTimer - now()))
            let n = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), wait) }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            if n > 0 {
                let ready = fds.filter { $0.revents != 0 }
                for p in ready where running {
                    // The source may have been removed by an earlier handler.
                    guard let source = sources.first(where: { $0.fd == p.fd }) else { continue }
                    source.handler(p.fd, p.revents)
                    afterEach()
                }
            }
            if now() >= nextTimer && running {
                nextTimer = now() + Int64(timerMilliseconds)
                onTimer()
                afterEach()
            }
        }
    }

    private func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec / 1_000_000)
    }
}

/// Writes all of `bytes` to `fd` (retrying short writes and EINTR).
public func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
    var done = 0
    while done < bytes.count {
        let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        done += n
    }
}
