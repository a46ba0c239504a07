import Glibc

/// Scans this process's own memory for byte strings, through
/// `/proc/self/mem` over every readable range of `/proc/self/maps`, to show
/// that what a quick exit must forget is gone from the whole process — not
/// only from the core's buffers (which the core's tests check) but from
/// the simulator's input, output and terminal buffers, freed heap and
/// stacks too.
///
/// The needles arrive masked (each byte XOR `mask`) and are compared masked,
/// so the scan itself never puts a plain needle into memory. The reading
/// buffer is its own mapping and is skipped. Off by default: a debug
/// facility that reads all memory has no place in a device build.
public enum MemoryScan {
    /// For each masked needle: found anywhere readable.
    public static func scan(maskedNeedles: [UnsafeRawBufferPointer], mask: UInt8) -> [Bool] {
        var found = [Bool](repeating: false, count: maskedNeedles.count)
        let active = maskedNeedles.filter { $0.count > 0 }
        guard !active.isEmpty else { return found }
        let longest = active.map(\.count).max()!
        let chunk = 1 << 20
        let size = chunk + longest
        guard let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              mapped != MAP_FAILED else { return found }
        defer {
            memset(mapped, 0, size)
            munmap(mapped, size)
        }
        let ownStart = UInt(bitPattern: mapped)
        let ownEnd = ownStart + UInt(size)
        let mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC)
        guard mem >= 0 else { return found }
        defer { close(mem) }
        let buffer = mapped.assumingMemoryBound(to: UInt8.self)
        for (start, end) in readableRanges() {
            if start < ownEnd && end > ownStart { continue }
            var at = start
            var carried = 0
            while at < end {
                let want = Int(min(UInt(chunk), end - at))
                let n = pread(mem, buffer + carried, want, off_t(Int64(bitPattern: UInt64(at))))
                if n <= 0 { break }
                let total = carried + n
                for (k, needle) in maskedNeedles.enumerated() where !found[k] && needle.count > 0 {
                    if contains(buffer, total, needle, mask) { found[k] = true }
                }
                // Keep the tail so a needle across two chunks is seen.
                let keep = min(longest - 1, total)
                memmove(buffer, buffer + (total - keep), keep)
                memset(buffer + keep, 0, total - keep)
                carried = keep
                at += UInt(n)
            }
            memset(buffer, 0, carried)
        }
        return found
    }

    static func contains(_ hay: UnsafeMutablePointer<UInt8>, _ count: Int, _ needle: UnsafeRawBufferPointer,
                         _ mask: UInt8) -> Bool {
        let n = needle.count
        guard count >= n else { return false }
        let first = needle[0]
        var i = 0
        while i <= count - n {
            if hay[i] ^ mask == first {
                var j = 1
                while j < n && hay[i + j] ^ mask == needle[j] { j += 1 }
                if j == n { return true }
            }
            i += 1
        }
        return false
    }

    /// Readable ranges from /proc/self/maps, except [vvar] and [vsyscall]
    /// (not readable through /proc/self/mem) and device mappings.
    static func readableRanges() -> [(UInt, UInt)] {
        guard let file = fopen("/proc/self/maps", "r") else { return [] }
        defer { fclose(file) }
        var ranges: [(UInt, UInt)] = []
        var line = [CChar](repeating: 0, count: 4096)
        while fgets(&line, Int32(line.count), file) != nil {
            let length = line.firstIndex(of: 0) ?? line.count
            let text = String(decoding: line[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let fields = text.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2 else { continue }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let s = UInt(bounds[0], radix: 16), let e = UInt(bounds[1], radix: 16),
                  fields[1].first == "r" else { continue }
            if text.contains("[vvar") || text.contains("[vsyscall]") || text.contains("/dev/") { continue }
            ranges.append((s, e))
        }
        return ranges
    }
}
