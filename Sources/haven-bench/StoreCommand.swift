// `haven-bench store`: the log store benchmark (issue 2).
//
// 1. Append throughput, 2 KiB records, on RAMFlash, against raw libsodium
//    XChaCha20-Poly1305 sealing of the same payloads (target ratio >= 0.8).
// 2. The same on FileFlash (fsync per append, since append is durable),
//    against seal + write(2) + fsync of the same payloads to a plain file
//    that grows, and seal + pwrite(2) + fsync into a preallocated file.
// 3. Mount time with 1k, 10k and 100k records stored (target: 100k under
//    5 ms, and mount(100k) / mount(10k) <= 1.5), on RAMFlash and FileFlash,
//    plus the replay worst case (head block full).
// 4. Heap allocations per append, read and markPulled after mount (target 0),
//    plus an append/pull/GC steady state that wraps the ring and compacts
//    the superblock.

import ArgumentParser
import CAllocCounter
import CSodium
import Foundation
import HavenCore
import HavenDevice
import HavenSodium

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Log store: append throughput, mount time and heap allocations per operation.",
        discussion: """
            Appends are compared with raw libsodium XChaCha20-Poly1305 sealing of the same \
            payloads (RAM flash) and with seal + write(2)/pwrite(2) + fsync to a plain file (file flash), \
            measured in the same run. Temporary files go to $TMPDIR (or /tmp, or --tmp-dir) \
            and are unlinked as soon as they are open, so none is left behind.
            """
    )

    @Option(help: "2 KiB records per append run on RAM flash.")
    var records = 20_000

    @Option(help: "2 KiB records per append run on file flash (one fsync per append).")
    var fileRecords = 500

    @Option(help: "Timed repetitions per throughput measurement, after one warm-up run; medians are reported.")
    var repetitions = 7

    @Option(help: "Mounts timed per store size; the median is reported.")
    var mounts = 200

    @Option(help: "Operations counted per allocation measurement.")
    var allocOperations = 10_000

    @Option(help: "Folder for temporary flash images (default: $TMPDIR or /tmp).")
    var tmpDir: String?

    @Flag(help: "Print a Markdown section for BENCHMARKS.md instead of the plain table.")
    var markdown = false

    func validate() throws {
        guard records >= 100 else { throw ValidationError("--records must be at least 100") }
        guard fileRecords >= 10 else { throw ValidationError("--file-records must be at least 10") }
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be at least 1") }
        guard mounts >= 1 else { throw ValidationError("--mounts must be at least 1") }
        guard allocOperations >= 100 else { throw ValidationError("--alloc-operations must be at least 100") }
    }

    func run() throws {
        guard sodium_init() >= 0 else { throw BenchError.failed("sodium_init failed") }
        let machine = MachineInfo.current()
        let temporary = try TemporaryFiles(parent: tmpDir)
        let bench = StoreBench(options: self, temporary: temporary)

        note("store: append throughput on RAM flash (\(records) records x \(repetitions) + warm-up)")
        let ram = try bench.appendOnRAM()
        note("store: append throughput on file flash (\(fileRecords) records x \(repetitions) + warm-up)")
        let file = try bench.appendOnFile()
        note("store: mount time (\(StoreBench.mountSizes.map(String.init).joined(separator: ", ")) records, \(mounts) mounts each)")
        let mount = try bench.mountTimes()
        note("store: heap allocations per operation (\(allocOperations) operations each)")
        let allocations = try bench.allocations()

        let report = StoreReport(options: self, machine: machine, ram: ram, file: file.appending,
                                 fileInPlace: file.preallocated, mount: mount,
                                 allocations: allocations)
        print(markdown ? report.markdown() : report.text())
    }
}

// MARK: - Fixture

/// The keys and geometry every measurement uses.
enum StoreFixture {
    static let dataKey: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
    static let kek: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 101) }

    static let programUnit = 16
    static let eraseBlockSize = 65_536

    static func geometry(blocks: Int) throws -> FlashGeometry {
        try FlashGeometry(programUnit: programUnit, eraseBlockSize: eraseBlockSize, blockCount: blocks)
    }

    /// Blocks for a store that must hold `records` records of `size` bytes
    /// without reclaiming anything: 2 superblocks, the data with a checkpoint
    /// of full size per block (conservative), and 8 spare blocks.
    static func blocks(records: Int, size: Int) throws -> Int {
        let geo = try StoreGeometry(geometry(blocks: 8))
        let usable = eraseBlockSize - geo.afterBlockHeaders - geo.checkpointSlot(ranges: StoreLayout.maxRetiredRanges)
        let bytes = records * geo.fragmentSlot(body: size)
        return StoreLayout.superblockCount + (bytes + usable - 1) / usable + 8
    }

    /// Formats `flash` with one raw-key slot.
    static func format<F: Flash>(_ flash: F) throws {
        let slot = dataKey.withUnsafeBytes { dk in
            kek.withUnsafeBytes { k in
                KeySlots<Sodium>.wrap(dataKey: dk, kek: k, index: 0, kind: .rawKey, kdfIterations: 0,
                                      kdfMemoryKiB: 0, salt: [UInt8](repeating: 9, count: 16))
            }
        }
        try dataKey.withUnsafeBytes { dk in try Superblock<F, Sodium>.format(flash, dataKey: dk, slots: [slot]) }
    }

    static func mount<F: Flash>(_ flash: F) throws -> LogStore<F, Sodium> {
        try dataKey.withUnsafeBytes { dk in try LogStore<F, Sodium>(flash: flash, dataKey: dk) }
    }
}

/// A heap buffer allocated once, freed by `free()`.
struct Buffer {
    let bytes: UnsafeMutableRawBufferPointer

    init(count: Int, seed: UInt64 = 1) {
        bytes = .allocate(byteCount: count, alignment: 16)
        var rng = SplitMix64(seed: seed)
        for i in 0..<count { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
    }

    var raw: UnsafeRawBufferPointer { UnsafeRawBufferPointer(bytes) }

    /// Stamps `value` into the first 8 bytes, so every record differs.
    @inline(__always)
    func stamp(_ value: Int) {
        bytes.storeBytes(of: UInt64(truncatingIfNeeded: value).littleEndian, toByteOffset: 0, as: UInt64.self)
    }

    func free() { bytes.deallocate() }
}

/// Raw libsodium XChaCha20-Poly1305: a fixed key, nonces from a counter, one
/// preallocated output buffer (plaintext + 16-byte tag).
struct RawSealer {
    let key = Buffer(count: 32, seed: 77)
    let nonce = Buffer(count: 24, seed: 78)
    let output: Buffer

    init(plaintextSize: Int) { output = Buffer(count: plaintextSize + 16) }

    @inline(__always)
    func seal(_ plaintext: UnsafeRawBufferPointer, counter: Int) {
        nonce.bytes.storeBytes(of: UInt64(truncatingIfNeeded: counter).littleEndian, toByteOffset: 16,
                               as: UInt64.self)
        let rc = crypto_aead_xchacha20poly1305_ietf_encrypt(
            output.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), nil,
            plaintext.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count),
            nil, 0, nil,
            nonce.raw.baseAddress!.assumingMemoryBound(to: UInt8.self),
            key.raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
        precondition(rc == 0, "crypto_aead_xchacha20poly1305_ietf_encrypt failed")
    }

    func free() {
        key.free()
        nonce.free()
        output.free()
    }
}

// MARK: - Results

/// Throughput of one comparison: seconds per timed run, for each side.
struct ThroughputResult {
    var records: Int
    var recordSize: Int
    var blocks: Int
    var haven: [Double]
    var baseline: [Double]

    /// Records per second of each run.
    func rates(_ seconds: [Double]) -> Summary { Summary(seconds.map { Double(records) / $0 }) }
    var havenRate: Summary { rates(haven) }
    var baselineRate: Summary { rates(baseline) }
    /// Median haven rate over median baseline rate.
    var ratio: Double { havenRate.median / baselineRate.median }
    func megabytes(_ rate: Double) -> Double { rate * Double(recordSize) / 1e6 }
}

struct MountRow {
    var records: Int
    var note: String
    var ram: Summary
    var file: Summary
    /// Heap allocations of one mount (information; mount may allocate).
    var allocations: UInt64
}

struct MountResult {
    var blocks: Int
    var recordSize: Int
    var rows: [MountRow]
}

struct AllocationRow {
    var operation: String
    var count: Int
    var allocations: UInt64
    /// Whether the zero-allocation rule applies.
    var targeted: Bool
    var detail: String = ""
    var perOperation: Double { Double(allocations) / Double(count) }
}

struct AllocationResult {
    var blocks: Int
    var rows: [AllocationRow]
}

// MARK: - Measurements

struct StoreBench {
    static let appendRecordSize = 2048
    static let mountRecordSize = 256
    static let mountSizes = [1_000, 10_000, 100_000]
    /// One geometry for every size: holds the largest store (100k records
    /// of 256 bytes) without reclaiming, plus 8 spare blocks.
    static func mountBlocks() throws -> Int {
        try StoreFixture.blocks(records: mountSizes.max()!, size: mountRecordSize)
    }
    static let mountWarmups = 10
    static let warmupOperations = 10
    /// The steady-state allocation run: a small ring reclaimed as it goes.
    static let steadyRingBlocks = 24
    static let steadyAppends = 25_000

    let options: StoreCommand
    let temporary: TemporaryFiles

    // MARK: 1. RAM flash

    func appendOnRAM() throws -> ThroughputResult {
        let n = options.records
        let size = Self.appendRecordSize
        let blocks = try StoreFixture.blocks(records: n, size: size)
        let payload = Buffer(count: size)
        let sealer = RawSealer(plaintextSize: size)
        defer { payload.free(); sealer.free() }

        func haven() throws -> Double {
            let flash = RAMFlash(geometry: try StoreFixture.geometry(blocks: blocks))
            try StoreFixture.format(flash)
            let store = try StoreFixture.mount(flash)
            defer { store.close() }
            let record = payload.raw
            return try timed {
                for i in 0..<n {
                    payload.stamp(i)
                    try store.append(record)
                }
            }
        }
        func raw() -> Double {
            let record = payload.raw
            return timed {
                for i in 0..<n {
                    payload.stamp(i)
                    sealer.seal(record, counter: i)
                }
            }
        }

        _ = try haven()
        _ = raw()
        var result = ThroughputResult(records: n, recordSize: size, blocks: blocks, haven: [], baseline: [])
        for _ in 0..<options.repetitions {
            result.haven.append(try haven())
            result.baseline.append(raw())
        }
        return result
    }

    // MARK: 2. File flash

    /// Haven on FileFlash against two baselines: the same seal followed by
    /// write(2) + fsync to a plain file that grows (the baseline issue 2 names), and
    /// pwrite(2) + fsync into a preallocated file (no size change, like the
    /// flash image). Both results share the Haven samples.
    func appendOnFile() throws -> (appending: ThroughputResult, preallocated: ThroughputResult) {
        let n = options.fileRecords
        let size = Self.appendRecordSize
        let blocks = try StoreFixture.blocks(records: n, size: size)
        let payload = Buffer(count: size)
        let sealer = RawSealer(plaintextSize: size)
        defer { payload.free(); sealer.free() }

        func haven() throws -> Double {
            let path = temporary.path("store.img")
            let flash = try FileFlash(path: path, geometry: try StoreFixture.geometry(blocks: blocks), create: true)
            unlink(path)
            defer { flash.close() }
            try StoreFixture.format(flash)
            let store = try StoreFixture.mount(flash)
            defer { store.close() }
            let record = payload.raw
            return try timed {
                for i in 0..<n {
                    payload.stamp(i)
                    try store.append(record)
                }
            }
        }
        /// Seal, then write the ciphertext at the end of the file (or at its
        /// slot of a preallocated file), then fsync; per record.
        func raw(preallocated: Bool) throws -> Double {
            let path = temporary.path("raw.bin")
            let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw BenchError.system("open \(path)", errno) }
            unlink(path)
            defer { close(fd) }
            let sealed = UnsafeRawBufferPointer(sealer.output.bytes)
            func put(_ at: Int?) throws {
                var done = 0
                while done < sealed.count {
                    let w = at.map { pwrite(fd, sealed.baseAddress! + done, sealed.count - done, off_t($0 + done)) }
                        ?? write(fd, sealed.baseAddress! + done, sealed.count - done)
                    if w < 0 {
                        if errno == EINTR { continue }
                        throw BenchError.system("write", errno)
                    }
                    done += w
                }
            }
            if preallocated {
                sealer.output.bytes.initializeMemory(as: UInt8.self, repeating: 0xFF)
                for i in 0..<n { try put(i * sealed.count) }
                guard fsync(fd) == 0 else { throw BenchError.system("fsync", errno) }
            }
            let record = payload.raw
            return try timed {
                for i in 0..<n {
                    payload.stamp(i)
                    sealer.seal(record, counter: i)
                    try put(preallocated ? i * sealed.count : nil)
                    guard fsync(fd) == 0 else { throw BenchError.system("fsync", errno) }
                }
            }
        }

        _ = try haven()
        _ = try raw(preallocated: false)
        _ = try raw(preallocated: true)
        var appending = ThroughputResult(records: n, recordSize: size, blocks: blocks, haven: [], baseline: [])
        var inPlace = appending
        for _ in 0..<options.repetitions {
            let h = try haven()
            appending.haven.append(h)
            inPlace.haven.append(h)
            appending.baseline.append(try raw(preallocated: false))
            inPlace.baseline.append(try raw(preallocated: true))
        }
        return (appending, inPlace)
    }

    // MARK: 3. Mount

    func mountTimes() throws -> MountResult {
        let blocks = try Self.mountBlocks()
        let geometry = try StoreFixture.geometry(blocks: blocks)
        let payload = Buffer(count: Self.mountRecordSize)
        defer { payload.free() }
        /// A store of `n` records, closed; `stop` ends the build early.
        func build(_ n: Int, stop: ((LogStore<RAMFlash, Sodium>, Int) -> Bool)? = nil) throws -> (RAMFlash, Int) {
            let flash = RAMFlash(geometry: geometry)
            try StoreFixture.format(flash)
            let store = try StoreFixture.mount(flash)
            defer { store.close() }
            for i in 0..<n {
                payload.stamp(i)
                do { try store.append(payload.raw) } catch {
                    throw BenchError.failed("building the \(n)-record mount store: append \(i + 1) failed: \(error) "
                        + "(\(store.freeBlocks) of \(store.ringBlockCount) blocks free)")
                }
                if let stop, stop(store, i + 1) { return (flash, i + 1) }
            }
            return (flash, n)
        }
        func measure(_ flash: RAMFlash, _ n: Int, note: String) throws -> MountRow {
            let ram = try timeMounts(flash, expectedRecords: n)
            let allocations = try mountAllocations(flash)
            let path = temporary.path("mount-\(n).img")
            try writeImage(flash, to: path)
            let fileFlash: FileFlash
            do {
                fileFlash = try FileFlash(path: path, geometry: geometry, create: false)
                unlink(path)
            } catch {
                unlink(path)
                throw error
            }
            defer { fileFlash.close() }
            let file = try timeMounts(fileFlash, expectedRecords: n)
            return MountRow(records: n, note: note, ram: ram, file: file, allocations: allocations)
        }

        var rows: [MountRow] = []
        for n in Self.mountSizes {
            let (flash, _) = try build(n)
            rows.append(try measure(flash, n, note: ""))
        }
        // Mount replays the head block, so its worst case is a full head
        // block: find the first count above the largest size at which the
        // next append opens a new block (free blocks drop), and measure the
        // count just before it.
        let largest = Self.mountSizes.max()!
        var free = Int.max
        let (_, opened) = try build(largest + 10_000) { store, count in
            defer { free = store.freeBlocks }
            return count > largest + 1 && store.freeBlocks < free
        }
        let (full, n) = try build(opened - 1)
        rows.append(try measure(full, n, note: "head block full"))
        return MountResult(blocks: blocks, recordSize: Self.mountRecordSize, rows: rows)
    }

    /// Milliseconds per `LogStore(flash:dataKey:)`; the close is not timed.
    private func timeMounts<F: Flash>(_ flash: F, expectedRecords: Int) throws -> Summary {
        try StoreFixture.dataKey.withUnsafeBytes { key in
            for _ in 0..<Self.mountWarmups {
                let store = try LogStore<F, Sodium>(flash: flash, dataKey: key)
                guard store.nextRecordID == UInt64(expectedRecords + 1) else {
                    throw BenchError.failed("mount found next id \(store.nextRecordID), expected \(expectedRecords + 1)")
                }
                store.close()
            }
            var samples: [Double] = []
            samples.reserveCapacity(options.mounts)
            for _ in 0..<options.mounts {
                let start = monotonicNanoseconds()
                let store = try LogStore<F, Sodium>(flash: flash, dataKey: key)
                let end = monotonicNanoseconds()
                store.close()
                samples.append(Double(end - start) / 1e6)
            }
            return Summary(samples)
        }
    }

    private func mountAllocations<F: Flash>(_ flash: F) throws -> UInt64 {
        try StoreFixture.dataKey.withUnsafeBytes { key in
            let before = haven_thread_allocations()
            let store = try LogStore<F, Sodium>(flash: flash, dataKey: key)
            let after = haven_thread_allocations()
            store.close()
            return after - before
        }
    }

    /// The RAM image as a flash image file (synced; it stays in the page cache).
    private func writeImage(_ flash: RAMFlash, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BenchError.system("open \(path)", errno) }
        defer { close(fd) }
        let failure: Int32 = flash.withImage { image in
            var done = 0
            while done < image.count {
                let w = write(fd, image.baseAddress! + done, image.count - done)
                if w < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                done += w
            }
            return fsync(fd) == 0 ? 0 : errno
        }
        if failure != 0 {
            unlink(path)
            throw BenchError.system("writing \(path)", failure)
        }
    }

    // MARK: 4. Allocations

    func allocations() throws -> AllocationResult {
        let n = options.allocOperations
        let warm = Self.warmupOperations
        let size = Self.appendRecordSize
        // Room for every append plus the "pulled" entries of the markPulled run.
        let blocks = try StoreFixture.blocks(records: n + warm, size: size)
            + StoreFixture.blocks(records: n + warm, size: 24)
        let flash = RAMFlash(geometry: try StoreFixture.geometry(blocks: blocks))
        try StoreFixture.format(flash)
        let store = try StoreFixture.mount(flash)
        defer { store.close() }
        let payload = Buffer(count: size)
        let output = Buffer(count: size)
        defer { payload.free(); output.free() }
        var rows: [AllocationRow] = []

        // append
        for i in 0..<warm {
            payload.stamp(i)
            try store.append(payload.raw)
        }
        var before = haven_thread_allocations()
        for i in 0..<n {
            payload.stamp(i)
            try store.append(payload.raw)
        }
        rows.append(AllocationRow(operation: "append 2 KiB", count: n,
                                  allocations: haven_thread_allocations() - before, targeted: true))

        // read, in a scattered order (records that span two blocks included)
        let stored = Int(store.nextRecordID - 1)
        func id(_ i: Int) -> UInt64 { UInt64(1 + (i &* 7919) % stored) }
        for i in 0..<warm { _ = try store.read(id(i), into: output.bytes) }
        before = haven_thread_allocations()
        for i in 0..<n { _ = try store.read(id(i + warm), into: output.bytes) }
        rows.append(AllocationRow(operation: "read(id, into:) 2 KiB", count: n,
                                  allocations: haven_thread_allocations() - before, targeted: true))

        // markPulled, one id at a time in order (how a host pulls)
        for i in 0..<warm { try store.markPulled(UInt64(1 + i)) }
        before = haven_thread_allocations()
        for i in 0..<n { try store.markPulled(UInt64(1 + warm + i)) }
        rows.append(AllocationRow(operation: "markPulled(id)", count: n,
                                  allocations: haven_thread_allocations() - before, targeted: true))

        // collectGarbage once, over everything just pulled (information)
        before = haven_thread_allocations()
        let reclaimed = try store.collectGarbage()
        rows.append(AllocationRow(operation: "collectGarbage()", count: 1,
                                  allocations: haven_thread_allocations() - before, targeted: false,
                                  detail: "one call, \(reclaimed) blocks reclaimed"))

        rows.append(try steadyState(payload: payload))
        return AllocationResult(blocks: blocks, rows: rows)
    }

    /// Appends on a small ring, pulling and collecting as it goes: covers
    /// block reuse after a wrap and superblock compaction (anchor area full).
    private func steadyState(payload: Buffer) throws -> AllocationRow {
        let flash = RAMFlash(geometry: try StoreFixture.geometry(blocks: Self.steadyRingBlocks))
        try StoreFixture.format(flash)
        let store = try StoreFixture.mount(flash)
        defer { store.close() }
        let n = Self.steadyAppends
        var pulled: UInt64 = 1
        func step(_ i: Int) throws {
            payload.stamp(i)
            try store.append(payload.raw)
            if i % 32 == 31 {
                // Keep the newest few unpulled, as a device between pulls would.
                let upper = store.nextRecordID - 4
                if upper > pulled {
                    try store.markPulled(pulled, upper)
                    pulled = upper
                }
                try store.collectGarbage()
            }
        }
        for i in 0..<Self.warmupOperations { try step(i) }
        let generation = store.superblockGeneration
        var erasesBefore: UInt32 = 0
        for b in StoreLayout.superblockCount..<Self.steadyRingBlocks { erasesBefore += flash.eraseCount(block: b) }
        let before = haven_thread_allocations()
        for i in 0..<n { try step(Self.warmupOperations + i) }
        let allocations = haven_thread_allocations() - before
        var erases: UInt32 = 0
        for b in StoreLayout.superblockCount..<Self.steadyRingBlocks { erases += flash.eraseCount(block: b) }
        erases -= erasesBefore
        let ring = Self.steadyRingBlocks - StoreLayout.superblockCount
        let compactions = store.superblockGeneration &- generation
        return AllocationRow(operation: "append 2 KiB + markPulled + collectGarbage", count: n,
                             allocations: allocations, targeted: true,
                             detail: "\(ring)-block ring: \(erases) block erases (\(fixed(Double(erases) / Double(ring), 1)) wraps), "
                                + "\(compactions) superblock compactions")
    }
}

// MARK: - Report

struct StoreReport {
    let options: StoreCommand
    let machine: MachineInfo
    let ram: ThroughputResult
    let file: ThroughputResult
    let fileInPlace: ThroughputResult
    let mount: MountResult
    let allocations: AllocationResult

    static let appendRatioTarget = 0.8
    static let mountLimitMs = 5.0
    static let mountGrowthLimit = 1.5

    var mount100k: MountRow? { mount.rows.first { $0.records == 100_000 && $0.note.isEmpty } }
    var mount10k: MountRow? { mount.rows.first { $0.records == 10_000 && $0.note.isEmpty } }
    var growth: Double? {
        guard let a = mount100k, let b = mount10k else { return nil }
        return a.ram.median / b.ram.median
    }
    var fileGrowth: Double? {
        guard let a = mount100k, let b = mount10k else { return nil }
        return a.file.median / b.file.median
    }

    /// The command line that reproduces this run.
    var command: String {
        var args = Array(CommandLine.arguments.dropFirst())
        if args.first == "store" { args.removeFirst() }
        return (["Tools/bench-store"] + args).joined(separator: " ")
    }

    // MARK: Tables

    func throughputTable() -> Table {
        var t = Table(["run", "records", "Haven rec/s", "Haven MB/s", "baseline", "baseline rec/s",
                       "baseline MB/s", "ratio", "target", "result"],
                      rightAligned: [false, true, true, true, false, true, true, true, false, false])
        func row(_ name: String, _ r: ThroughputResult, _ baseline: String, target: Bool) {
            let h = r.havenRate.median, b = r.baselineRate.median
            t.add([name, grouped(Double(r.records)), grouped(h), fixed(r.megabytes(h), 1), baseline, grouped(b),
                   fixed(r.megabytes(b), 1), fixed(r.ratio, 2),
                   target ? "≥ \(fixed(Self.appendRatioTarget, 1))" : "none",
                   target ? verdict(r.ratio >= Self.appendRatioTarget) : "-"])
        }
        row("append 2 KiB, RAMFlash", ram, "libsodium seal", target: true)
        row("append 2 KiB, FileFlash", file, "seal + write + fsync", target: false)
        row("append 2 KiB, FileFlash", fileInPlace, "seal + pwrite + fsync", target: false)
        return t
    }

    func spreadTable() -> Table {
        var t = Table(["run", "Haven rec/s min–max", "baseline rec/s min–max"], rightAligned: [false, true, true])
        func row(_ name: String, _ r: ThroughputResult) {
            let h = r.havenRate, b = r.baselineRate
            t.add([name, "\(grouped(h.min))–\(grouped(h.max))", "\(grouped(b.min))–\(grouped(b.max))"])
        }
        row("append 2 KiB, RAMFlash", ram)
        row("append 2 KiB, FileFlash / write", file)
        row("append 2 KiB, FileFlash / pwrite", fileInPlace)
        return t
    }

    func mountTable() -> Table {
        var t = Table(["records stored", "RAMFlash ms (median)", "RAMFlash min–max", "FileFlash ms (median)",
                       "FileFlash min–max", "allocations per mount"],
                      rightAligned: [true, true, true, true, true, true])
        for r in mount.rows {
            t.add([grouped(Double(r.records)) + (r.note.isEmpty ? "" : " (\(r.note))"), fixed(r.ram.median, 3),
                   "\(fixed(r.ram.min, 3))–\(fixed(r.ram.max, 3))", fixed(r.file.median, 3),
                   "\(fixed(r.file.min, 3))–\(fixed(r.file.max, 3))", String(r.allocations)])
        }
        return t
    }

    func allocationTable() -> Table {
        var t = Table(["operation", "operations", "allocations", "per operation", "target", "result", "notes"],
                      rightAligned: [false, true, true, true, false, false, false])
        for r in allocations.rows {
            t.add([r.operation, grouped(Double(r.count)), String(r.allocations), fixed(r.perOperation, 3),
                   r.targeted ? "0" : "none", r.targeted ? verdict(r.allocations == 0) : "-", r.detail])
        }
        return t
    }

    /// (text, met) for each stated target.
    func targets() -> [(String, Bool)] {
        var out: [(String, Bool)] = []
        out.append(("append throughput on RAMFlash ≥ 0.8 × raw libsodium: \(fixed(ram.ratio, 2))",
                    ram.ratio >= Self.appendRatioTarget))
        if let m = mount100k {
            out.append(("mount with 100k records < 5 ms (RAMFlash): \(fixed(m.ram.median, 3)) ms",
                        m.ram.median < Self.mountLimitMs))
            out.append(("mount with 100k records < 5 ms (FileFlash, page cache warm): \(fixed(m.file.median, 3)) ms",
                        m.file.median < Self.mountLimitMs))
        }
        if let g = growth {
            out.append(("mount(100k) / mount(10k) ≤ 1.5 (RAMFlash): \(fixed(g, 2))", g <= Self.mountGrowthLimit))
        }
        if let g = fileGrowth {
            out.append(("mount(100k) / mount(10k) ≤ 1.5 (FileFlash): \(fixed(g, 2))", g <= Self.mountGrowthLimit))
        }
        for r in allocations.rows where r.targeted {
            out.append(("0 heap allocations per operation, \(r.operation): \(fixed(r.perOperation, 3))",
                        r.allocations == 0))
        }
        return out
    }

    // MARK: Setup notes

    var setup: [String] {
        let g = "program unit \(StoreFixture.programUnit) B, erase block \(StoreFixture.eraseBlockSize / 1024) KiB"
        return [
            "Machine: \(machine.summary).",
            "Flash geometry everywhere: \(g).",
            "Append, RAMFlash: \(grouped(Double(ram.records))) records of 2 KiB per run on a fresh store of "
                + "\(ram.blocks) blocks (holds the whole run; nothing is pulled or collected). Baseline: "
                + "`crypto_aead_xchacha20poly1305_ietf_encrypt` of the same 2 KiB payloads, no associated data, "
                + "nonce from a counter, one preallocated output buffer. One warm-up run each, then "
                + "\(options.repetitions) timed run\(options.repetitions == 1 ? "" : "s") each, alternating Haven and baseline; medians reported, ratio = median "
                + "Haven rate / median baseline rate. MB = 10^6 bytes of payload.",
            "Append, FileFlash: \(grouped(Double(file.records))) records of 2 KiB per run on a fresh image of "
                + "\(file.blocks) blocks in a temp file; `append` returns once durable (fsync per append). "
                + "Baseline: the same libsodium seal, then write(2) of the 2,064-byte ciphertext to a plain "
                + "file that grows with each record (`write + fsync`), and a second baseline that writes each "
                + "ciphertext at its place in a preallocated file (`pwrite + fsync`; no size change, as with "
                + "the flash image). Same repetitions and medians; no target.",
            "Mount: \(mount.blocks) blocks (\(mount.blocks * StoreFixture.eraseBlockSize / (1024 * 1024)) MiB; "
                + "sized for 100k records) for all three sizes; N records of \(mount.recordSize) bytes appended, "
                + "none pulled, store closed; then `LogStore(flash:dataKey:)` timed \(options.mounts) times "
                + "after \(StoreBench.mountWarmups) warm-up mounts (median; the close is not timed). FileFlash: "
                + "the same image written to a temp file (page cache warm). Mount reads the anchors and replays "
                + "the head block only, so the last row is the replay worst case: the first count above 100k "
                + "whose head block is full.",
            "Allocations: `haven_thread_allocations()` (CAllocCounter) read around \(grouped(Double(options.allocOperations))) "
                + "operations after mount and \(StoreBench.warmupOperations) warm-up operations, preallocated "
                + "buffers, store of \(allocations.blocks) blocks. Steady state: \(grouped(Double(StoreBench.steadyAppends))) "
                + "appends on a \(StoreBench.steadyRingBlocks)-block flash, pulling all but the newest 4 "
                + "records and collecting garbage every 32 appends.",
        ]
    }

    // MARK: Output

    func text() -> String {
        var out: [String] = ["Haven store benchmark", ""]
        out += setup.map { "* " + $0 }
        out += ["", "Append throughput (medians):", throughputTable().text(), "",
                "Spread over the \(options.repetitions) runs:", spreadTable().text(), "",
                "Mount time:", mountTable().text(), "",
                "Heap allocations:", allocationTable().text(), "", "Targets:"]
        for (text, ok) in targets() { out.append("  \(verdict(ok))  \(text)") }
        return out.joined(separator: "\n")
    }

    func markdown() -> String {
        var out: [String] = [
            "## Store", "",
            "Command (from the repository root):", "",
            "```sh", command, "```", "",
        ]
        out += setup.map { "- " + $0 }
        out += ["", "### Append throughput", "", throughputTable().markdown(), "",
                "Spread over the \(options.repetitions) timed runs:", "", spreadTable().markdown(), "",
                "### Mount time", "", mountTable().markdown(), "",
                "### Heap allocations", "", allocationTable().markdown(), "",
                "### Targets", "",
                "| target | result |", "|---|---|"]
        for (text, ok) in targets() { out.append("| \(text) | \(verdict(ok)) |") }
        return out.joined(separator: "\n")
    }
}
