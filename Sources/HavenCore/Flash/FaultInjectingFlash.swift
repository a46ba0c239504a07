/// Wraps a flash part and injects the faults field devices meet:
/// - **power cut** after the Nth program or erase: that operation is torn
///   (a program leaves a prefix of its units written and one unit partly
///   programmed; an erase leaves the block untouched, fully erased, or erased
///   with an old prefix still readable), then every later operation fails
///   with `.powerLost` until the test "reboots" by mounting the inner part;
/// - **worn-out blocks**: listed blocks fail program and erase with `.wornOut`.
///
/// Bit flips are done on the inner `RAMFlash` directly (`flipBit`).
public final class FaultInjectingFlash<Inner: Flash>: Flash {
    public let inner: Inner
    public var geometry: FlashGeometry { inner.geometry }

    /// Program and erase operations performed so far.
    public private(set) var operations = 0
    /// The operation index (1-based) that is torn, or nil for no cut.
    public var powerCutAt: Int?
    public private(set) var powerIsLost = false
    /// Blocks that behave as worn out.
    public var wornBlocks: [Int] = []
    private var random: SplitMix64

    public init(_ inner: Inner, powerCutAt: Int? = nil, seed: UInt64 = 1) {
        self.inner = inner
        self.powerCutAt = powerCutAt
        self.random = SplitMix64(seed: seed)
    }

    public func read(block: Int, offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(FlashError) {
        if powerIsLost { throw .powerLost }
        try inner.read(block: block, offset: offset, into: buffer)
    }

    public func program(block: Int, offset: Int, from data: UnsafeRawBufferPointer) throws(FlashError) {
        if powerIsLost { throw .powerLost }
        try checkRange(block: block, offset: offset, count: data.count)
        try checkProgramAlignment(block: block, offset: offset, count: data.count)
        if wornBlocks.contains(block) { throw .wornOut(block: block) }
        operations += 1
        if operations == powerCutAt {
            powerIsLost = true
            try tornProgram(block: block, offset: offset, data: data)
            throw .powerLost
        }
        try inner.program(block: block, offset: offset, from: data)
    }

    public func erase(block: Int) throws(FlashError) {
        if powerIsLost { throw .powerLost }
        try checkRange(block: block, offset: 0, count: 0)
        if wornBlocks.contains(block) { throw .wornOut(block: block) }
        operations += 1
        if operations == powerCutAt {
            powerIsLost = true
            try tornErase(block: block)
            throw .powerLost
        }
        try inner.erase(block: block)
    }

    public func sync() throws(FlashError) {
        if powerIsLost { throw .powerLost }
        try inner.sync()
    }

    /// Writes a random number of whole units, then one unit in which only some
    /// of the intended 0-bits made it (programming moves bits 1 → 0).
    private func tornProgram(block: Int, offset: Int, data: UnsafeRawBufferPointer) throws(FlashError) {
        let unit = geometry.programUnit
        let units = data.count / unit
        if units == 0 { return }
        let whole = random.next(below: units + 1)
        if whole > 0 {
            try inner.program(block: block, offset: offset, from: data.slice(0, whole * unit))
        }
        if whole < units {
            let partial = UnsafeMutableRawBufferPointer.allocate(byteCount: unit, alignment: 16)
            defer { partial.deallocate() }
            for i in 0..<unit {
                partial[i] = data[whole * unit + i] | UInt8(truncatingIfNeeded: random.next())
            }
            try inner.program(block: block, offset: offset + whole * unit, from: UnsafeRawBufferPointer(partial))
        }
    }

    /// An interrupted erase leaves the block in one of three states.
    private func tornErase(block: Int) throws(FlashError) {
        switch random.next(below: 3) {
        case 0:
            return  // cut before the erase began
        case 1:
            try inner.erase(block: block)  // cut just after it finished
        default:
            // Erased from the end: the old first units are still readable.
            let keep = geometry.alignUp(geometry.eraseBlockSize / 4)
            let old = UnsafeMutableRawBufferPointer.allocate(byteCount: keep, alignment: 16)
            defer { old.deallocate() }
            try inner.read(block: block, offset: 0, into: old)
            try inner.erase(block: block)
            try inner.program(block: block, offset: 0, from: UnsafeRawBufferPointer(old))
        }
    }
}
