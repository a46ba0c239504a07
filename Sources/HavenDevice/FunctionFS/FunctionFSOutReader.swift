// FunctionFSOutReader: a thread that turns bulk OUT reads into a pollable pipe.

import Glibc
import Synchronization

/// Reads the bulk OUT endpoint file on its own thread and forwards the bytes
/// into a pipe whose read end the runtime can `poll`.
///
/// Why a thread: FunctionFS endpoint files have no `poll` (it always says
/// "ready") and a read blocks until the host sends a transfer, so a single
/// loop could not wait on ep0 events and bulk data at once without Linux
/// AIO. The pipe gives the runtime one fd per source.
///
/// Why a generation: when the host goes away (DISABLE) the runtime drops the
/// partial data of the old session (`discard()`). Bytes the thread read
/// before that, but had not yet put into the pipe, are dropped too: the push
/// into the pipe happens under the same lock and checks that no discard
/// happened since the read returned.
///
/// Limit: bytes of a *new* session that the thread reads before the
/// runtime has handled the DISABLE of the old one are dropped with it. That
/// needs the runtime loop to stall for a whole re-enumeration (the host must
/// reset, re-read descriptors and set the configuration before it can send),
/// and the link protocol recovers anyway: the host's request times out and
/// is sent again.
final class FunctionFSOutReader: @unchecked Sendable {
    private let endpoint: Int32
    let pipeRead: Int32
    private let pipeWrite: Int32
    private let generation = Mutex<UInt64>(0)
    private let stopping = Atomic<Bool>(false)
    private let exited = Atomic<Bool>(false)
    private var thread = pthread_t()
    /// 32 high-speed packets per read; the kernel rounds reads up to whole
    /// packets and keeps any excess for the next read.
    static let chunk = 16384

    /// The signal that interrupts a blocked endpoint read at close (a no-op
    /// handler without SA_RESTART, so `read` returns EINTR).
    static let wakeSignal = SIGUSR2

    /// Asked pipe capacity (F_SETPIPE_SZ; the kernel caps it at
    /// /proc/sys/fs/pipe-max-size, 1 MiB by default): how much the host may
    /// send ahead while the runtime is busy writing a response.
    static let pipeCapacity: Int32 = 1 << 20
    static let setPipeSize: Int32 = 1031  // F_SETPIPE_SZ

    init(endpoint: Int32) throws(FunctionFSError) {
        self.endpoint = endpoint
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw .io(what: "creating the OUT pipe", errno: errno) }
        pipeRead = fds[0]
        pipeWrite = fds[1]
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        // Best effort: a smaller pipe only means the host waits sooner.
        _ = fcntl(pipeWrite, FunctionFSOutReader.setPipeSize, FunctionFSOutReader.pipeCapacity)
        FunctionFSOutReader.installWakeHandler()
        let context = Unmanaged.passRetained(self).toOpaque()
        let status = pthread_create(&thread, nil, { raw in
            let reader = Unmanaged<FunctionFSOutReader>.fromOpaque(raw!).takeRetainedValue()
            reader.run()
            return nil
        }, context)
        if status != 0 {
            Unmanaged<FunctionFSOutReader>.fromOpaque(context).release()
            close(pipeRead)
            close(pipeWrite)
            throw .io(what: "starting the OUT reader thread", errno: status)
        }
    }

    /// Drops every byte read so far (old session), including bytes the
    /// thread holds but has not pushed yet.
    func discard() {
        generation.withLock { value in
            value &+= 1
            var sink = [UInt8](repeating: 0, count: 4096)
            while read(pipeRead, &sink, sink.count) > 0 {}
        }
    }

    /// Stops the thread (interrupting a blocked read) and closes the pipe.
    /// The endpoint fd stays open: its owner closes it after this returns.
    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        while !exited.load(ordering: .sequentiallyConsistent) {
            // Repeated: a signal sent just before the thread entered read()
            // would otherwise be lost.
            pthread_kill(thread, FunctionFSOutReader.wakeSignal)
            usleep(2_000)
        }
        pthread_join(thread, nil)
        close(pipeRead)
        close(pipeWrite)
    }

    private func run() {
        defer { exited.store(true, ordering: .sequentiallyConsistent) }
        // The thread inherits its creator's signal mask, and Dispatch
        // worker threads block most signals: unblock the wake signal.
        var wake = sigset_t()
        sigemptyset(&wake)
        sigaddset(&wake, FunctionFSOutReader.wakeSignal)
        pthread_sigmask(SIG_UNBLOCK, &wake, nil)
        var buffer = [UInt8](repeating: 0, count: FunctionFSOutReader.chunk)
        var idleReads = 0
        while !stopping.load(ordering: .sequentiallyConsistent) {
            let count = buffer.withUnsafeMutableBytes { read(endpoint, $0.baseAddress, $0.count) }
            if count > 0 {
                idleReads = 0
                let seen = generation.withLock { $0 }
                buffer.withUnsafeBytes { push(UnsafeRawBufferPointer(rebasing: $0[0..<count]), generation: seen) }
                continue
            }
            if count < 0 && errno == EBADF { return }
            // 0 is a zero-length packet (or EOF of a stand-in file); an error
            // is a disabled endpoint (ESHUTDOWN) or an interrupt: the next
            // read waits for the host again. Back off when nothing moves.
            idleReads += 1
            if idleReads > 8 { usleep(5_000) }
        }
    }

    /// Puts `bytes` into the pipe unless a discard happened since they were read.
    private func push(_ bytes: UnsafeRawBufferPointer, generation seen: UInt64) {
        var offset = 0
        while offset < bytes.count && !stopping.load(ordering: .sequentiallyConsistent) {
            let moved = generation.withLock { value -> Int in
                guard value == seen else { return -1 }
                let written = write(pipeWrite, bytes.baseAddress! + offset, bytes.count - offset)
                return written >= 0 ? written : 0
            }
            if moved < 0 { return }
            offset += moved
            if moved == 0 {
                var descriptor = pollfd(fd: pipeWrite, events: Int16(POLLOUT), revents: 0)
                _ = poll(&descriptor, 1, 100)
            }
        }
    }

    private static let handlerInstalled = Mutex<Bool>(false)

    private static func installWakeHandler() {
        handlerInstalled.withLock { installed in
            guard !installed else { return }
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(wakeSignal, &action, nil)
            installed = true
        }
    }
}
