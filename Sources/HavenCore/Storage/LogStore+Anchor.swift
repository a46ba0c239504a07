/// Anchors: small encrypted notes in the superblock saying where the log's
/// head and tail are, so mount does not have to look for them.
///
/// Plaintext (48 bytes): anchor seq u64, head seq u64, tail seq u64,
/// head block u32, tail block u32, flags u32 (bit 0: the log has blocks),
/// reserved u32, reserved u64. Sealed as nonce[24] ‖ AEAD(Ka, plaintext)
/// with associated data "HVNa" ‖ format version.
struct Anchor {
    var seq: UInt64
    var headSeq: UInt64
    var tailSeq: UInt64
    var headBlock: Int
    var tailBlock: Int
    var hasLog: Bool
}

extension LogStore {
    private func withAnchorAD<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeTemporaryAllocation(byteCount: 6, alignment: 2) { ad in
            ad[0] = 0x48; ad[1] = 0x56; ad[2] = 0x4E; ad[3] = 0x61
            ad.storeLE(StoreLayout.formatVersion, at: 4)
            return body(UnsafeRawBufferPointer(ad))
        }
    }

    func openAnchor(_ sealed: UnsafeRawBufferPointer) -> Anchor? {
        withUnsafeTemporaryAllocation(byteCount: StoreLayout.anchorPlainSize, alignment: 8) { plain -> Anchor? in
            let ok = withAnchorAD { ad -> Bool in
                C.aeadOpen(key: keys.anchorKey, nonce: sealed.slice(0, CryptoSizes.xNonce), associatedData: ad,
                           ciphertext: sealed.slice(CryptoSizes.xNonce, StoreLayout.anchorPlainSize + CryptoSizes.tag),
                           output: plain)
            }
            guard ok else { return nil }
            let p = UnsafeRawBufferPointer(plain)
            let headBlock = Int(p.loadLE(UInt32.self, at: 24)), tailBlock = Int(p.loadLE(UInt32.self, at: 28))
            guard headBlock >= geo.ringStart, headBlock < geo.flash.blockCount,
                  tailBlock >= geo.ringStart, tailBlock < geo.flash.blockCount else { return nil }
            return Anchor(seq: p.loadLE(at: 0), headSeq: p.loadLE(at: 8), tailSeq: p.loadLE(at: 16),
                          headBlock: headBlock, tailBlock: tailBlock,
                          hasLog: p.loadLE(UInt32.self, at: 32) & 1 != 0)
        }
    }

    /// The valid anchor with the highest sequence in either superblock.
    func latestAnchor() throws(StoreError) -> Anchor? {
        var best: Anchor?
        let slot = geo.anchorSlot
        try withUnsafeTemporaryAllocation(byteCount: slot, alignment: 16) { (buf) throws(StoreError) in
            for block in [superblock.liveBlock, 1 - superblock.liveBlock] {
                let fill = try Superblock<F, C>.anchorFill(flash, geo, block: block)
                var i = fill - 1
                // Entries are written in order: the newest valid one is at or
                // just before the fill line (a torn last entry is skipped).
                while i >= 0 {
                    do throws(FlashError) { try flash.read(block: block, offset: geo.anchorsOffset + i * slot, into: buf) } catch {
                        throw fail(error)
                    }
                    if let a = openAnchor(UnsafeRawBufferPointer(buf)) {
                        if best == nil || a.seq > best!.seq { best = a }
                        break
                    }
                    i -= 1
                }
            }
        }
        return best
    }

    /// Appends an anchor for the current head and tail; moves the superblock
    /// to its twin when the anchor area is full, the block refuses the write,
    /// or the header changes (`newHeader`: key slots, PIN guard, epoch).
    func writeAnchor(newHeader: SuperblockState? = nil) throws(StoreError) {
        anchorSeq += 1
        let slot = geo.anchorSlot
        try withUnsafeTemporaryAllocation(byteCount: slot, alignment: 16) { (buf) throws(StoreError) in
            buf.fill(0)
            withUnsafeTemporaryAllocation(byteCount: StoreLayout.anchorPlainSize, alignment: 8) { plain in
                plain.fill(0)
                plain.storeLE(anchorSeq, at: 0)
                plain.storeLE(headHeader.seq, at: 8)
                plain.storeLE(tailSeq, at: 16)
                plain.storeLE(UInt32(hasLog ? head : geo.ringStart), at: 24)
                plain.storeLE(UInt32(hasLog ? tail : geo.ringStart), at: 28)
                plain.storeLE(UInt32(hasLog ? 1 : 0), at: 32)
                let nonce = buf.slice(0, CryptoSizes.xNonce)
                keys.nextNonce(into: nonce)
                withAnchorAD { ad in
                    C.aeadSeal(key: keys.anchorKey, nonce: UnsafeRawBufferPointer(nonce), associatedData: ad,
                               plaintext: UnsafeRawBufferPointer(plain),
                               output: buf.slice(CryptoSizes.xNonce, StoreLayout.anchorPlainSize + CryptoSizes.tag))
                }
            }
            let sealed = UnsafeRawBufferPointer(buf)
            if newHeader == nil && anchorIndex < geo.anchorsPerSuperblock {
                do throws(FlashError) {
                    try flash.program(block: superblock.liveBlock, offset: geo.anchorsOffset + anchorIndex * slot,
                                      from: sealed)
                    try flash.sync()
                    anchorIndex += 1
                    return
                } catch {
                    if error == .powerLost { throw fail(error) }
                    // The block refused: fall through and move to the twin.
                }
            }
            do throws(StoreError) {
                try Superblock<F, C>.compact(flash, &superblock, to: newHeader ?? superblock, anchor: sealed)
            } catch {
                if error == .flash(.powerLost) { isOpen = false }
                throw error
            }
            anchorIndex = 1
        }
    }
}
