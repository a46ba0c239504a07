/// One PIN slot's delivery: the Argon2id input and its output for the PIN.
/// `stretched` is a view into the caller's PIN MATERIAL buffer, never a
/// copy: the caller zeroizes that one buffer when the install is done.
public struct PinSlotMaterial {
    public var salt: [UInt8]
    public var iterations: UInt32
    public var memoryKiB: UInt32
    /// Argon2id(PIN, salt, iterations, memory KiB, 32 bytes).
    public var stretched: UnsafeRawBufferPointer
}

/// The PIN MATERIAL blob, decoded (Docs/config-format.md §3): consumed by
/// the install (key slots, duress verifier), never stored as received.
public struct PinMaterial {
    /// 1 ... 4 slots.
    public var slots: [PinSlotMaterial]
    /// The duress verifier as the builder made it (not yet bound to a device).
    public var duress: DuressVerifier?

    public static func decode(_ blob: UnsafeRawBufferPointer) throws(ConfigFormatError) -> PinMaterial {
        var r = ConfigReader(blob)
        try r.magic(ConfigLayout.pinMagic, .pinHeader)
        try r.version(.pinHeader)
        let sizeAt = r.absolute
        guard try r.u16(.pinHeader) == UInt16(ConfigLayout.pinHeaderSize) else {
            throw .invalidValue(field: .pinHeader, offset: sizeAt)
        }
        let countAt = r.absolute
        let n = Int(try r.u8(.pinHeader))
        guard n >= 1, n <= ConfigLayout.maxPinSlots else { throw .invalidValue(field: .pinHeader, offset: countAt) }
        let hasDuress = try r.flag(.pinHeader)
        try r.reserved(2, .pinHeader)
        var slots: [PinSlotMaterial] = []
        var i = 0
        while i < n {
            let (salt, t, m) = try kdfInput(&r, .pinSlot)
            let stretched = try r.take(32, .pinSlot)
            slots.append(PinSlotMaterial(salt: salt, iterations: t, memoryKiB: m, stretched: stretched))
            i += 1
        }
        var duress: DuressVerifier?
        if hasDuress {
            let (salt, t, m) = try kdfInput(&r, .pinDuress)
            duress = DuressVerifier(salt: salt, iterations: t, memoryKiB: m, tag: try r.array(32, .pinDuress))
        } else {
            try r.reserved(ConfigLayout.pinEntrySize, .pinDuress)
        }
        if r.remaining != 0 { throw .invalidValue(field: .trailingBytes, offset: r.absolute) }
        return PinMaterial(slots: slots, duress: duress)
    }

    /// salt[16] ‖ iterations u32 (≥ 1) ‖ memory KiB u32 (≥ 8, ≤ 4 GiB / 1024).
    private static func kdfInput(_ r: inout ConfigReader,
                                 _ field: ConfigField) throws(ConfigFormatError) -> ([UInt8], UInt32, UInt32) {
        let salt = try r.array(CryptoSizes.argon2SaltBytes, field)
        let tAt = r.absolute
        let t = try r.u32(field)
        guard t >= 1 else { throw .invalidValue(field: field, offset: tAt) }
        let mAt = r.absolute
        let m = try r.u32(field)
        guard m >= 8, m <= UInt32.max / 1024 else { throw .invalidValue(field: field, offset: mAt) }
        return (salt, t, m)
    }

    /// Encodes PIN MATERIAL (the host builder's side; tests). `stretched`
    /// holds one 32-byte Argon2id output per slot, in slot order.
    public static func encode(slots: [(salt: [UInt8], iterations: UInt32, memoryKiB: UInt32)], stretched: [[UInt8]],
                              duress: DuressVerifier?) -> [UInt8] {
        var w = ConfigWriter()
        w.magic(ConfigLayout.pinMagic)
        w.u16(ConfigLayout.formatVersion)
        w.u16(UInt16(ConfigLayout.pinHeaderSize))
        w.u8(UInt8(truncatingIfNeeded: slots.count))
        w.u8(duress == nil ? 0 : 1)
        w.u16(0)
        var i = 0
        while i < slots.count {
            w.append(slots[i].salt)
            w.u32(slots[i].iterations)
            w.u32(slots[i].memoryKiB)
            w.append(stretched[i])
            i += 1
        }
        if let d = duress {
            w.append(d.salt)
            w.u32(d.iterations)
            w.u32(d.memoryKiB)
            w.append(d.tag)
        } else {
            w.zeros(ConfigLayout.pinEntrySize)
        }
        return w.bytes
    }
}
