@testable import HavenCore
import HavenSodium
import Testing

/// Every config-format decoder on hostile input: each truncation of a valid
/// blob and random bytes give a typed error, never a crash or a hang.
@Suite struct ConfigHostileTests {
    static let built = try! ConfigFixture().build()

    func decodeAll(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { b in
            var any = false
            if (try? DeviceConfig.decode(b)) != nil { any = true }
            if (try? PinMaterial.decode(b)) != nil { any = true }
            if (try? ConfigBundle.split(b)) != nil { any = true }
            return any
        }
    }

    @Test func everyTruncationOfAConfigIsATypedError() {
        let config = Self.built.config
        for n in 0..<config.count {
            let cut = Array(config[0..<n])
            cut.withUnsafeBytes { b in
                _ = #expect(throws: ConfigFormatError.self, "length \(n)") { try DeviceConfig.decode(b) }
            }
        }
        config.withUnsafeBytes { b in #expect(throws: Never.self) { try DeviceConfig.decode(b) } }
    }

    @Test func truncationsReportWhereTheyStop() throws {
        let config = Self.built.config
        let cut = Array(config[0..<40])
        cut.withUnsafeBytes { b in
            _ = #expect(throws: ConfigFormatError.truncated(field: .configLength, offset: 40)) { try DeviceConfig.decode(b) }
        }
    }

    @Test func hugeLengthFieldsAreRefusedNotConverted() {
        // 0xFFFFFFFF would trap as Int(UInt32) on a 32-bit microcontroller.
        var bundle = Self.built.bundle
        for i in 12..<16 { bundle[i] = 0xFF }
        bundle.withUnsafeBytes { b in
            _ = #expect(throws: ConfigFormatError.invalidValue(field: .bundleLength, offset: 12)) { try ConfigBundle.split(b) }
        }
        var config = Self.built.config
        for i in 12..<16 { config[i] = 0xFF }
        config.withUnsafeBytes { b in
            _ = #expect(throws: ConfigFormatError.invalidValue(field: .configLength, offset: 12)) { try DeviceConfig.decode(b) }
        }
        var section = Self.built.config
        for i in 92..<96 { section[i] = 0xFF }  // the policy section's length
        section.withUnsafeBytes { b in
            _ = #expect(throws: ConfigFormatError.invalidValue(field: .section, offset: 92)) { try DeviceConfig.decode(b) }
        }
    }

    @Test func everyTruncationOfPinMaterialAndBundleIsATypedError() {
        let pin = ConfigFixture().pinMaterial()
        for n in 0..<pin.count {
            Array(pin[0..<n]).withUnsafeBytes { b in
                _ = #expect(throws: ConfigFormatError.self) { try PinMaterial.decode(b) }
            }
        }
        let bundle = Self.built.bundle
        for n in 0..<bundle.count {
            Array(bundle[0..<n]).withUnsafeBytes { b in
                _ = #expect(throws: ConfigFormatError.self) { try ConfigBundle.split(b) }
            }
        }
    }

    @Test func randomBytesAreRefused() {
        var random = SplitMix64(seed: 77)
        for _ in 0..<3_000 {
            let n = random.next(below: 600)
            let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            #expect(!decodeAll(bytes))
        }
    }

    @Test func mutatedConfigsDecodeOrFailCleanly() {
        var random = SplitMix64(seed: 5)
        let config = Self.built.config
        for _ in 0..<3_000 {
            var m = config
            for _ in 0..<(1 + random.next(below: 4)) {
                m[random.next(below: m.count)] = UInt8(truncatingIfNeeded: random.next())
            }
            m.withUnsafeBytes { b in
                do throws(ConfigFormatError) { _ = try DeviceConfig.decode(b) } catch { _ = error }
            }
            // Whatever decodes, the signature catches.
            if m != config {
                let ok = m.withUnsafeBytes { b in
                    ConfigFixture.provisioning.publicKey.withUnsafeBytes { ConfigSignature<Sodium>.verify(config: b, publicKey: $0) }
                }
                #expect(!ok)
            }
        }
    }

    @Test func aConfigAreaFullOfGarbageReadsAsEmpty() throws {
        var random = SplitMix64(seed: 9)
        for round in 0..<40 {
            let ram = RAMFlash(geometry: ConfigFixture.geometry)
            let device = try ConfigDevice(ram)
            if round % 2 == 1 { try device.install(Self.built.bundle) }
            let g = ConfigFixture.geometry
            let k = ConfigLayout.blocksPerSlot(maxConfigBytes: ConfigFixture.maxConfigBytes, eraseBlockSize: g.eraseBlockSize)
            let first = g.blockCount - 2 * k
            // Random bytes over one slot's first block (a header-like prefix
            // sometimes: the magic and a plausible length).
            var junk = (0..<g.eraseBlockSize).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if round % 4 < 2 { junk.replaceSubrange(0..<8, with: Array("HAVNCFGS".utf8)) }
            let slot = random.next(below: 2)
            junk.withUnsafeBytes { ram.overwrite(block: first + slot * k, offset: 0, with: $0) }
            let loaded = try device.area.load()
            if round % 2 == 1 { #expect(loaded == nil || loaded?.version == 1) } else { #expect(loaded == nil) }
        }
    }

    @Test func aFlippedBitInTheNewestSlotFallsBackToTheOther() throws {
        let ram = RAMFlash(geometry: ConfigFixture.geometry)
        let device = try ConfigDevice(ram)
        try device.install(Self.built.bundle)
        var v2 = ConfigFixture()
        v2.version = 2
        try device.install(try v2.build().bundle)
        #expect(try device.area.load()?.version == 2)
        let g = ConfigFixture.geometry
        let k = ConfigLayout.blocksPerSlot(maxConfigBytes: ConfigFixture.maxConfigBytes, eraseBlockSize: g.eraseBlockSize)
        // v2 went to slot B (the second write).
        ram.flipBit(block: g.blockCount - k, offset: 100, bit: 3)
        #expect(try device.area.load()?.version == 1)
    }

    @Test func theConfigAtRestIsCiphertext() throws {
        let ram = RAMFlash(geometry: ConfigFixture.geometry)
        try ConfigDevice(ram).install(Self.built.bundle)
        let needles = [Array("Family life module".utf8), Array("Household savings".utf8), Array("Field tablet".utf8),
                       ConfigFixture.provisioning.publicKey]
        ram.withImage { image in
            for needle in needles { #expect(!contains(image, needle)) }
        }
    }

    @Test func aFlashPartitionStaysInsideItsBlocks() throws {
        let ram = RAMFlash(geometry: ConfigFixture.geometry)
        let part = try FlashPartition(ram, firstBlock: 20, blockCount: 4)
        #expect(part.geometry.blockCount == 4)
        #expect(throws: FlashError.outOfBounds(block: 4, offset: 0, count: 0)) { try part.erase(block: 4) }
        #expect(throws: FlashError.invalidGeometry) { try FlashPartition(ram, firstBlock: 21, blockCount: 4) }
        let data = [UInt8](repeating: 0xA5, count: 16)
        try data.withUnsafeBytes { try part.program(block: 1, offset: 32, from: $0) }
        var back = [UInt8](repeating: 0, count: 16)
        try back.withUnsafeMutableBytes { try ram.read(block: 21, offset: 32, into: $0) }
        #expect(back == data)
        #expect(throws: FlashError.notErased(block: 1, offset: 32)) {
            try data.withUnsafeBytes { try part.program(block: 1, offset: 32, from: $0) }
        }
    }
}
