@testable import HavenCore
import HavenSodium
import Testing

@Suite struct HostileImageTests {
    let keys = TestKeys.make()

    @Test(arguments: 1...30)
    func randomImagesAreRefusedOrMountEmpty(seed: Int) throws {
        let flash = RAMFlash(geometry: TestGeometry.smallNOR)
        var rng = SplitMix64(seed: UInt64(seed))
        let bytes = (0..<TestGeometry.smallNOR.totalSize).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        bytes.withUnsafeBytes { flash.overwrite(block: 0, offset: 0, with: $0) }
        #expect(throws: StoreError.unrecognizedImage) { try mount(flash, dataKey: keys.dataKey) }
        #expect(throws: StoreError.unrecognizedImage) { try Superblock<RAMFlash, Sodium>.inspect(flash) }
    }

    @Test func zerosAndBlankImages() throws {
        let zeros = RAMFlash(geometry: TestGeometry.smallNOR)
        [UInt8](repeating: 0, count: TestGeometry.smallNOR.totalSize).withUnsafeBytes {
            zeros.overwrite(block: 0, offset: 0, with: $0)
        }
        #expect(throws: StoreError.unrecognizedImage) { try mount(zeros, dataKey: keys.dataKey) }
        #expect(throws: StoreError.notFormatted) { try mount(RAMFlash(geometry: TestGeometry.smallNOR), dataKey: keys.dataKey) }
    }

    @Test func wrongGeometryIsRefused() throws {
        // Format with one geometry, then look at the same bytes through another.
        let original = RAMFlash(geometry: TestGeometry.smallNOR)
        _ = try formatAndMount(original, keys: keys)
        let other = try FlashGeometry(programUnit: 16, eraseBlockSize: 4096, blockCount: 20)
        let reread = RAMFlash(geometry: other)
        original.withImage { reread.overwrite(block: 0, offset: 0, with: $0) }
        #expect(throws: StoreError.geometryMismatch) { try mount(reread, dataKey: keys.dataKey) }
        let tiny = try FlashGeometry(programUnit: 16, eraseBlockSize: 512, blockCount: 8)
        #expect(throws: StoreError.geometryTooSmall) { try mount(RAMFlash(geometry: tiny), dataKey: keys.dataKey) }
    }

    @Test func newerFormatVersionIsRefused() throws {
        let flash = RAMFlash(geometry: TestGeometry.smallNOR)
        _ = try formatAndMount(flash, keys: keys)
        // Rewrite the header with version 2 and a valid CRC.
        var header = [UInt8](repeating: 0, count: StoreLayout.superHeaderSize)
        try header.withUnsafeMutableBytes { try flash.read(block: 0, offset: 0, into: $0) }
        header[8] = 2
        let body = StoreLayout.superHeaderBodySize
        let crc = header.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<body])) }
        for i in 0..<4 { header[body + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        header.withUnsafeBytes { flash.overwrite(block: 0, offset: 0, with: $0) }
        #expect(throws: StoreError.unsupportedVersion(2)) { try mount(flash, dataKey: keys.dataKey) }
    }

    @Test func tornSuperblockHeaderIsReportedNotCrashed() throws {
        let flash = RAMFlash(geometry: TestGeometry.smallNOR)
        _ = try formatAndMount(flash, keys: keys)
        flash.flipBit(block: 0, offset: 100, bit: 2)
        #expect(throws: StoreError.metadataCorrupt(block: 0)) { try mount(flash, dataKey: keys.dataKey) }
    }

    /// Garbage in the log ring of a valid store (another key's blocks, random
    /// bytes): mount ignores it and the store's own records stay intact.
    @Test(arguments: 1...10)
    func randomBytesInTheRingNeverCrash(seed: Int) throws {
        let flash = RAMFlash(geometry: TestGeometry.smallNOR)
        let store = try formatAndMount(flash, keys: keys)
        var written: [UInt64: [UInt8]] = [:]
        for n in 0..<8 { let b = recordBytes(n, length: 500); written[try store.append(b)] = b }
        let used = Set([store.head, store.tail])
        store.close()
        var rng = SplitMix64(seed: UInt64(seed))
        for block in 2..<16 where !used.contains(block) {
            let noise = (0..<4096).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            noise.withUnsafeBytes { flash.overwrite(block: block, offset: 0, with: $0) }
        }
        let again = try mount(flash, dataKey: keys.dataKey)
        for (id, bytes) in written { #expect(try again.read(id) == bytes) }
        for n in 0..<15 { try again.append(recordBytes(100 + n, length: 900)) }
    }
}
