@testable import HavenCore
import HavenSodium
import Testing

@Suite struct CryptoEraseTests {
    @Test(arguments: [TestGeometry.smallNOR, TestGeometry.sim])
    func afterCryptoEraseNothingReadableRemains(geometry: FlashGeometry) throws {
        let keys = TestKeys.make()
        let ram = RAMFlash(geometry: geometry)
        let flash = FaultInjectingFlash(ram)
        let store = try formatAndMount(flash, keys: keys)
        var plaintexts: [[UInt8]] = []
        for n in 0..<(geometry == TestGeometry.smallNOR ? 25 : 60) {
            let bytes = recordBytes(n, length: 400 + n * 20)
            try store.append(bytes)
            plaintexts.append(bytes)
        }
        // Plaintext never reaches flash, even before the erase.
        ram.withImage { image in
            for p in plaintexts { #expect(!contains(image, Array(p.prefix(24)))) }
        }
        let before = flash.operations
        try store.cryptoErase()
        // The cost is the two superblock erases, whatever the data size.
        #expect(flash.operations - before == 2)
        ram.withImage { image in
            for p in plaintexts { #expect(!contains(image, Array(p.prefix(24)))) }
            #expect(!contains(image, keys.dataKey))
            #expect(!contains(image, keys.kek))
            // Nor any 16-byte window of either key.
            for start in stride(from: 0, to: 17, by: 8) {
                #expect(!contains(image, Array(keys.dataKey[start..<(start + 16)])))
            }
        }
        // Nothing opens any more: no slot, no store.
        #expect(throws: StoreError.notFormatted) { try unlock(ram, kek: keys.kek) }
        #expect(throws: StoreError.notFormatted) { try mount(ram, dataKey: keys.dataKey) }
        #expect(throws: StoreError.closed) { try store.append(recordBytes(1, length: 1)) }
        // The device can be provisioned again; old blocks never authenticate.
        let fresh = TestKeys.make(seed: 77)
        let reborn = try formatAndMount(ram, keys: fresh)
        #expect(reborn.nextRecordID == 1)
        #expect(try reborn.allEntries().isEmpty)
        let id = try reborn.append(recordBytes(5, length: 100))
        #expect(try reborn.read(id) == recordBytes(5, length: 100))
    }

    @Test func eraseWorksWhileLockedWithoutTheKey() throws {
        let keys = TestKeys.make()
        let flash = RAMFlash(geometry: TestGeometry.smallNOR)
        let store = try formatAndMount(flash, keys: keys)
        try store.append(recordBytes(1, length: 100))
        store.close()
        try Superblock<RAMFlash, Sodium>.cryptoErase(flash)  // e.g. too many wrong PINs
        #expect(throws: StoreError.notFormatted) { try Superblock<RAMFlash, Sodium>.inspect(flash) }
    }
}
