/// The VM's string memory: one fixed block, allocated once, bump-allocated
/// during an evaluation and emptied at the start of the next. Strings the
/// VM makes (`concat`, numbers and dates turned into text) live here and
/// stay valid until the next evaluation; the engine copies the ones it keeps.
struct StringArena {
    let base: UnsafeMutableRawPointer
    let capacity: Int
    private(set) var used = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
        base = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 8)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: self.capacity)
    }

    func deallocate() { base.deallocate() }

    mutating func reset() { used = 0 }

    /// The unused tail, for writing a string in place before `commit`.
    var free: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base + used, count: capacity - used)
    }

    /// Keeps the `count` bytes just written at the start of `free`.
    mutating func commit(_ count: Int) -> UnsafeRawBufferPointer {
        let string = UnsafeRawBufferPointer(start: base + used, count: count)
        used += count
        return string
    }

    /// Marks the current top, to build one string from several appends.
    var mark: Int { used }

    /// The bytes appended since `mark`.
    func string(since mark: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + mark, count: used - mark)
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) throws(ExpressionError) {
        if bytes.count > capacity - used { throw .arenaFull }
        if bytes.count > 0 {
            (base + used).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            used += bytes.count
        }
    }
}
