/// The config area (Docs/config-format.md §5): two slots A and B of k
/// blocks each on their own partition. Each slot is a commit header
/// (plaintext, CRC-checked, written last) and a body encrypted at rest under
/// HKDF(device secret, "haven config at rest v1"). The newest slot whose
/// header and body both check out is the installed config; a write goes to
/// the other slot, so a power cut at any point leaves the old config or the
/// new one readable, never neither.
public final class ConfigArea<F: Flash, C: CryptoSuite> {
    public let flash: F
    /// Blocks per slot.
    public let blocksPerSlot: Int
    private let key: UnsafeMutableRawBufferPointer

    /// `flash` is the config partition: an even number (2k) of blocks.
    public init(flash: F, deviceSecret: UnsafeRawBufferPointer) throws(ConfigError) {
        let g = flash.geometry
        guard g.blockCount >= 2, g.blockCount % 2 == 0,
              g.blockCount / 2 * g.eraseBlockSize > g.alignUp(ConfigLayout.slotHeaderSize) + ConfigLayout.bodyOverhead
        else { throw .areaGeometry }
        self.flash = flash
        blocksPerSlot = g.blockCount / 2
        key = .allocate(byteCount: 32, alignment: 16)
        DeviceIdentity<C>.atRestKey(secret: deviceSecret, into: key)
    }

    deinit {
        C.zeroize(key)
        key.deallocate()
    }

    private var bodyOffset: Int { flash.geometry.alignUp(ConfigLayout.slotHeaderSize) }
    private var slotBytes: Int { blocksPerSlot * flash.geometry.eraseBlockSize }

    /// The largest CONFIG blob a slot holds.
    public var capacity: Int { slotBytes - bodyOffset - ConfigLayout.bodyOverhead }

    // MARK: Reading

    /// A slot's commit header, when it is whole and says something sane.
    struct Header {
        var slot: Int
        var sequence: UInt64
        var bodyLength: Int
        var bytes: [UInt8]  // the 64 header bytes (the AEAD associated data is the first 24)
    }

    func header(slot: Int) throws(ConfigError) -> Header? {
        var bytes = [UInt8](repeating: 0, count: ConfigLayout.slotHeaderSize)
        let failure = bytes.withUnsafeMutableBytes { b -> FlashError? in
            do throws(FlashError) {
                try flash.read(block: slot * blocksPerSlot, offset: 0, into: b)
                return nil
            } catch { return error }
        }
        if let failure { throw .flash(failure) }
        return bytes.withUnsafeBytes { b -> Header? in
            var r = ConfigReader(b)
            do throws(ConfigFormatError) {
                try r.magic(ConfigLayout.slotMagic, .localPart)
                try r.version(.localPart)
                guard try r.u16(.localPart) == UInt16(ConfigLayout.slotHeaderSize) else { return nil }
                let length = Int(truncatingIfNeeded: try r.u32(.localPart))
                let sequence = try r.u64(.localPart)
                guard CRC32.checksum(b.slice(0, 60)) == b.loadLE(UInt32.self, at: 60) else { return nil }
                guard sequence >= 1, length >= ConfigLayout.bodyOverhead, length <= slotBytes - bodyOffset else {
                    return nil
                }
                return Header(slot: slot, sequence: sequence, bodyLength: length, bytes: bytes)
            } catch {
                return nil
            }
        }
    }

    /// The installed config: the newest slot that checks out (header CRC,
    /// body AEAD, CONFIG format and signature), or nil when neither does.
    public func load() throws(ConfigError) -> InstalledConfig? {
        try newest()?.config
    }

    struct Found {
        var slot: Int
        var sequence: UInt64
        var config: InstalledConfig
    }

    /// Also reports the highest sequence seen in any header, valid body or not.
    func newest() throws(ConfigError) -> Found? {
        let a = try header(slot: 0), b = try header(slot: 1)
        var order: [Header] = []
        if let a { order.append(a) }
        if let b {
            if let a, b.sequence < a.sequence { order.append(b) } else { order.insert(b, at: 0) }
        }
        for h in order {
            if let config = try open(h) { return Found(slot: h.slot, sequence: h.sequence, config: config) }
        }
        return nil
    }

    /// Reads and decrypts a slot's body; nil when it does not authenticate
    /// or does not hold a well-formed, correctly signed config.
    private func open(_ h: Header) throws(ConfigError) -> InstalledConfig? {
        let body = UnsafeMutableRawBufferPointer.allocate(byteCount: h.bodyLength, alignment: 16)
        defer {
            C.zeroize(body)
            body.deallocate()
        }
        try readSlot(h.slot, offset: bodyOffset, into: body)
        let plainCount = h.bodyLength - CryptoSizes.tag
        let ok = h.bytes.withUnsafeBytes { hb in
            C.aeadOpen(key: UnsafeRawBufferPointer(key), nonce: hb.slice(24, 24), associatedData: hb.slice(0, 24),
                       ciphertext: UnsafeRawBufferPointer(body), output: body.slice(0, plainCount))
        }
        guard ok else { return nil }
        let plain = UnsafeRawBufferPointer(body.slice(0, plainCount))
        // Authenticated by the AEAD, but checked like any input all the same.
        let a = Int(truncatingIfNeeded: plain.loadLE(UInt32.self, at: 0))
        let l = Int(truncatingIfNeeded: plain.loadLE(UInt32.self, at: 4))
        guard l == ConfigLayout.localPartSize, a >= 0, a <= plainCount - 8 - l, 8 + a + l == plainCount else { return nil }
        let blob = plain.slice(8, a)
        guard let config = try? DeviceConfig.decode(blob) else { return nil }
        let signed = config.provisioningKey.withUnsafeBytes { ConfigSignature<C>.verify(config: blob, publicKey: $0) }
        guard signed, let duress = try? LocalPart.decode(plain.slice(8 + a, l), base: 8 + a) else { return nil }
        return InstalledConfig(sequence: h.sequence, config: config, configBytes: [UInt8](blob), duress: duress)
    }

    // MARK: Writing

    /// Installs `config` (a signed CONFIG blob) with the device-local
    /// `duress` into the slot not holding the newest valid config: erase the
    /// slot, program the body, sync, program the commit header, sync.
    /// Returns the new sequence number. Checks nothing about the config
    /// itself (`ConfigInstaller` does).
    @discardableResult
    public func write(config: UnsafeRawBufferPointer, duress: DuressVerifier?) throws(ConfigError) -> UInt64 {
        guard config.count <= capacity else { throw .tooLarge(bytes: config.count, capacity: capacity) }
        let current = try newest()
        var sequence = current?.sequence ?? 0
        let target = current.map { 1 - $0.slot } ?? 0
        if let other = try header(slot: target), other.sequence > sequence { sequence = other.sequence }
        sequence &+= 1

        let g = flash.geometry
        let bodyLength = 8 + config.count + ConfigLayout.localPartSize + CryptoSizes.tag
        let padded = g.alignUp(bodyLength)
        let body = UnsafeMutableRawBufferPointer.allocate(byteCount: padded, alignment: 16)
        defer {
            C.zeroize(body)
            body.deallocate()
        }
        body.fill(0)
        body.storeLE(UInt32(config.count), at: 0)
        body.storeLE(UInt32(ConfigLayout.localPartSize), at: 4)
        body.copy(config, to: 8)
        LocalPart.encode(duress, into: body.slice(8 + config.count, ConfigLayout.localPartSize))

        let header = UnsafeMutableRawBufferPointer.allocate(byteCount: bodyOffset, alignment: 16)
        defer { header.deallocate() }
        header.fill(0xFF)
        label(ConfigLayout.slotMagic) { header.copy($0, to: 0) }
        header.storeLE(ConfigLayout.formatVersion, at: 8)
        header.storeLE(UInt16(ConfigLayout.slotHeaderSize), at: 10)
        header.storeLE(UInt32(bodyLength), at: 12)
        header.storeLE(sequence, at: 16)
        C.randomBytes(header.slice(24, 24))
        header.slice(48, 12).fill(0)
        header.storeLE(CRC32.checksum(UnsafeRawBufferPointer(header.slice(0, 60))), at: 60)

        let plainCount = bodyLength - CryptoSizes.tag
        C.aeadSeal(key: UnsafeRawBufferPointer(key), nonce: UnsafeRawBufferPointer(header.slice(24, 24)),
                   associatedData: UnsafeRawBufferPointer(header.slice(0, 24)),
                   plaintext: UnsafeRawBufferPointer(body.slice(0, plainCount)), output: body.slice(0, bodyLength))

        do throws(FlashError) {
            var b = 0
            while b < blocksPerSlot {
                try flash.erase(block: target * blocksPerSlot + b)
                b += 1
            }
            try programSlot(target, offset: bodyOffset, from: UnsafeRawBufferPointer(body))
            try flash.sync()
            try flash.program(block: target * blocksPerSlot, offset: 0, from: UnsafeRawBufferPointer(header))
            try flash.sync()
        } catch {
            throw .flash(error)
        }
        return sequence
    }

    /// Erases both slots (the device forgets its config and pinned key).
    public func erase() throws(ConfigError) {
        do throws(FlashError) {
            var b = 0
            while b < 2 * blocksPerSlot {
                try flash.erase(block: b)
                b += 1
            }
            try flash.sync()
        } catch {
            throw .flash(error)
        }
    }

    // MARK: Slot addressing: byte o of a slot is block o / size, offset o % size.

    private func readSlot(_ slot: Int, offset: Int, into out: UnsafeMutableRawBufferPointer) throws(ConfigError) {
        let size = flash.geometry.eraseBlockSize
        var done = 0
        while done < out.count {
            let at = offset + done
            let n = min(out.count - done, size - at % size)
            do throws(FlashError) {
                try flash.read(block: slot * blocksPerSlot + at / size, offset: at % size, into: out.slice(done, n))
            } catch {
                throw .flash(error)
            }
            done += n
        }
    }

    private func programSlot(_ slot: Int, offset: Int, from data: UnsafeRawBufferPointer) throws(FlashError) {
        let size = flash.geometry.eraseBlockSize
        var done = 0
        while done < data.count {
            let at = offset + done
            let n = min(data.count - done, size - at % size)
            try flash.program(block: slot * blocksPerSlot + at / size, offset: at % size, from: data.slice(done, n))
            done += n
        }
    }
}
