// FileFlash: a flash part backed by a file (the simulator's chip), or by a raw
// block device such as an eMMC partition used without a file system.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import HavenCore

/// Why a flash image could not be opened or created.
public enum FileFlashError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `open(2)` (or creating the image) failed for `path` with `errno`.
    case open(path: String, errno: Int32)
    /// The image exists but is not `geometry.totalSize` bytes long: it belongs
    /// to another board profile, or it was truncated. Never resized silently.
    case sizeMismatch(expected: Int, found: Int)
    /// The path names something that is neither a regular file nor a block
    /// device (a directory, a FIFO, a character device...).
    case notAFile(path: String)
    /// The image does not exist and `create` was false.
    case missing(path: String)
    /// A read, write, stat, seek or sync on the image failed with `errno`.
    case io(errno: Int32)
    /// `endurance` must be at least 1 when given.
    case invalidEndurance(Int)

    public var description: String {
        switch self {
        case .open(let path, let code):
            return "cannot open flash image \(path): \(errorText(code))"
        case .sizeMismatch(let expected, let found):
            return "flash image is \(found) bytes but the geometry needs exactly \(expected) bytes "
                + "(wrong board profile, or a truncated image); refusing to use it"
        case .notAFile(let path):
            return "flash image \(path) is not a regular file or block device"
        case .missing(let path):
            return "flash image \(path) does not exist"
        case .io(let code):
            return "flash image I/O error: \(errorText(code))"
        case .invalidEndurance(let value):
            return "invalid endurance \(value): must be at least 1 erase per block"
        }
    }
}

/// Text for an errno value, without touching the global `errno`.
func errorText(_ code: Int32) -> String {
    if let text = strerror(code) {
        return "\(String(cString: text)) (errno \(code))"
    }
    return "errno \(code)"
}

/// Runs a system call, retrying on EINTR, and turns a failure into a typed
/// error right here, while `errno` is still the call's own.
@inline(__always)
func retryingEINTR<E: Error>(_ call: () -> Int, error: (Int32) -> E) throws(E) -> Int {
    while true {
        let result = call()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        throw error(code)
    }
}

/// A flash part stored in a file of exactly `geometry.totalSize` bytes: byte
/// `block * eraseBlockSize + offset` of the file is that byte of the chip.
///
/// It enforces the `Flash` contract exactly as a chip would, so the store is
/// tested against real rules: reads and programs stay inside one block,
/// programs are whole program units and only over erased (0xFF) bytes (the
/// target range is read and checked first; a violation is `.notErased` at the
/// first offending byte and writes nothing), erase sets a whole block to 0xFF.
///
/// The file models the chip's *array* only, not its wear counters. Erase
/// counts are kept in memory and start at zero on every open. With an
/// `endurance` of N, each block may be erased N times after opening; the next
/// erase fails with `.wornOut`, and from then on that block also refuses
/// `program` with `.wornOut` (reads still work, as on a real part).
///
/// `read` uses the caller's buffer and never allocates; `program` and `erase`
/// use one scratch buffer allocated when the image is opened.
/// Not thread-safe: like the chip, it is one resource with one owner.
public final class FileFlash: Flash {
    public let geometry: FlashGeometry
    /// The path the image was opened from.
    public let path: String
    /// Erase limit per block, counted since open; `nil` for no limit.
    public let endurance: Int?

    private var fd: Int32
    private var eraseCounts: [Int]
    private var worn: [Bool]
    /// Scratch for erase checks and 0xFF fills: min(eraseBlockSize, 64 KiB).
    private let scratch: UnsafeMutableRawBufferPointer

    private static let scratchLimit = 64 * 1024

    /// Opens the image at `path`, or creates it filled with 0xFF when it does
    /// not exist and `create` is true. An existing image of any other size than
    /// `geometry.totalSize` is refused with `.sizeMismatch`. Creation is
    /// atomic: the image is filled under a temporary name, synced, then
    /// renamed, so a crash while creating never leaves a short image behind.
    public init(
        path: String,
        geometry: FlashGeometry,
        create: Bool = true,
        endurance: Int? = nil
    ) throws(FileFlashError) {
        if let endurance, endurance < 1 { throw .invalidEndurance(endurance) }
        self.geometry = geometry
        self.path = path
        self.endurance = endurance

        var descriptor = Int32(-1)
        do {
            descriptor = try Self.openExisting(path: path)
        } catch .open(_, let code) where code == ENOENT {
            guard create else { throw .missing(path: path) }
            try Self.createImage(path: path, size: geometry.totalSize)
            descriptor = try Self.openExisting(path: path)
        }
        let openedFD = descriptor
        do {
            try Self.checkImage(fd: openedFD, path: path, expectedSize: geometry.totalSize)
        } catch {
            _ = Glibc_close(openedFD)
            throw error
        }
        self.fd = openedFD
        self.eraseCounts = Array(repeating: 0, count: geometry.blockCount)
        self.worn = Array(repeating: false, count: geometry.blockCount)
        self.scratch = .allocate(
            byteCount: min(geometry.eraseBlockSize, Self.scratchLimit), alignment: 16)
    }

    deinit {
        if fd >= 0 { _ = Glibc_close(fd) }
        scratch.deallocate()
    }

    /// Closes the image now (also done by `deinit`). Every later operation
    /// fails with `.io(code: EBADF)`. Calling it twice is harmless.
    public func close() {
        if fd >= 0 {
            _ = Glibc_close(fd)
            fd = -1
        }
    }

    /// How many times `block` was erased since the image was opened.
    public func eraseCount(block: Int) -> Int {
        guard block >= 0, block < eraseCounts.count else { return 0 }
        return eraseCounts[block]
    }

    /// Whether `block` has reached its endurance (see the type's comment).
    public func isWornOut(block: Int) -> Bool {
        guard block >= 0, block < worn.count else { return false }
        return worn[block]
    }

    // MARK: Flash

    public func read(block: Int, offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(FlashError) {
        try checkRange(block: block, offset: offset, count: buffer.count)
        guard buffer.count > 0, let base = buffer.baseAddress else { return }
        try preadFully(into: base, count: buffer.count, at: fileOffset(block, offset))
    }

    public func program(block: Int, offset: Int, from data: UnsafeRawBufferPointer) throws(FlashError) {
        try checkRange(block: block, offset: offset, count: data.count)
        try checkProgramAlignment(block: block, offset: offset, count: data.count)
        if worn[block] { throw .wornOut(block: block) }
        guard data.count > 0, let source = data.baseAddress else { return }

        // A chip can only clear bits; the contract goes further and forbids
        // programming anything but erased bytes. Check the whole range first
        // so a refused program writes nothing.
        var checked = 0
        while checked < data.count {
            let chunk = min(scratch.count, data.count - checked)
            try preadFully(into: scratch.baseAddress!, count: chunk,
                           at: fileOffset(block, offset + checked))
            if let bad = Self.firstNonErased(scratch.baseAddress!, count: chunk) {
                throw .notErased(block: block, offset: offset + checked + bad)
            }
            checked += chunk
        }
        try pwriteFully(from: source, count: data.count, at: fileOffset(block, offset))
    }

    public func erase(block: Int) throws(FlashError) {
        try checkRange(block: block, offset: 0, count: 0)
        if worn[block] { throw .wornOut(block: block) }
        if let endurance, eraseCounts[block] >= endurance {
            worn[block] = true
            throw .wornOut(block: block)
        }
        scratch.initializeMemory(as: UInt8.self, repeating: 0xFF)
        var done = 0
        while done < geometry.eraseBlockSize {
            let chunk = min(scratch.count, geometry.eraseBlockSize - done)
            try pwriteFully(from: UnsafeRawPointer(scratch.baseAddress!), count: chunk,
                            at: fileOffset(block, done))
            done += chunk
        }
        eraseCounts[block] += 1
    }

    public func sync() throws(FlashError) {
        let descriptor = fd
        _ = try retryingEINTR({ Int(fsync(descriptor)) }, error: { FlashError.io(code: $0) })
    }

    // MARK: I/O helpers

    @inline(__always)
    private func fileOffset(_ block: Int, _ offset: Int) -> off_t {
        off_t(block * geometry.eraseBlockSize + offset)
    }

    private func preadFully(into base: UnsafeMutableRawPointer, count: Int, at position: off_t) throws(FlashError) {
        let descriptor = fd
        var done = 0
        while done < count {
            let n = try retryingEINTR(
                { pread(descriptor, base + done, count - done, position + off_t(done)) },
                error: { FlashError.io(code: $0) })
            // End of file inside the image: it was truncated behind our back.
            if n == 0 { throw .io(code: EIO) }
            done += n
        }
    }

    private func pwriteFully(from base: UnsafeRawPointer, count: Int, at position: off_t) throws(FlashError) {
        let descriptor = fd
        var done = 0
        while done < count {
            let n = try retryingEINTR(
                { pwrite(descriptor, base + done, count - done, position + off_t(done)) },
                error: { FlashError.io(code: $0) })
            if n == 0 { throw .io(code: EIO) }
            done += n
        }
    }

    /// Index of the first byte that is not 0xFF, or nil.
    private static func firstNonErased(_ base: UnsafeMutableRawPointer, count: Int) -> Int? {
        var i = 0
        // Eight bytes at a time while aligned words fit, then byte by byte.
        while i + 8 <= count {
            if base.loadUnaligned(fromByteOffset: i, as: UInt64.self) != UInt64.max { break }
            i += 8
        }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        while i < count {
            if bytes[i] != 0xFF { return i }
            i += 1
        }
        return nil
    }

    // MARK: Opening and creating

    private static func openExisting(path: String) throws(FileFlashError) -> Int32 {
        let fd = try retryingEINTR(
            { Int(Glibc_open(path, O_RDWR | O_CLOEXEC, 0)) },
            error: { FileFlashError.open(path: path, errno: $0) })
        return Int32(fd)
    }

    /// Refuses anything but a regular file or block device of exactly the
    /// expected size.
    private static func checkImage(fd: Int32, path: String, expectedSize: Int) throws(FileFlashError) {
        var info = stat()
        _ = try retryingEINTR({ Int(fstat(fd, &info)) }, error: { FileFlashError.io(errno: $0) })
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG || kind == S_IFBLK else { throw .notAFile(path: path) }
        // lseek to the end gives the size of a block device as well as a file.
        let size = try retryingEINTR({ Int(lseek(fd, 0, SEEK_END)) }, error: { FileFlashError.io(errno: $0) })
        guard size == expectedSize else { throw .sizeMismatch(expected: expectedSize, found: size) }
    }

    /// Writes a new image of `size` bytes of 0xFF under a temporary name,
    /// syncs it and renames it into place (never replacing an existing file).
    private static func createImage(path: String, size: Int) throws(FileFlashError) {
        let temporary = path + ".creating-\(getpid())"
        let fd = Int32(try retryingEINTR(
            { Int(Glibc_open(temporary, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)) },
            error: { FileFlashError.open(path: path, errno: $0) }))
        var failure: FileFlashError?
        do {
            try fillErased(fd: fd, size: size)
            _ = try retryingEINTR({ Int(fsync(fd)) }, error: { FileFlashError.io(errno: $0) })
        } catch {
            failure = error
        }
        _ = Glibc_close(fd)
        if let failure {
            _ = unlink(temporary)
            throw failure
        }
        // link(2) + unlink instead of rename(2): fails with EEXIST rather than
        // replacing an image another process created meanwhile.
        if link(temporary, path) != 0 {
            let code = errno
            _ = unlink(temporary)
            if code != EEXIST { throw .open(path: path, errno: code) }
            return  // someone else created it; the caller opens and checks it
        }
        _ = unlink(temporary)
        syncDirectory(of: path)
    }

    private static func fillErased(fd: Int32, size: Int) throws(FileFlashError) {
        let chunkSize = min(max(size, 1), 1 << 20)
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { chunk.deallocate() }
        chunk.initializeMemory(as: UInt8.self, repeating: 0xFF)
        var done = 0
        while done < size {
            let want = min(chunkSize, size - done)
            let at = off_t(done)
            let n = try retryingEINTR(
                { pwrite(fd, chunk.baseAddress!, want, at) },
                error: { FileFlashError.io(errno: $0) })
            if n == 0 { throw .io(errno: EIO) }
            done += n
        }
    }

    /// Makes the new directory entry durable (best effort).
    private static func syncDirectory(of path: String) {
        var directory = "."
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        }
        let dfd = Glibc_open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
        if dfd >= 0 {
            _ = fsync(dfd)
            _ = Glibc_close(dfd)
        }
    }
}

// `open` and `close` are variadic or shadowed by `FileFlash.close()` inside the
// class; these wrappers name the libc functions unambiguously.
@inline(__always)
private func Glibc_open(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    open(path, flags, mode)
}

@inline(__always)
private func Glibc_close(_ fd: Int32) -> Int32 {
    close(fd)
}
