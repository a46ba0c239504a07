/// Flash in RAM that obeys the chip rules of `Flash`: the block device for
/// core tests and the Embedded self-test. It also keeps per-block erase
/// counts (for wear-levelling checks) and lets tests flip bits.
public final class RAMFlash: Flash {
    public let geometry: FlashGeometry
    /// Erases a block survives; 0 means unlimited.
    public let endurance: UInt32
    private let storage: UnsafeMutableRawBufferPointer
    private var eraseCounts: [UInt32]

    public init(geometry: FlashGeometry, endurance: UInt32 = 0) {
        self.geometry = geometry
        self.endurance = endurance
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: geometry.totalSize, alignment: 16)
        storage.fill(0xFF)
        eraseCounts = [UInt32](repeating: 0, count: geometry.blockCount)
    }

    deinit { storage.deallocate() }

    public func read(block: Int, offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(FlashError) {
        try checkRange(block: block, offset: offset, count: buffer.count)
        buffer.copy(UnsafeRawBufferPointer(storage.slice(block * geometry.eraseBlockSize + offset, buffer.count)), to: 0)
    }

    public func program(block: Int, offset: Int, from data: UnsafeRawBufferPointer) throws(FlashError) {
        try checkRange(block: block, offset: offset, count: data.count)
        try checkProgramAlignment(block: block, offset: offset, count: data.count)
        if endurance > 0, eraseCounts[block] >= endurance { throw .wornOut(block: block) }
        let target = storage.slice(block * geometry.eraseBlockSize + offset, data.count)
        if !UnsafeRawBufferPointer(target).isErased() {
            var i = 0
            while target[i] == 0xFF { i += 1 }
            throw .notErased(block: block, offset: offset + i)
        }
        target.copy(data, to: 0)
    }

    public func erase(block: Int) throws(FlashError) {
        try checkRange(block: block, offset: 0, count: 0)
        if endurance > 0, eraseCounts[block] >= endurance { throw .wornOut(block: block) }
        eraseCounts[block] &+= 1
        storage.slice(block * geometry.eraseBlockSize, geometry.eraseBlockSize).fill(0xFF)
    }

    public func sync() throws(FlashError) {}

    // MARK: Test access

    /// Erase count of `block` since this object was made.
    public func eraseCount(block: Int) -> UInt32 { eraseCounts[block] }

    /// Flips one bit, as a failing cell or a cosmic ray would.
    public func flipBit(block: Int, offset: Int, bit: Int) {
        storage[block * geometry.eraseBlockSize + offset] ^= UInt8(1) << UInt8(bit & 7)
    }

    /// Writes bytes regardless of the rules: for tests that build hostile images.
    public func overwrite(block: Int, offset: Int, with data: UnsafeRawBufferPointer) {
        storage.slice(block * geometry.eraseBlockSize + offset, data.count).copy(data, to: 0)
    }

    /// The whole array, for scans of the image.
    public func withImage<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        body(UnsafeRawBufferPointer(storage))
    }

    /// Direct low-level write used by fault injection to leave a torn unit.
    func rawStore(block: Int, offset: Int, byte: UInt8) {
        storage[block * geometry.eraseBlockSize + offset] = byte
    }
}
