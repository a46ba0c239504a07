/// The numbers of Docs/config-format.md, in one place. Every decoder and
/// encoder of the config formats uses these and nothing else.
public enum ConfigLayout {
    // MARK: Magics (8 ASCII bytes each)
    static let bundleMagic: StaticString = "HAVNBNDL"
    static let configMagic: StaticString = "HAVNCONF"
    static let pinMagic: StaticString = "HAVNPINM"
    static let slotMagic: StaticString = "HAVNCFGS"

    /// The only format version of every structure in v1.
    public static let formatVersion: UInt16 = 1

    // MARK: Sizes
    public static let bundleHeaderSize = 24
    public static let configHeaderSize = 88
    public static let sectionHeaderSize = 8
    public static let policyFixedSize = 48
    public static let signatureSize = 64
    public static let pinHeaderSize = 16
    public static let pinEntrySize = 56
    public static let slotHeaderSize = 64
    public static let localPartSize = 64

    // MARK: Limits
    /// PIN slots a PIN MATERIAL may carry (the store has 4 key slots).
    public static let maxPinSlots = 4
    public static let maxDeviceNames = 256
    public static let maxNameBytes = 64
    public static let maxRecipients = 16
    public static let maxBackoffSteps = 32
    /// The default largest config (CONFIG blob plus the slot's overhead):
    /// the config area has two slots of ceil(this / erase block) blocks.
    public static let defaultMaxConfigBytes = 256 * 1024

    // MARK: Section types, in the order they must appear
    static let sectionPolicy: UInt16 = 1
    static let sectionDeviceNames: UInt16 = 2
    static let sectionRecipients: UInt16 = 3
    static let sectionInstrument: UInt16 = 4
    static let sectionDecoy: UInt16 = 5

    // MARK: Domain-separation labels
    /// Prefix of the signed message: label ‖ CONFIG[0 ..< L − 64].
    static let signatureLabel: StaticString = "haven config signature v1\0"
    static let atRestInfo: StaticString = "haven config at rest v1"
    static let duressBindInfo: StaticString = "haven duress bind v1"
    static let deviceIDInfo: StaticString = "haven device id v1"

    /// The signed-message prefix as bytes (host signers use it too).
    public static var signatureDomain: [UInt8] {
        label(signatureLabel) { [UInt8]($0) }
    }

    /// Plaintext overhead around the CONFIG blob in a slot body: lengths (8),
    /// the device-local part (64) and the AEAD tag (16).
    static let bodyOverhead = 8 + localPartSize + CryptoSizes.tag

    /// Blocks per slot for configs up to `maxConfigBytes` (slot header and
    /// body overhead included): k = ceil(maxConfigBytes / erase block).
    public static func blocksPerSlot(maxConfigBytes: Int, eraseBlockSize: Int) -> Int {
        max(1, (maxConfigBytes + eraseBlockSize - 1) / eraseBlockSize)
    }

    /// The largest CONFIG blob a config area for `maxConfigBytes` holds on
    /// a part with `geometry` (what `ConfigArea.capacity` will say).
    public static func capacity(geometry: FlashGeometry, maxConfigBytes: Int = defaultMaxConfigBytes) -> Int {
        let k = blocksPerSlot(maxConfigBytes: maxConfigBytes, eraseBlockSize: geometry.eraseBlockSize)
        return k * geometry.eraseBlockSize - geometry.alignUp(slotHeaderSize) - bodyOverhead
    }

    /// Splits a flash part: the last 2k blocks are the config area, the rest
    /// the log store (decisions: config area at the end of the part).
    public static func split<F: Flash>(_ flash: F, maxConfigBytes: Int = defaultMaxConfigBytes)
        throws(FlashError) -> (store: FlashPartition<F>, config: FlashPartition<F>) {
        let g = flash.geometry
        let k = blocksPerSlot(maxConfigBytes: maxConfigBytes, eraseBlockSize: g.eraseBlockSize)
        guard g.blockCount > 2 * k else { throw .invalidGeometry }
        let storeBlocks = g.blockCount - 2 * k
        return (try FlashPartition(flash, firstBlock: 0, blockCount: storeBlocks),
                try FlashPartition(flash, firstBlock: storeBlocks, blockCount: 2 * k))
    }
}

/// A bounds-checked cursor over hostile bytes: every read names the field it
/// is for, so a short or malformed blob gives a typed error with the offset.
struct ConfigReader {
    let bytes: UnsafeRawBufferPointer
    /// Added to positions in errors (a section's place in its blob).
    let base: Int
    private(set) var position = 0

    init(_ bytes: UnsafeRawBufferPointer, base: Int = 0) {
        self.bytes = bytes
        self.base = base
    }

    var remaining: Int { bytes.count - position }
    var absolute: Int { base + position }

    mutating func need(_ n: Int, _ field: ConfigField) throws(ConfigFormatError) {
        guard n >= 0, n <= remaining else { throw .truncated(field: field, offset: absolute) }
    }

    mutating func u8(_ field: ConfigField) throws(ConfigFormatError) -> UInt8 {
        try need(1, field)
        defer { position += 1 }
        return bytes[position]
    }

    mutating func u16(_ field: ConfigField) throws(ConfigFormatError) -> UInt16 {
        try need(2, field)
        defer { position += 2 }
        return bytes.loadLE(UInt16.self, at: position)
    }

    mutating func u32(_ field: ConfigField) throws(ConfigFormatError) -> UInt32 {
        try need(4, field)
        defer { position += 4 }
        return bytes.loadLE(UInt32.self, at: position)
    }

    mutating func u64(_ field: ConfigField) throws(ConfigFormatError) -> UInt64 {
        try need(8, field)
        defer { position += 8 }
        return bytes.loadLE(UInt64.self, at: position)
    }

    /// A u32 length or count as an Int, refusing values over 2³¹ − 1 (an
    /// `Int(UInt32)` conversion would trap on a 32-bit microcontroller).
    mutating func length(_ field: ConfigField) throws(ConfigFormatError) -> Int {
        let at = absolute
        let v = try u32(field)
        guard v <= 0x7FFF_FFFF else { throw .invalidValue(field: field, offset: at) }
        return Int(truncatingIfNeeded: v)
    }

    mutating func take(_ n: Int, _ field: ConfigField) throws(ConfigFormatError) -> UnsafeRawBufferPointer {
        try need(n, field)
        defer { position += n }
        return bytes.slice(position, n)
    }

    mutating func array(_ n: Int, _ field: ConfigField) throws(ConfigFormatError) -> [UInt8] {
        [UInt8](try take(n, field))
    }

    /// A flag byte: 0 or 1, anything else is refused.
    mutating func flag(_ field: ConfigField) throws(ConfigFormatError) -> Bool {
        let at = absolute
        let b = try u8(field)
        guard b <= 1 else { throw .invalidValue(field: field, offset: at) }
        return b == 1
    }

    /// Reserved bytes must be zero (so v1 readers can trust a v1 writer).
    mutating func reserved(_ n: Int, _ field: ConfigField) throws(ConfigFormatError) {
        let at = absolute
        let r = try take(n, field)
        var i = 0
        while i < n {
            if r[i] != 0 { throw .invalidValue(field: field, offset: at + i) }
            i += 1
        }
    }

    mutating func magic(_ expected: StaticString, _ field: ConfigField) throws(ConfigFormatError) {
        let at = absolute
        let m = try take(8, field)
        let ok = label(expected) { e -> Bool in
            var i = 0
            while i < 8 {
                if e[i] != m[i] { return false }
                i += 1
            }
            return true
        }
        if !ok { throw .badMagic(field: field, offset: at) }
    }

    mutating func version(_ field: ConfigField) throws(ConfigFormatError) {
        let v = try u16(field)
        guard v == ConfigLayout.formatVersion else { throw .unsupportedVersion(field: field, version: v) }
    }
}

/// Writes the config formats into a growing array (host builder, tests and
/// the device when it re-encodes its device-local part).
struct ConfigWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { le(UInt64(v), 2) }
    mutating func u32(_ v: UInt32) { le(UInt64(v), 4) }
    mutating func u64(_ v: UInt64) { le(v, 8) }
    mutating func append(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    mutating func zeros(_ n: Int) { bytes.append(contentsOf: [UInt8](repeating: 0, count: n)) }
    mutating func magic(_ m: StaticString) { label(m) { bytes.append(contentsOf: $0) } }

    mutating func patch32(_ v: UInt32, at offset: Int) {
        var x = v
        var i = 0
        while i < 4 {
            bytes[offset + i] = UInt8(truncatingIfNeeded: x)
            x >>= 8
            i += 1
        }
    }

    private mutating func le(_ v: UInt64, _ n: Int) {
        var x = v
        var i = 0
        while i < n {
            bytes.append(UInt8(truncatingIfNeeded: x))
            x >>= 8
            i += 1
        }
    }
}
