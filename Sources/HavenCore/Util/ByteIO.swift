/// Little-endian field access on raw buffers. Every on-flash and on-wire
/// integer in Haven is little-endian; these are the only places that know it.
extension UnsafeMutableRawBufferPointer {
    @inline(__always)
    func storeLE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
    }
}

extension UnsafeRawBufferPointer {
    @inline(__always)
    func loadLE<T: FixedWidthInteger>(_: T.Type = T.self, at offset: Int) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// True when every byte is 0xFF, the erased state of flash.
    @inline(__always)
    func isErased() -> Bool {
        var i = 0
        let n = count
        // 32 bytes per step with no early exit, so the loop vectorises: this
        // runs before every program (chip rule) and on every scan.
        var all: UInt64 = .max
        while i + 32 <= n {
            all &= loadUnaligned(fromByteOffset: i, as: UInt64.self)
                & loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)
                & loadUnaligned(fromByteOffset: i + 16, as: UInt64.self)
                & loadUnaligned(fromByteOffset: i + 24, as: UInt64.self)
            i += 32
        }
        if all != .max { return false }
        while i + 8 <= n {
            if loadUnaligned(fromByteOffset: i, as: UInt64.self) != .max { return false }
            i += 8
        }
        while i < n {
            if self[i] != 0xFF { return false }
            i += 1
        }
        return true
    }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always)
    func loadLE<T: FixedWidthInteger>(_: T.Type = T.self, at offset: Int) -> T {
        UnsafeRawBufferPointer(self).loadLE(T.self, at: offset)
    }

    @inline(__always)
    func fill(_ byte: UInt8) {
        if count > 0 { initializeMemory(as: UInt8.self, repeating: byte) }
    }

    /// Copies `source` to `offset`.
    @inline(__always)
    func copy(_ source: UnsafeRawBufferPointer, to offset: Int) {
        if source.count > 0 {
            (baseAddress! + offset).copyMemory(from: source.baseAddress!, byteCount: source.count)
        }
    }

    @inline(__always)
    func slice(_ offset: Int, _ count: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: self[offset..<(offset + count)])
    }
}

extension UnsafeRawBufferPointer {
    @inline(__always)
    func slice(_ offset: Int, _ count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: self[offset..<(offset + count)])
    }
}

/// A fixed-size scratch buffer owned by one object, allocated once. Hot paths
/// reuse these instead of allocating.
@usableFromInline
struct ScratchBuffer {
    let bytes: UnsafeMutableRawBufferPointer

    init(count: Int) {
        bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 16)
        bytes.fill(0)
    }

    func free() {
        bytes.deallocate()
    }
}
