import HavenCore
import HavenSodium

typealias RAMStore = LogStore<RAMFlash, Sodium>
typealias FaultyStore = LogStore<FaultInjectingFlash<RAMFlash>, Sodium>

/// Geometries the store is tested on: a small NOR-like part (fast, GC-heavy),
/// a NAND-like part with big pages, and the simulator board's shape.
enum TestGeometry {
    static let smallNOR = try! FlashGeometry(programUnit: 16, eraseBlockSize: 4096, blockCount: 16)
    static let nandPages = try! FlashGeometry(programUnit: 512, eraseBlockSize: 16384, blockCount: 10)
    static let sim = try! FlashGeometry(programUnit: 16, eraseBlockSize: 65536, blockCount: 40)
}

/// Keys a test device holds.
struct TestKeys {
    var dataKey: [UInt8]
    var kek: [UInt8]

    static func make(seed: UInt8 = 1) -> TestKeys {
        TestKeys(dataKey: (0..<32).map { UInt8(truncatingIfNeeded: Int($0) &* 7 &+ Int(seed)) },
                 kek: (0..<32).map { UInt8(truncatingIfNeeded: Int($0) &* 13 &+ Int(seed) &+ 100) })
    }

    func slot(index: Int = 0) -> KeySlot {
        dataKey.withUnsafeBytes { dk in
            kek.withUnsafeBytes { k in
                KeySlots<Sodium>.wrap(dataKey: dk, kek: k, index: index, kind: .rawKey, kdfIterations: 0,
                                      kdfMemoryKiB: 0, salt: [UInt8](repeating: 9, count: 16))
            }
        }
    }
}

/// Formats `flash` with one raw-key slot and mounts it.
func formatAndMount<F: Flash>(_ flash: F, keys: TestKeys) throws -> LogStore<F, Sodium> {
    try keys.dataKey.withUnsafeBytes { dk in
        try Superblock<F, Sodium>.format(flash, dataKey: dk, slots: [keys.slot()])
    }
    return try mount(flash, dataKey: keys.dataKey)
}

func mount<F: Flash>(_ flash: F, dataKey: [UInt8]) throws -> LogStore<F, Sodium> {
    try dataKey.withUnsafeBytes { dk in try LogStore<F, Sodium>(flash: flash, dataKey: dk) }
}

/// Unlocks like the device does: read the slots, unwrap with a KEK.
func unlock<F: Flash>(_ flash: F, kek: [UInt8]) throws -> [UInt8] {
    let state = try Superblock<F, Sodium>.inspect(flash)
    var key = [UInt8](repeating: 0, count: 32)
    for (i, slot) in state.slots.enumerated() where slot.kind != .empty {
        do {
            try key.withUnsafeMutableBytes { out in
                try kek.withUnsafeBytes { k in try KeySlots<Sodium>.unwrap(slot, index: i, kek: k, dataKey: out) }
            }
            return key
        } catch {}
    }
    throw StoreError.noMatchingKeySlot
}

/// Deterministic record contents: an id-tagged pattern a scan can look for.
func recordBytes(_ n: Int, length: Int) -> [UInt8] {
    var rng = SplitMix64(seed: UInt64(n) &* 0x9E37 &+ 7)
    var out = [UInt8](repeating: 0, count: length)
    let tag = Array("REC\(n)#".utf8)
    for i in 0..<length {
        out[i] = i < tag.count ? tag[i] : UInt8(truncatingIfNeeded: rng.next())
    }
    return out
}

extension LogStore {
    /// Every entry of a walk, for assertions.
    func allEntries(verifying: Bool = false) throws -> [RecordEntry] {
        var cursor = try makeCursor(verifyingContents: verifying)
        var out: [RecordEntry] = []
        while let e = try next(&cursor) { out.append(e) }
        return out
    }
}

/// True when `needle` occurs anywhere in `haystack`.
func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
    guard needle.count > 0, haystack.count >= needle.count else { return false }
    let first = needle[0]
    var i = 0
    let last = haystack.count - needle.count
    while i <= last {
        if haystack[i] == first {
            var j = 1
            while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
            if j == needle.count { return true }
        }
        i += 1
    }
    return false
}
