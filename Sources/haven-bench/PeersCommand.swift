import ArgumentParser
import CSodium
import Foundation
import HavenCore
import HavenDevice
import HavenHost
import HavenSodium

#if canImport(Glibc)
import Glibc
#endif

/// Issue 8's peer benchmarks, all measured in one run and printed as one
/// table: storing finished interviews in Haven's store against SQLCipher
/// and the `age` CLI; then memory (peak RSS of `haven-sim` through a
/// 500-question interview, and the core's static RAM for a board profile)
/// and code size (the Embedded build of HavenCore for armv7em, -Osize).
struct PeersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peers",
        abstract: "Haven's store against SQLCipher and the age CLI, memory and code size, in one run.",
        discussion: """
            Every system stores the same records (sizes drawn uniformly in 512...4096 bytes, like \
            dv_module / household_roster answer records), one durable write per record. \
            Temporary files go to $TMPDIR (or /tmp, or --tmp-dir) and are removed.
            """
    )

    @Option(help: "Records stored per system.")
    var records = 300

    @Option(help: "Rounds of the store comparison (the systems take turns); medians are reported.")
    var repetitions = 3

    @Option(help: "Folder for temporary files (default: $TMPDIR or /tmp).")
    var tmpDir: String?

    @Option(help: "Folder of the fixture forms (for large_500.xml).")
    var fixtures = "Tests/Fixtures/forms"

    @Option(help: "Folder of the board profiles.")
    var hardware = "Hardware"

    @Option(help: "Board profile for the device geometry and the static RAM figure.")
    var board = "ref-tablet-a7"

    @Flag(help: "Skip the Embedded build of HavenCore (code size), which takes a few minutes.")
    var noCodeSize = false

    @Flag(help: "Print a Markdown section for BENCHMARKS.md.")
    var markdown = false

    func validate() throws {
        guard records >= 10 else { throw ValidationError("--records must be at least 10") }
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be at least 1") }
    }

    func run() throws {
        guard sodium_init() >= 0 else { throw BenchError.failed("sodium_init failed") }
        let machine = MachineInfo.current()
        let temporary = try TemporaryFiles(parent: tmpDir)
        let profile = try BoardProfile.load(named: board, hardwareDirectory: hardware)
        let payloads = PeerRecords.make(count: records)
        let identity = AgeIdentity.generate()

        // The systems take turns, `repetitions` rounds, so that a burst of
        // other disk activity on the machine does not fall on one system
        // only; each round starts on fresh files. Medians by rate.
        var rounds: [[PeerRow]] = []
        for round in 1...repetitions {
            note("peers: round \(round)/\(repetitions): Haven, Haven (readahead off), SQLCipher DELETE, SQLCipher WAL, age CLI")
            func disk(_ row: PeerRow) -> PeerRow {
                var r = row
                r.diskPerRecord = Double(PeerStores.lastDiskBytes) / Double(row.records)
                return r
            }
            rounds.append([
                disk(try PeerStores.haven(payloads, recipient: identity.recipient, board: profile, temporary: temporary, readahead: true)),
                disk(try PeerStores.haven(payloads, recipient: identity.recipient, board: profile, temporary: temporary, readahead: false)),
                disk(try PeerStores.sqlcipher(payloads, journal: "DELETE", temporary: temporary)),
                disk(try PeerStores.sqlcipher(payloads, journal: "WAL", temporary: temporary)),
                disk(try PeerStores.ageCLI(payloads, recipient: identity.recipient, temporary: temporary)),
            ])
        }
        let rows = (0..<rounds[0].count).map { i -> PeerRow in
            var sample = rounds.map { $0[i] }.sorted { $0.rate < $1.rate }
            var row = sample[sample.count / 2]
            row.spread = "\(grouped(sample.first!.rate))–\(grouped(sample.last!.rate))"
            sample.removeAll()
            return row
        }

        note("peers: haven-sim through large_500 (peak RSS)")
        let rss = try PeerMemory.simPeakRSS(fixtures: fixtures, hardware: hardware, temporary: temporary)
        note("peers: static RAM of the core for \(board)")
        let ram = try PeerMemory.staticRAM(board: profile, fixtures: fixtures)
        var code: PeerCodeSize?
        if !noCodeSize {
            note("peers: Embedded HavenCore for armv7em, -Osize")
            code = try PeerCodeSize.measure(temporary: temporary)
        }
        let report = PeersReport(options: self, machine: machine, payloads: payloads,
                                 rows: rows, rss: rss, ram: ram, code: code)
        print(markdown ? report.markdown() : report.text())
    }
}

// MARK: - Records

enum PeerRecords {
    /// `count` records of 512...4096 bytes (a fixed xorshift sequence, so
    /// every run stores the same sizes), random bytes as content: sealed
    /// data does not compress, and SQLite does not compress either.
    static func make(count: Int) -> [[UInt8]] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        return (0..<count).map { _ in
            let size = 512 + Int(next() % 3585)
            var bytes = [UInt8](repeating: 0, count: size)
            bytes.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
            return bytes
        }
    }
}

// MARK: - Stores

/// One system's result.
struct PeerRow {
    var system: String
    var how: String
    var seconds: Double
    var records: Int
    var payloadBytes: Int
    /// Bytes the system asked the kernel to write (pwrite/write sizes, or
    /// the files' sizes), per record.
    var logicalPerRecord: Double
    /// `write_bytes` of /proc/<pid>/io (bytes sent to the block layer on
    /// behalf of the process: whole pages), per record.
    var storagePerRecord: Double
    var note: String
    /// Disk bytes written during the run (system-wide), per record.
    var diskPerRecord: Double = 0
    /// Lowest–highest rate over the rounds.
    var spread = ""

    var rate: Double { Double(records) / seconds }
}

/// `write_bytes` of /proc/<pid>/io (or self).
func procWriteBytes(_ pid: String = "self") -> Int {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("write_bytes:") {
        return Int(line.split(separator: " ").last ?? "0") ?? 0
    }
    return 0
}

/// Bytes written to the disk holding `path` since boot (sectors written in
/// /sys/block/DEV/stat × 512): system-wide, so other processes' writes
/// count too; a cross-check of the per-process figures.
func diskBytesWritten(for path: String) -> Int {
    var st = stat()
    guard stat(path, &st) == 0 else { return 0 }
    let major = (st.st_dev >> 8) & 0xfff, minor = (st.st_dev & 0xff) | ((st.st_dev >> 12) & 0xfff00)
    guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/sys/dev/block/\(major):\(minor)") else { return 0 }
    _ = link  // a partition's own stat counts its writes: what we want
    guard let text = try? String(contentsOfFile: "/sys/dev/block/\(major):\(minor)/stat", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ", omittingEmptySubsequences: true)
    guard fields.count > 6, let sectors = Int(fields[6]) else { return 0 }
    return sectors * 512
}

/// Bytes written by waited-for children (ru_oublock is write_bytes / 512).
func childrenWriteBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_CHILDREN.rawValue, &usage)
    return Int(usage.ru_oublock) * 512
}

/// A flash that forwards to another and counts what is programmed and erased.
final class CountingFlash<Inner: Flash>: Flash {
    let inner: Inner
    var programmed = 0
    var erases = 0
    /// 4 KiB pages dirtied between syncs, summed over syncs (an erase
    /// dirties every page of its block): what a page cache with 4 KiB pages
    /// sends to the device per fsync.
    var pageBytes = 0
    private var dirty = Set<Int>()
    var geometry: FlashGeometry { inner.geometry }
    init(_ inner: Inner) { self.inner = inner }
    func read(block: Int, offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(FlashError) {
        try inner.read(block: block, offset: offset, into: buffer)
    }
    func program(block: Int, offset: Int, from data: UnsafeRawBufferPointer) throws(FlashError) {
        programmed += data.count
        let start = block * geometry.eraseBlockSize + offset
        if data.count > 0 { for page in (start >> 12)...((start + data.count - 1) >> 12) { dirty.insert(page) } }
        try inner.program(block: block, offset: offset, from: data)
    }
    func erase(block: Int) throws(FlashError) {
        erases += 1
        let start = block * geometry.eraseBlockSize
        for page in (start >> 12)..<((start + geometry.eraseBlockSize) >> 12) { dirty.insert(page) }
        try inner.erase(block: block)
    }
    func sync() throws(FlashError) {
        pageBytes += dirty.count * 4096
        dirty.removeAll(keepingCapacity: true)
        try inner.sync()
    }
}

enum PeerStores {
    /// Disk bytes written (system-wide) during the last timed run.
    nonisolated(unsafe) static var lastDiskBytes = 0

    static func timedWithDisk(_ directory: String, _ body: () throws -> Void) rethrows -> Double {
        let before = diskBytesWritten(for: directory)
        let seconds = try timed(body)
        lastDiskBytes = diskBytesWritten(for: directory) - before
        return seconds
    }

    /// Seal (age v1 to one X25519 recipient, `u8 type ‖ age file`, as the
    /// safety layer's FinishedInterviewSealer does) + append on a FileFlash
    /// with the board's geometry (append returns once fsynced).
    ///
    /// `readahead: false` sets POSIX_FADV_RANDOM on the image's descriptor
    /// (found through /proc/self/fd), a control: the kernel's write_bytes
    /// for the image file is about 1 MiB per append either way (the image
    /// is cached in large folios and a dirtied folio is counted whole), so
    /// the Haven storage figure is the 4 KiB pages the appends dirty
    /// between fsyncs, counted by `CountingFlash`.
    static func haven(_ payloads: [[UInt8]], recipient: AgeRecipient, board: BoardProfile,
                      temporary: TemporaryFiles, readahead: Bool) throws -> PeerRow {
        let unit = board.flash.programUnit
        let blockSize = board.flash.eraseBlockSize
        let total = payloads.reduce(0) { $0 + $1.count + 400 + 4 * unit }
        let blocks = max(8, StoreLayout.superblockCount + total / (blockSize / 2) + 4)
        let geometry = try FlashGeometry(programUnit: unit, eraseBlockSize: blockSize, blockCount: blocks)
        let path = temporary.path("peers-haven.img")
        let file = try FileFlash(path: path, geometry: geometry, create: true)
        if !readahead {
            guard let fd = descriptor(of: path) else { throw BenchError.failed("image descriptor not found") }
            let r = posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM)
            guard r == 0 else { throw BenchError.system("posix_fadvise", r) }
        }
        unlink(path)
        defer { file.close() }
        let flash = CountingFlash(file)
        try StoreFixture.format(flash)
        let store = try StoreFixture.mount(flash)
        defer { store.close() }
        let maxSealed = 1 + AgeSealer<Sodium>.sealedSize(plaintextCount: 4096, recipientCount: 1)
        var output = [UInt8](repeating: 0, count: maxSealed)
        let programmedBefore = flash.programmed
        let pagesBefore = flash.pageBytes
        let erasesBefore = flash.erases
        let ioBefore = procWriteBytes()
        let seconds = try timedWithDisk(temporary.directory) {
            for payload in payloads {
                try output.withUnsafeMutableBytes { out in
                    try payload.withUnsafeBytes { plain in
                        try recipient.publicKey.withUnsafeBytes { keys in
                            out[0] = 1
                            let n = try AgeSealer<Sodium>.seal(plaintext: plain, recipients: keys,
                                                                output: UnsafeMutableRawBufferPointer(rebasing: out[1...]))
                            _ = try store.append(UnsafeRawBufferPointer(rebasing: out[0..<(n + 1)]))
                        }
                    }
                }
            }
        }
        let io = procWriteBytes() - ioBefore
        let n = Double(payloads.count)
        let erases = flash.erases - erasesBefore
        return PeerRow(system: readahead ? "Haven" : "Haven, readahead off",
                       how: "age seal + LogStore.append on FileFlash (fsync per append)" + (readahead ? "" : ", POSIX_FADV_RANDOM on the image"),
                       seconds: seconds, records: payloads.count, payloadBytes: payloads.reduce(0) { $0 + $1.count },
                       logicalPerRecord: Double(flash.programmed - programmedBefore) / n,
                       storagePerRecord: Double(flash.pageBytes - pagesBefore) / n,
                       note: "\(unit)-B units, \(blockSize / 1024) KiB blocks; \(erases) block erases; storage = 4 KiB pages "
                           + "dirtied per fsync; kernel write_bytes on the image file: \(grouped(Double(io) / n)) B/record")
    }

    /// The descriptor this process has open on `path`.
    static func descriptor(of path: String) -> Int32? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for name in names {
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + name),
               target == path, let fd = Int32(name) { return fd }
        }
        return nil
    }

    /// One `sqlcipher` process kept open on a pipe; PRAGMA key, synchronous
    /// FULL; one INSERT per record in autocommit (its own transaction and
    /// commit), each followed by a SELECT whose output line tells that the
    /// commit returned.
    static func sqlcipher(_ payloads: [[UInt8]], journal: String, temporary: TemporaryFiles) throws -> PeerRow {
        let dir = temporary.path("peers-sqlcipher")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = dir + "/records.db"
        let child = try LineProcess(executable: "/usr/bin/sqlcipher", arguments: ["-batch", db])
        defer { child.close() }
        // A raw 256-bit key (no PBKDF2 at open: the per-record cost is what is measured).
        try child.send("PRAGMA key = \"x'\(String(repeating: "ab", count: 32))'\";")
        try child.send("PRAGMA journal_mode = \(journal);")
        try child.send("PRAGMA synchronous = FULL;")
        try child.send("CREATE TABLE records (id INTEGER PRIMARY KEY, instance TEXT NOT NULL, body BLOB NOT NULL);")
        try child.send("SELECT 'ready';")
        var line = try child.readLine()
        if line == "wal" || line == "delete" { line = try child.readLine() }
        guard line == "ready" else { throw BenchError.failed("sqlcipher did not start: \(line ?? "no output")") }
        let statements = payloads.enumerated().map { i, p in
            "INSERT INTO records (instance, body) VALUES ('uuid:\(i)', X'\(p.map { String(format: "%02x", $0) }.joined())');\nSELECT \(i);"
        }
        let sizeBefore = directorySize(dir)
        let ioBefore = procWriteBytes(String(child.pid))
        let seconds = try timedWithDisk(temporary.directory) {
            for (i, statement) in statements.enumerated() {
                try child.send(statement)
                guard try child.readLine() == String(i) else { throw BenchError.failed("sqlcipher: no reply to insert \(i)") }
            }
        }
        let io = procWriteBytes(String(child.pid)) - ioBefore
        let grown = directorySize(dir) - sizeBefore
        try child.send("SELECT count(*) FROM records;")
        guard try child.readLine() == String(payloads.count) else { throw BenchError.failed("sqlcipher: row count") }
        let n = Double(payloads.count)
        return PeerRow(system: "SQLCipher \(sqlcipherVersion())", how: "INSERT + COMMIT per record, journal_mode=\(journal), synchronous=FULL",
                       seconds: seconds, records: payloads.count, payloadBytes: payloads.reduce(0) { $0 + $1.count },
                       logicalPerRecord: Double(grown) / n, storagePerRecord: Double(io) / n,
                       note: "CLI over a pipe, one process; logical = growth of the db files")
    }

    /// `age -r RECIPIENT -o FILE` per record (stdin: the record), then the
    /// file fsynced: what a shell script storing records would do.
    static func ageCLI(_ payloads: [[UInt8]], recipient: AgeRecipient, temporary: TemporaryFiles) throws -> PeerRow {
        let dir = temporary.path("peers-age")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ioBefore = childrenWriteBytes() + procWriteBytes()
        var logical = 0
        let seconds = try timedWithDisk(temporary.directory) {
            for (i, payload) in payloads.enumerated() {
                let path = "\(dir)/record-\(i).age"
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/usr/bin/age")
                p.arguments = ["-r", recipient.encoded, "-o", path]
                let input = Pipe()
                p.standardInput = input
                try p.run()
                try input.fileHandleForWriting.write(contentsOf: Data(payload))
                try input.fileHandleForWriting.close()
                p.waitUntilExit()
                guard p.terminationStatus == 0 else { throw BenchError.failed("age exited with \(p.terminationStatus)") }
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0, fsync(fd) == 0 else { throw BenchError.system("fsync \(path)", errno) }
                close(fd)
                logical += (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            }
            let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dfd >= 0 { fsync(dfd); close(dfd) }
        }
        let io = childrenWriteBytes() + procWriteBytes() - ioBefore
        let n = Double(payloads.count)
        return PeerRow(system: "age CLI \(ageVersion())", how: "one `age -r` process per record into its own file, fsync",
                       seconds: seconds, records: payloads.count, payloadBytes: payloads.reduce(0) { $0 + $1.count },
                       logicalPerRecord: Double(logical) / n, storagePerRecord: Double(io) / n,
                       note: "logical = file sizes; storage = children's ru_oublock × 512 + own")
    }

    static func directorySize(_ dir: String) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.reduce(0) { total, name in
            total + ((try? FileManager.default.attributesOfItem(atPath: dir + "/" + name)[.size] as? Int) ?? 0)
        }
    }

    static func sqlcipherVersion() -> String {
        let out = (try? runCapture("/usr/bin/sqlcipher", ["-version"])) ?? ""
        return String(out.split(separator: " ").first ?? "")
    }

    static func ageVersion() -> String {
        ((try? runCapture("/usr/bin/age", ["--version"])) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Runs a program and returns its standard output.
func runCapture(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    if let environment { p.environment = environment }
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// A child process spoken to in lines over pipes.
final class LineProcess {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    var pending: [UInt8] = []
    var pid: Int32 { process.processIdentifier }

    init(executable: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func send(_ line: String) throws {
        try input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
    }

    /// One line of output (nil at end of output, or after 60 s).
    func readLine() throws -> String? {
        let fd = output.fileHandleForReading.fileDescriptor
        let deadline = monotonicNanoseconds() + 60_000_000_000
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let nl = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<nl], as: UTF8.self)
                pending.removeSubrange(...nl)
                return line
            }
            guard monotonicNanoseconds() < deadline else { return nil }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 1000) <= 0 { continue }
            let got = read(fd, &buffer, buffer.count)
            if got <= 0 { return nil }
            pending += buffer[0..<got]
        }
    }

    func close() {
        try? input.fileHandleForWriting.close()
        if process.isRunning {
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
    }
}
