// `haven-bench link`: the link protocol benchmark (issue 5).
//
// 1. Pull goodput over a Unix socket: a client (`LinkClient` over
//    `SocketTransport`) lists, reads (pipelined across records) and
//    acknowledges N records served by a `SocketLinkListener` + `LinkServer`
//    on another thread, against raw socket throughput of the same bytes
//    (one thread writing them in 8 KiB writes, the other reading) in the
//    same run. Target: ratio >= 0.9.
// 2. Heap allocations per frame on the device side after start-up: counted
//    on the listener thread over a whole pull (target 0).

import ArgumentParser
import CAllocCounter
import CSodium
import Foundation
import HavenCore
import HavenDevice
import HavenHost
import HavenSodium

#if canImport(Glibc)
import Glibc
#endif

/// Records in memory with their hashes: isolates the protocol from flash
/// and decryption (the store's own costs are in `haven-bench store`).
final class BenchLinkBackend: LinkBackend {
    typealias Crypto = Sodium
    let records: [[UInt8]]
    let hashes: [[UInt8]]
    var pulled: [Bool]
    let pinned: [UInt8]

    init(records: [[UInt8]], pinned: [UInt8]) {
        self.records = records
        hashes = records.map { Sodium.sha256($0) }
        pulled = records.map { _ in false }
        self.pinned = pinned
    }

    func deviceID(into output: UnsafeMutableRawBufferPointer) { output.initializeMemory(as: UInt8.self, repeating: 0x42) }
    func boardName(into output: UnsafeMutableRawBufferPointer) -> Int { 0 }
    func firmwareVersion(into output: UnsafeMutableRawBufferPointer) -> Int { 0 }
    func deviceStatus() -> LinkDeviceStatus {
        LinkDeviceStatus(configVersion: 1, storeState: .available, freeBytes: 0, recordsWaiting: 0)
    }
    func provisioningKey(into output: UnsafeMutableRawBufferPointer) -> Bool {
        pinned.withUnsafeBytes { output.copyMemory(from: $0) }
        return true
    }
    func installConfig(_ bundle: UnsafeRawBufferPointer, sessionKey: UnsafeRawBufferPointer) throws(LinkFailure) -> UInt64 {
        throw LinkFailure(.unsupported)
    }
    func listRecords(after: UInt64, into list: inout RecordListWriter) throws(LinkFailure) {
        var i = Int(min(after, UInt64(records.count)))
        while i < records.count && !list.isFull {
            if !pulled[i], let slot = list.append(number: UInt64(i + 1), size: UInt32(records[i].count), corrupt: false) {
                hashes[i].withUnsafeBytes { slot.copyMemory(from: $0) }
            }
            i += 1
        }
    }
    func readRecord(_ number: UInt64, offset: UInt32, into output: UnsafeMutableRawBufferPointer)
        throws(LinkFailure) -> (total: UInt32, count: Int) {
        guard number >= 1, number <= UInt64(records.count) else { throw LinkFailure(.unknownRecord) }
        let r = records[Int(number - 1)]
        guard Int(offset) <= r.count else { throw LinkFailure(.badRequest) }
        let n = min(output.count, r.count - Int(offset))
        r.withUnsafeBytes { output.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[Int(offset)..<(Int(offset) + n)])) }
        return (UInt32(r.count), n)
    }
    func acknowledge(_ numbers: LinkRecordNumbers) throws(LinkFailure) -> Int {
        var changed = 0
        var i = 0
        while i < numbers.count {
            let n = Int(numbers[i])
            if n >= 1 && n <= records.count && !pulled[n - 1] {
                pulled[n - 1] = true
                changed += 1
            }
            i += 1
        }
        return changed
    }
    func setTime(_ time: LinkCivilTime) throws(LinkFailure) {}
    func cryptoErase() throws(LinkFailure) {}
}

struct LinkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "link",
        abstract: "Link protocol: pull goodput over a Unix socket vs raw socket throughput; allocations per frame.",
        discussion: """
            The pull (list, pipelined reads, SHA-256 check, acknowledge) and the raw copy of the \
            same bytes run alternately in the same process, each over a fresh Unix socket in \
            $TMPDIR (or --tmp-dir), after one warm-up round; medians are reported.
            """
    )

    @Option(help: "Records pulled per run.")
    var records = 4_000

    @Option(help: "Bytes per record (a long interview's age file is a few KiB).")
    var recordSize = 4_096

    @Option(help: "Read requests in flight.")
    var window = 32

    @Option(help: "Device output buffer, in maximum frames (LinkServer outputFrames).")
    var outputFrames = 4

    @Flag(inversion: .prefixedNo, help: "Check every record's SHA-256 on the host during the pull.")
    var verify = true

    @Option(help: "Timed repetitions after one warm-up round.")
    var repetitions = 5

    @Option(help: "Folder for the sockets (default: $TMPDIR or /tmp).")
    var tmpDir: String?

    @Flag(help: "Print a Markdown section for BENCHMARKS.md instead of the plain table.")
    var markdown = false

    @Option(name: .customLong("link-mbps"), help: "Pace the host's reads to this many MB/s in both the raw copy and the pull (the cable's rate: USB 2.0 high-speed bulk moves about 40 MB/s); 0: as fast as the socket goes.")
    var linkMBps: Double = 0

    func run() throws {
        guard sodium_init() >= 0 else { throw BenchError.failed("sodium_init failed") }
        let temporary = try TemporaryFiles(parent: tmpDir)
        let key = Sodium.ed25519KeyPair()
        let data = (0..<records).map { i in (0..<recordSize).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) } }
        let total = records * recordSize
        var pullTimes: [Double] = [], rawTimes: [Double] = [], ratios: [Double] = []
        var allocationsPerFrame = 0.0
        var frames = 0
        note("link: \(records) records x \(recordSize) B, window \(window), \(repetitions) runs + warm-up")
        for round in 0...repetitions {
            let raw = try rawCopy(data, path: temporary.path("raw-\(round).sock"))
            let pull = try self.pull(data, key: key, path: temporary.path("link-\(round).sock"))
            if round > 0 {
                rawTimes.append(raw)
                pullTimes.append(pull.seconds)
                ratios.append(raw / pull.seconds)
                allocationsPerFrame = Double(pull.allocations) / Double(max(1, pull.frames))
                frames = pull.frames
            }
        }
        // CRC-32 speed (both ends check every byte once).
        let crcTable = CRC32Table()
        var block = [UInt8](repeating: 0x5A, count: 8192)
        var sum: UInt32 = 0
        let crcSeconds = timed {
            for i in 0..<20_000 {
                block[i & 8191] = UInt8(truncatingIfNeeded: sum)
                sum &+= block.withUnsafeBytes { crcTable.checksum($0) }
            }
        }
        let crcMBs = 8192.0 * 20_000 / crcSeconds / 1e6
        if sum == 1 { note("") }
        let rawS = Summary(rawTimes), pullS = Summary(pullTimes), ratioS = Summary(ratios)
        var table = Table(["measurement", "median", "min", "max", "target", "result"],
                          rightAligned: [false, true, true, true, false, false])
        let mb = Double(total) / 1e6
        table.add(["raw socket copy, MB/s", fixed(mb / rawS.median, 0), fixed(mb / rawS.max, 0), fixed(mb / rawS.min, 0), "", ""])
        table.add(["link pull goodput, MB/s", fixed(mb / pullS.median, 0), fixed(mb / pullS.max, 0), fixed(mb / pullS.min, 0), "", ""])
        table.add(["goodput / raw", fixed(ratioS.median, 2), fixed(ratioS.min, 2), fixed(ratioS.max, 2), ">= 0.9",
                   verdict(ratioS.median >= 0.9)])
        table.add(["CRC-32 (slice-by-8), MB/s", fixed(crcMBs, 0), "", "", "", ""])
        table.add(["device heap allocations per frame", fixed(allocationsPerFrame, 3), "", "", "0",
                   verdict(allocationsPerFrame == 0)])
        if markdown {
            let machine = MachineInfo.current()
            print("""
                ## Link protocol (issue 5)

                    swift run -c release haven-bench link --markdown

                - Machine: \(machine.summary).
                - \(records) records of \(recordSize) bytes (\(fixed(mb, 1)) MB) per run; \(repetitions) runs after a warm-up.
                - Pull: `LinkClient` over `SocketTransport` → `SocketLinkListener` + `LinkServer` on another thread,
                  records from memory (no flash, no decryption); list, reads with \(window) requests in flight across
                  records, SHA-256 check of every record on the host (unless --no-verify), acknowledge;
                  device output buffer \(outputFrames) frames. \(frames) device frames per pull.
                - Raw: the same bytes written in 8 KiB `write(2)`s by one thread and read by the other over a Unix socket.
                - Link rate: \(linkMBps > 0 ? "the host's reads paced to \(fixed(linkMBps, 0)) MB/s in both (a USB 2.0 high-speed cable's bulk rate), `--link-mbps \(fixed(linkMBps, 0))`" : "unpaced (as fast as the socket goes)").
                - Allocations: `haven_thread_allocations()` on the listener thread over a whole pull
                  (poll, accept, recv, send, every frame), divided by the frames handled.

                \(table.markdown())
                """)
        } else {
            print(table.text())
        }
    }

    /// The same bytes over a bare Unix socket: seconds from the first write to the last read.
    func rawCopy(_ data: [[UInt8]], path: String) throws -> Double {
        let listenFD = try bound(path)
        defer { close(listenFD); unlink(path) }
        let writer = Thread {
            let c = accept(listenFD, nil, nil)
            var block = [UInt8](repeating: 0, count: 8192)
            var fill = 0
            for r in data {
                var at = 0
                while at < r.count {
                    let n = min(r.count - at, block.count - fill)
                    block.withUnsafeMutableBytes { b in r.withUnsafeBytes { b.baseAddress!.advanced(by: fill).copyMemory(from: $0.baseAddress! + at, byteCount: n) } }
                    fill += n
                    at += n
                    if fill == block.count {
                        writeAll(c, block, fill)
                        fill = 0
                    }
                }
            }
            if fill > 0 { writeAll(c, block, fill) }
            close(c)
        }
        let fd = try connected(path)
        defer { close(fd) }
        writer.start()
        let total = data.reduce(0) { $0 + $1.count }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var got = 0
        var out = [UInt8]()
        out.reserveCapacity(total)
        let start = monotonicNanoseconds()
        let pacer = Pacer(bytesPerSecond: linkMBps * 1e6)
        while got < total {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            guard n > 0 else { throw BenchError.failed("raw read failed") }
            pacer.consume(n)
            out.append(contentsOf: buffer[0..<n])
            if out.count >= 8 * 1024 * 1024 { out.removeAll(keepingCapacity: true) }
            got += n
        }
        return Double(monotonicNanoseconds() - start) / 1e9
    }

    /// One pull: seconds for list + reads + acknowledge, and the listener thread's allocations.
    func pull(_ data: [[UInt8]], key: Sodium.Ed25519KeyPair, path: String) throws
        -> (seconds: Double, allocations: UInt64, frames: Int) {
        let backend = BenchLinkBackend(records: data, pinned: key.publicKey)
        let server = LinkServer(backend: backend, configCapacity: 64 * 1024, outputFrames: outputFrames)
        let listener: SocketLinkListener<BenchLinkBackend>
        do { listener = try SocketLinkListener(path: path, server: server) } catch { throw BenchError.failed("\(error)") }
        let box = ListenerBox(listener)
        let thread = Thread { box.serve() }
        thread.start()
        defer { box.stop() }
        let socket = try SocketTransport(path: path)
        let client = LinkClient(transport: linkMBps > 0 ? PacedTransport(socket, bytesPerSecond: linkMBps * 1e6) : socket,
                                timeoutMilliseconds: 30_000)
        defer { client.close() }
        try client.authenticate(keyPair: key)
        let framesBefore = server.framesHandled
        let start = monotonicNanoseconds()
        (client.transport as? PacedTransport)?.pacer.restart()
        let list = try client.listAllRecords()
        guard list.count == data.count else { throw BenchError.failed("listed \(list.count) of \(data.count)") }
        var bytes = 0
        var numbers: [UInt64] = []
        numbers.reserveCapacity(list.count)
        try client.fetchRecords(list, window: window, verify: verify) { info, record in
            bytes += record.count
            numbers.append(info.number)
        }
        try client.acknowledge(numbers)
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        guard bytes == data.count * recordSize, try client.listAllRecords().isEmpty else {
            throw BenchError.failed("pull incomplete")
        }
        client.close()
        box.stop()
        return (seconds, box.allocations, server.framesHandled - framesBefore)
    }
}

/// The listener's thread: serves until stopped, counting its allocations.
final class ListenerBox<B: LinkBackend>: @unchecked Sendable {
    let listener: SocketLinkListener<B>
    let lock = NSLock()
    var stopping = false
    var stopped = false
    let done = DispatchSemaphore(value: 0)
    var allocations: UInt64 = 0

    init(_ listener: SocketLinkListener<B>) { self.listener = listener }

    func serve() {
        // Accept and the session's first frames (authentication) are start-up.
        while listener.connectionDescriptor < 0 && !isStopping { _ = try? listener.service(timeoutMilliseconds: 10) }
        var i = 0
        while i < 4 && !isStopping {
            _ = try? listener.service(timeoutMilliseconds: 10)
            if listener.server.framesHandled >= 2 { break }
            i = 0
        }
        let before = haven_thread_allocations()
        while !isStopping {
            _ = try? listener.service(timeoutMilliseconds: 5)
        }
        allocations = haven_thread_allocations() - before
        done.signal()
    }

    var isStopping: Bool { lock.withLock { stopping } }

    func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopping = true }
            return !stopping
        }
        if first {
            done.wait()
            listener.close()
        }
    }
}

func writeAll(_ fd: Int32, _ block: [UInt8], _ count: Int) {
    var at = 0
    while at < count {
        let n = block.withUnsafeBytes { write(fd, $0.baseAddress! + at, count - at) }
        if n <= 0 { return }
        at += n
    }
}

func socketAddress(_ path: String) -> sockaddr_un {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        let b = Array(path.utf8)
        raw.copyBytes(from: b)
        raw[b.count] = 0
    }
    return address
}

func bound(_ path: String) throws -> Int32 {
    var address = socketAddress(path)
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    let ok = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard ok == 0, listen(fd, 1) == 0 else { throw BenchError.failed("bind \(path)") }
    return fd
}

func connected(_ path: String) throws -> Int32 {
    var address = socketAddress(path)
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    let ok = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard ok == 0 else { throw BenchError.failed("connect \(path)") }
    return fd
}

/// A token bucket on the host's reads: the cable's rate, for both the raw
/// copy and the pull, so the ratio measures the protocol at link speed.
final class Pacer: @unchecked Sendable {
    let bytesPerSecond: Double
    var start = monotonicNanoseconds()
    var consumed = 0.0

    init(bytesPerSecond: Double) { self.bytesPerSecond = bytesPerSecond }

    func restart() {
        start = monotonicNanoseconds()
        consumed = 0
    }

    func consume(_ n: Int) {
        guard bytesPerSecond > 0 else { return }
        consumed += Double(n)
        let due = consumed / bytesPerSecond
        let elapsed = Double(monotonicNanoseconds() - start) / 1e9
        if due > elapsed { usleep(UInt32(min((due - elapsed) * 1e6, 1e6))) }
    }
}

/// A socket whose reads go through a `Pacer`.
final class PacedTransport: LinkTransport {
    let inner: SocketTransport
    let pacer: Pacer
    var name: String { inner.name }

    init(_ inner: SocketTransport, bytesPerSecond: Double) {
        self.inner = inner
        pacer = Pacer(bytesPerSecond: bytesPerSecond)
    }

    func write(_ bytes: UnsafeRawBufferPointer, timeoutMilliseconds: Int) throws(TransportError) {
        try inner.write(bytes, timeoutMilliseconds: timeoutMilliseconds)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, timeoutMilliseconds: Int) throws(TransportError) -> Int {
        let n = try inner.read(into: buffer, timeoutMilliseconds: timeoutMilliseconds)
        pacer.consume(n)
        return n
    }

    func close() { inner.close() }
}
