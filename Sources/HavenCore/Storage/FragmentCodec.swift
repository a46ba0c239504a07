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

    /// Writes the 24 plaintext bytes; the last 4 are a check over the first
    /// 20 and the fragment's location (`Docs/store-format.md` §3.1).
    func encode(into out: UnsafeMutableRawBufferPointer, location: UnsafeRawBufferPointer) {
        out[0] = kind
        out[1] = flags
        out.storeLE(index, at: 2)
        out.storeLE(bodyLength, at: 4)
        out.storeLE(recordID, at: 8)
        out.storeLE(totalLength, at: 16)
        out.storeLE(Self.check(UnsafeRawBufferPointer(out), location), at: 20)
    }

    static func decode(_ b: UnsafeRawBufferPointer, location: UnsafeRawBufferPointer) -> FragmentHeader? {
        guard b.loadLE(UInt32.self, at: 20) == check(b, location) else { return nil }
        return FragmentHeader(kind: b[0], flags: b[1], index: b.loadLE(at: 2), bodyLength: b.loadLE(at: 4),
                              recordID: b.loadLE(at: 8), totalLength: b.loadLE(at: 16))
    }

    /// A 32-bit check over header bytes 0‥19 and the location, seeded with the
    /// format version. It tells a committed header from torn or stray bytes
    /// (a wrong value passes with probability 2⁻³²) and binds the header to
    /// its place; integrity against tampering comes from the body's AEAD,
    /// whose associated data includes these 24 bytes.
    static func check(_ header: UnsafeRawBufferPointer, _ location: UnsafeRawBufferPointer) -> UInt32 {
        // (No nested helper: a captured `var` would be boxed on the heap in debug builds.)
        var h: UInt64 = 0x6861_7665_6E00_0000 | UInt64(StoreLayout.formatVersion)
        let words: (UInt64, UInt64, UInt64, UInt64, UInt64) = (
            header.loadLE(UInt64.self, at: 0),
            header.loadLE(UInt64.self, at: 8),
            UInt64(header.loadLE(UInt32.self, at: 16)) | UInt64(location.loadLE(UInt32.self, at: 16)) << 32,
            location.loadLE(UInt64.self, at: 0),
            location.loadLE(UInt64.self, at: 8))
        h = (h ^ words.0) &* 0x9E37_79B9_7F4A_7C15; h ^= h >> 29
        h = (h ^ words.1) &* 0x9E37_79B9_7F4A_7C15; h ^= h >> 29
        h = (h ^ words.2) &* 0x9E37_79B9_7F4A_7C15; h ^= h >> 29
        h = (h ^ words.3) &* 0x9E37_79B9_7F4A_7C15; h ^= h >> 29
        h = (h ^ words.4) &* 0x9E37_79B9_7F4A_7C15; h ^= h >> 29
        h = (h ^ (h >> 31)) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 32
        return UInt32(truncatingIfNeeded: h)
    }
}

/// Seals and opens fragments. A fragment at (block, offset) of the block
/// with sequence number `seq` is bound to that place by its associated data,
/// so bytes copied elsewhere on the flash do not authenticate.
///
///     H ‖ H ‖ AEAD(Kb, body) ‖ pad,   H = nonce[24] ‖ (header[24] ⊕ XChaCha20(Kh, nonce)) ‖ pad
///
/// The header is encrypted with a keystream, not sealed: one AEAD per
/// fragment instead of two. Its check field catches torn or stray bytes, and
/// the body's AEAD authenticates it (the header is the body's associated data).
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
        withUnsafeTemporaryAllocation(byteCount: 56, alignment: 8) { scratch in
            let plain = scratch.slice(0, 24)
            let ad = scratch.slice(24, 20)
            Self.location(block: block, offset: offset, seq: seq, into: ad)
            header.encode(into: plain, location: UnsafeRawBufferPointer(ad))
            let sub = keys.subkeys(for: UnsafeRawBufferPointer(nonce))
            // = XChaCha20(Kh, nonce) from block 0, with the cached subkey.
            C.chacha20Xor(key: sub.header, nonce: UnsafeRawBufferPointer(nonce.slice(16, 8)), counter: 0,
                          input: UnsafeRawBufferPointer(plain), output: out.slice(24, 24))
            // = XChaCha20-Poly1305(Kb, nonce). Body AD = header ‖ location:
            // a body cannot be paired with another header or moved.
            Self.ietfNonce(UnsafeRawBufferPointer(nonce), into: scratch.slice(44, 12))
            C.chachaPolySeal(key: sub.body, nonce: UnsafeRawBufferPointer(scratch.slice(44, 12)),
                             associatedData: UnsafeRawBufferPointer(scratch.slice(0, 44)), plaintext: body,
                             output: out.slice(2 * headerSlot, body.count + CryptoSizes.tag))
        }
        let sealedHeader = StoreLayout.fragmentHeaderSealedSize
        if sealedHeader < headerSlot { out.slice(sealedHeader, headerSlot - sealedHeader).fill(0) }
        out.copy(UnsafeRawBufferPointer(out.slice(0, headerSlot)), to: headerSlot)
        let end = 2 * headerSlot + body.count + CryptoSizes.tag
        if end < out.count { out.slice(end, out.count - end).fill(0) }
    }

    /// The IETF nonce XChaCha20-Poly1305 uses after HChaCha20: 0⁴ ‖ nonce[16..<24].
    @inline(__always)
    static func ietfNonce(_ nonce: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        out.storeLE(UInt32(0), at: 0)
        out.copy(nonce.slice(16, 8), to: 4)
    }

    /// Opens the 48-byte header copy at the start of `sealed`.
    func openHeader(_ sealed: UnsafeRawBufferPointer, block: Int, offset: Int, seq: UInt64) -> FragmentHeader? {
        withUnsafeTemporaryAllocation(byteCount: 48, alignment: 8) { scratch -> FragmentHeader? in
            let plain = scratch.slice(0, 24)
            let ad = scratch.slice(24, 20)
            Self.location(block: block, offset: offset, seq: seq, into: ad)
            let sub = keys.subkeys(for: sealed.slice(0, CryptoSizes.xNonce))
            C.chacha20Xor(key: sub.header, nonce: sealed.slice(16, 8), counter: 0, input: sealed.slice(24, 24),
                          output: plain)
            return FragmentHeader.decode(UnsafeRawBufferPointer(plain), location: UnsafeRawBufferPointer(ad))
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
        let nonce = sealed.slice(Int(header.copy) * headerSlot, CryptoSizes.xNonce)
        return withUnsafeTemporaryAllocation(byteCount: 56, alignment: 8) { scratch -> Bool in
            Self.location(block: block, offset: offset, seq: seq, into: scratch.slice(24, 20))
            header.encode(into: scratch.slice(0, 24), location: UnsafeRawBufferPointer(scratch.slice(24, 20)))
            Self.ietfNonce(nonce, into: scratch.slice(44, 12))
            return C.chachaPolyOpen(key: keys.subkeys(for: nonce).body, nonce: UnsafeRawBufferPointer(scratch.slice(44, 12)),
                                    associatedData: UnsafeRawBufferPointer(scratch.slice(0, 44)),
                                    ciphertext: sealed.slice(2 * headerSlot, n + CryptoSizes.tag), output: out.slice(0, n))
        }
    }
}
