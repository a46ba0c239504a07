/// The decoded 24-byte header of a fragment (see `Docs/store-format.md` §4).
struct FragmentHeader: Equatable {
    var kind: UInt8
    var flags: UInt8
    var index: UInt16
    var bodyLength: UInt32
    var recordID: UInt64
    var totalLength: UInt32
    /// Which on-flash copy authenticated (0 or 1); not encoded.
    var copy: UInt8 = 0

    var isFirst: Bool { flags & StoreLayout.flagFirst != 0 }
    var isLast: Bool { flags & StoreLayout.flagLast != 0 }

    func encode(into out: UnsafeMutableRawBufferPointer) {
        out[0] = kind
        out[1] = flags
        out.storeLE(index, at: 2)
        out.storeLE(bodyLength, at: 4)
        out.storeLE(recordID, at: 8)
        out.storeLE(totalLength, at: 16)
        out.storeLE(StoreLayout.formatVersion, at: 20)
        out.storeLE(UInt16(0), at: 22)
    }

    static func decode(_ b: UnsafeRawBufferPointer) -> FragmentHeader? {
        guard b.loadLE(UInt16.self, at: 20) == StoreLayout.formatVersion,
              b.loadLE(UInt16.self, at: 22) == 0 else { return nil }
        return FragmentHeader(kind: b[0], flags: b[1], index: b.loadLE(at: 2), bodyLength: b.loadLE(at: 4),
                              recordID: b.loadLE(at: 8), totalLength: b.loadLE(at: 16))
    }
}

/// Seals and opens fragments. A fragment at (block, offset) of the block
/// with sequence number `seq` is bound to that place by its associated data,
/// so bytes copied elsewhere on the flash do not authenticate.
///
///     H ‖ H ‖ AEAD(Kb, body) ‖ pad,   H = nonce[24] ‖ AEAD(Kh, header[24]) ‖ pad
///
/// Each header copy occupies program units of its own (`headerSlot` bytes)
/// so the body can be programmed first and the copies last. Both copies are
/// the same bytes (their associated data names the fragment's offset).
struct FragmentCodec<C: CryptoSuite> {
    let keys: StoreKeys<C>
    let headerSlot: Int

    /// Associated data for a fragment header: "HVNf" ‖ block ‖ offset ‖ seq.
    @inline(__always)
    static func location(block: Int, offset: Int, seq: UInt64, into ad: UnsafeMutableRawBufferPointer) {
        ad[0] = 0x48; ad[1] = 0x56; ad[2] = 0x4E; ad[3] = 0x66
        ad.storeLE(UInt32(truncatingIfNeeded: block), at: 4)
        ad.storeLE(UInt32(truncatingIfNeeded: offset), at: 8)
        ad.storeLE(seq, at: 12)
    }

    /// Seals a fragment into `out`, which must be `fragmentSlot(body.count)` long.
    func seal(header: FragmentHeader, body: UnsafeRawBufferPointer,
              block: Int, offset: Int, seq: UInt64, into out: UnsafeMutableRawBufferPointer) {
        let nonce = out.slice(0, CryptoSizes.xNonce)
        keys.nextNonce(into: nonce)
        withUnsafeTemporaryAllocation(byteCount: 48, alignment: 8) { scratch in
            let plain = scratch.slice(0, 24)
            header.encode(into: plain)
            let ad = scratch.slice(24, 20)
            Self.location(block: block, offset: offset, seq: seq, into: ad)
            C.aeadSeal(key: keys.headerKey, nonce: UnsafeRawBufferPointer(nonce),
                       associatedData: UnsafeRawBufferPointer(ad), plaintext: UnsafeRawBufferPointer(plain),
                       output: out.slice(24, 40))
            // Body AD = header ‖ location: a body cannot be paired with another header.
            C.aeadSeal(key: keys.bodyKey, nonce: UnsafeRawBufferPointer(nonce),
                       associatedData: UnsafeRawBufferPointer(scratch.slice(0, 44)), plaintext: body,
                       output: out.slice(2 * headerSlot, body.count + CryptoSizes.tag))
        }
        let sealedHeader = StoreLayout.fragmentHeaderSealedSize
        if sealedHeader < headerSlot { out.slice(sealedHeader, headerSlot - sealedHeader).fill(0) }
        out.copy(UnsafeRawBufferPointer(out.slice(0, headerSlot)), to: headerSlot)
        let end = 2 * headerSlot + body.count + CryptoSizes.tag
        if end < out.count { out.slice(end, out.count - end).fill(0) }
    }

    /// Opens the 64-byte sealed header at the start of `sealed`.
    func openHeader(_ sealed: UnsafeRawBufferPointer, block: Int, offset: Int, seq: UInt64) -> FragmentHeader? {
        withUnsafeTemporaryAllocation(byteCount: 48, alignment: 8) { scratch -> FragmentHeader? in
            let plain = scratch.slice(0, 24)
            let ad = scratch.slice(24, 20)
            Self.location(block: block, offset: offset, seq: seq, into: ad)
            guard C.aeadOpen(key: keys.headerKey, nonce: sealed.slice(0, CryptoSizes.xNonce),
                             associatedData: UnsafeRawBufferPointer(ad), ciphertext: sealed.slice(24, 40),
                             output: plain) else { return nil }
            return FragmentHeader.decode(UnsafeRawBufferPointer(plain))
        }
    }

    /// Opens the first header copy that authenticates; `sealed` holds both.
    func openEitherHeader(_ sealed: UnsafeRawBufferPointer, block: Int, offset: Int, seq: UInt64) -> FragmentHeader? {
        for copy in 0..<2 {
            if var h = openHeader(sealed.slice(copy * headerSlot, StoreLayout.fragmentHeaderSealedSize),
                                  block: block, offset: offset, seq: seq) {
                h.copy = UInt8(copy)
                return h
            }
        }
        return nil
    }

    /// Opens a fragment body. `sealed` starts at the fragment (nonce first) and
    /// holds at least `2 × headerSlot + header.bodyLength + 16` bytes; the
    /// nonce is read from the header copy that authenticated.
    func openBody(_ sealed: UnsafeRawBufferPointer, header: FragmentHeader, block: Int, offset: Int, seq: UInt64,
                  into out: UnsafeMutableRawBufferPointer) -> Bool {
        let n = Int(header.bodyLength)
        return withUnsafeTemporaryAllocation(byteCount: 48, alignment: 8) { scratch -> Bool in
            header.encode(into: scratch.slice(0, 24))
            Self.location(block: block, offset: offset, seq: seq, into: scratch.slice(24, 20))
            return C.aeadOpen(key: keys.bodyKey, nonce: sealed.slice(Int(header.copy) * headerSlot, CryptoSizes.xNonce),
                              associatedData: UnsafeRawBufferPointer(scratch.slice(0, 44)),
                              ciphertext: sealed.slice(2 * headerSlot, n + CryptoSizes.tag), output: out.slice(0, n))
        }
    }
}
