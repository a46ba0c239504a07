/// The encrypted, power-loss-safe, append-only record store.
///
/// Records (sealed interview envelopes, up to `maxRecordLength` bytes) are
/// appended to a log that runs around a ring of erase blocks; every byte in
/// the ring is sealed with keys derived from the device data key, record
/// metadata included. The superblock pair holds the wrapped key slots and a
/// list of anchors (where the log's head and tail are), so mounting reads a
/// handful of blocks, not the whole log. Records are marked pulled by
/// appending "pulled" entries; blocks whose records are all pulled are
/// reclaimed from the tail, and allocation in ring order spreads erases
/// evenly over the ring. `Docs/store-format.md` has the byte-level format
/// and `Docs/store-design.md`-style reasoning lives in its §7.
///
/// Failure model: an operation that throws `.flash(.powerLost)` leaves the
/// store closed; mount again (a reboot). A record is durable once `append`
/// returns; a record whose append did not return is never visible.
public final class LogStore<F: Flash, C: CryptoSuite> {
    public let flash: F
    let geo: StoreGeometry
    let keys: StoreKeys<C>
    let codec: FragmentCodec<C>
    var superblock: SuperblockState

    var isOpen = true
    // The log. Invariant when `hasLog`: tail ... head in ring order, seqs increasing.
    var hasLog = false
    var head = 0
    var headHeader = BlockHeader(seq: 0, baseID: 1, eraseCount: 0, flags: 0)
    var headWrite = 0
    var headClosed = false
    var tail = 0
    var tailSeq: UInt64 = 0
    var nextID: UInt64 = 1
    var anchorSeq: UInt64 = 0
    var anchorIndex = 0
    var retired = RetiredSet()

    /// One block of scratch for sealing and reading fragments; allocated at
    /// mount so appends and reads allocate nothing.
    let scratch: ScratchBuffer
    /// A fragment header's worth of scratch for scans.
    let headerScratch: ScratchBuffer
    /// Encoded checkpoint body (sized for a full retired set).
    let checkpointScratch: ScratchBuffer

    /// Largest record `append` accepts.
    public let maxRecordLength: Int

    /// Mounts the store on `flash` with the unwrapped data key. Reads the
    /// superblock pair, the newest anchor, and the head block (plus at most
    /// a few neighbours after a power cut); never the whole log.
    public init(flash: F, dataKey: UnsafeRawBufferPointer) throws(StoreError) {
        self.flash = flash
        geo = try StoreGeometry(flash.geometry)
        superblock = try Superblock<F, C>.inspect(flash)
        keys = StoreKeys<C>(dataKey: dataKey)
        codec = FragmentCodec(keys: keys, headerSlot: geo.fragmentHeaderSlot)
        scratch = ScratchBuffer(count: geo.flash.eraseBlockSize)
        headerScratch = ScratchBuffer(count: StoreLayout.fragmentHeaderSealedSize)
        checkpointScratch = ScratchBuffer(count: StoreLayout.checkpointFixedSize
                                          + StoreLayout.maxRetiredRanges * StoreLayout.rangeSize)
        let usable = geo.flash.eraseBlockSize - geo.afterBlockHeaders
            - geo.checkpointSlot(ranges: StoreLayout.maxRetiredRanges) - geo.bodyOffset - CryptoSizes.tag
        maxRecordLength = min(Int(UInt32.max), usable * max(1, (geo.ringCount - 2) / 2), 1 << 24)
        let matches = superblock.keyCheck.withUnsafeBytes { C.constantTimeEqual($0, keys.keyCheck) }
        guard matches else {
            release()
            throw .wrongKey
        }
        do {
            try mount()
        } catch {
            release()
            throw error
        }
    }

    deinit { release() }

    private var released = false
    private func release() {
        if released { return }
        released = true
        isOpen = false
        keys.wipe()
        C.zeroize(scratch.bytes)
        C.zeroize(checkpointScratch.bytes)
        scratch.free()
        headerScratch.free()
        checkpointScratch.free()
    }

    /// Closes the store and zeroizes its keys and buffers (lock).
    public func close() {
        release()
    }

    /// Crypto-erase: destroys the key slots (two erases, whatever the data),
    /// then closes. Nothing on the flash can be decrypted afterwards.
    public func cryptoErase() throws(StoreError) {
        release()
        try Superblock<F, C>.cryptoErase(flash, liveBlock: superblock.liveBlock)
    }

    /// The superblock block holding the live header (0 or 1).
    public var liveSuperblock: Int { superblock.liveBlock }

    /// Replaces the key slots while mounted (PIN change). The current anchor
    /// moves with them.
    public func replaceKeySlots(_ slots: [KeySlot]) throws(StoreError) {
        try ensureOpen()
        var next = superblock
        next.slots = slots
        try writeAnchor(newHeader: next)
    }

    /// Rewrites the PIN guard and the checkpoint epoch while mounted (reset
    /// the failure count after an unlock; retire every checkpoint written
    /// under the old epoch). One header move: durable on return.
    public func rewriteHeader(pinGuard: PinGuard, checkpointEpoch: CheckpointEpoch) throws(StoreError) {
        try ensureOpen()
        var next = superblock
        next.pinGuard = pinGuard
        next.checkpointEpoch = checkpointEpoch
        try writeAnchor(newHeader: next)
    }

    public var keySlots: [KeySlot] { superblock.slots }

    /// The PIN guard as last written.
    public var pinGuard: PinGuard { superblock.pinGuard }

    /// The checkpoint epoch as last written.
    public var checkpointEpoch: CheckpointEpoch { superblock.checkpointEpoch }

    /// How many times the superblock has moved to its twin (slot changes and
    /// full anchor areas): a wear figure for the superblock pair.
    public var superblockGeneration: UInt32 { superblock.generation }

    // MARK: Status

    /// The id the next append will get.
    public var nextRecordID: UInt64 { nextID }

    /// Records not yet pulled (corrupt ones included: they are still owed to
    /// the host, which decides what to do with them).
    public var unpulledCount: UInt64 {
        (nextID - 1) - retired.count(below: nextID)
    }

    /// Ring blocks that hold no live data (free or reclaimable now).
    public var freeBlocks: Int {
        guard hasLog else { return geo.ringCount }
        return geo.ringCount - ringDistance(from: tail, to: head) - 1
    }

    public var ringBlockCount: Int { geo.ringCount }

    @inline(__always)
    func ensureOpen() throws(StoreError) {
        if !isOpen { throw .closed }
    }

    /// Wraps a flash error; a power cut closes the store.
    @inline(__always)
    func fail(_ error: FlashError) -> StoreError {
        if error == .powerLost { isOpen = false }
        return .flash(error)
    }

    // MARK: Ring arithmetic

    @inline(__always)
    func ringNext(_ block: Int) -> Int {
        block + 1 == geo.flash.blockCount ? geo.ringStart : block + 1
    }

    @inline(__always)
    func ringPrevious(_ block: Int) -> Int {
        block == geo.ringStart ? geo.flash.blockCount - 1 : block - 1
    }

    @inline(__always)
    func ringDistance(from a: Int, to b: Int) -> Int {
        let d = b - a
        return d >= 0 ? d : d + geo.ringCount
    }

    @inline(__always)
    func ringAdvance(_ block: Int, by n: Int) -> Int {
        geo.ringStart + (block - geo.ringStart + n) % geo.ringCount
    }
}
