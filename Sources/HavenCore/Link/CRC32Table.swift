/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320: the same checksum
/// as `CRC32`) computed eight bytes per step from a table (slice-by-8).
///
/// The link checks every frame's bytes, so the bitwise `CRC32` (kept for the
/// superblock header, where speed does not matter and no table should sit in
/// RAM) would cap the link well below the wire speed. The table is 8 KiB,
/// allocated once by whoever owns the codec (a `LinkServer`, a host decoder).
public final class CRC32Table {
    let table: UnsafeMutablePointer<UInt32>

    public init() {
        table = UnsafeMutablePointer<UInt32>.allocate(capacity: 8 * 256)
        var i = 0
        while i < 256 {
            var c = UInt32(truncatingIfNeeded: i)
            var k = 0
            while k < 8 {
                c = (c >> 1) ^ (0xEDB8_8320 & (0 &- (c & 1)))
                k += 1
            }
            table[i] = c
            i += 1
        }
        i = 0
        while i < 256 {
            var t = 1
            while t < 8 {
                let previous = table[(t - 1) * 256 + i]
                table[t * 256 + i] = (previous >> 8) ^ table[Int(previous & 0xFF)]
                t += 1
            }
            i += 1
        }
    }

    deinit { table.deallocate() }

    /// Continues a running CRC register (start with `0xFFFF_FFFF`, finish
    /// with `~`) over `bytes`.
    @inline(__always)
    public func update(_ register: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard var p = bytes.baseAddress else { return register }
        var n = bytes.count
        var c = register
        let t = table
        while n >= 8 {
            let lo = UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)) ^ c
            let hi = UInt32(littleEndian: (p + 4).loadUnaligned(as: UInt32.self))
            c = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                ^ t[256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
            p += 8
            n -= 8
        }
        while n > 0 {
            c = t[Int((c ^ UInt32(p.load(as: UInt8.self))) & 0xFF)] ^ (c >> 8)
            p += 1
            n -= 1
        }
        return c
    }

    /// CRC-32 of `bytes`.
    public func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        ~update(0xFFFF_FFFF, bytes)
    }
}
