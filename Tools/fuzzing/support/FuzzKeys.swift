// Fixed keys and geometries the core targets and the seed generator share
// (`haven-bench fuzz-seeds` writes images with exactly these).
import HavenCore

enum FuzzFixed {
    /// The store's data key (what a fuzzed image is mounted with).
    static let dataKey: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
    /// The device secret the config area's at-rest key derives from.
    static let deviceSecret: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 11 &+ 5) }
    /// A 64 KiB NOR part: 16 blocks of 4 KiB, 16-byte program unit.
    static let storeGeometry = try! FlashGeometry(programUnit: 16, eraseBlockSize: 4096, blockCount: 16)
    /// The config partition: two slots of 16 blocks of 4 KiB.
    static let configGeometry = try! FlashGeometry(programUnit: 16, eraseBlockSize: 4096, blockCount: 32)

    /// A RAM flash holding `image` from byte 0, erased (0xFF) past its end.
    static func flash(_ geometry: FlashGeometry, image: [UInt8]) -> RAMFlash {
        let flash = RAMFlash(geometry: geometry)
        let n = min(image.count, geometry.totalSize)
        if n > 0 { image.withUnsafeBytes { flash.overwrite(block: 0, offset: 0, with: UnsafeRawBufferPointer(rebasing: $0[0..<n])) } }
        return flash
    }
}

enum FuzzAge {
    /// The X25519 secret the age seeds are sealed to (its recipient is
    /// X25519Base of this).
    static let secretKey: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ 9) }
}
