import HavenCore
import Testing

@Suite struct FlashRulesTests {
    let geometry = try! FlashGeometry(programUnit: 16, eraseBlockSize: 256, blockCount: 4)

    @Test func geometryConstraintsAreChecked() {
        #expect(throws: FlashError.invalidGeometry) { try FlashGeometry(programUnit: 3, eraseBlockSize: 96, blockCount: 1) }
        #expect(throws: FlashError.invalidGeometry) { try FlashGeometry(programUnit: 16, eraseBlockSize: 100, blockCount: 1) }
        #expect(throws: FlashError.invalidGeometry) { try FlashGeometry(programUnit: 16, eraseBlockSize: 256, blockCount: 0) }
    }

    @Test func programOnlyErasedBytesAndWholeUnits() throws {
        let flash = RAMFlash(geometry: geometry)
        let data = [UInt8](repeating: 0x42, count: 16)
        try data.withUnsafeBytes { try flash.program(block: 1, offset: 32, from: $0) }
        #expect(throws: FlashError.notErased(block: 1, offset: 32)) {
            try data.withUnsafeBytes { try flash.program(block: 1, offset: 32, from: $0) }
        }
        #expect(throws: FlashError.misaligned(block: 1, offset: 8, count: 16)) {
            try data.withUnsafeBytes { try flash.program(block: 1, offset: 8, from: $0) }
        }
        #expect(throws: FlashError.outOfBounds(block: 4, offset: 0, count: 16)) {
            try data.withUnsafeBytes { try flash.program(block: 4, offset: 0, from: $0) }
        }
        #expect(throws: FlashError.outOfBounds(block: 0, offset: 248, count: 16)) {
            try data.withUnsafeBytes { try flash.program(block: 0, offset: 248, from: $0) }
        }
        var back = [UInt8](repeating: 0, count: 16)
        try back.withUnsafeMutableBytes { try flash.read(block: 1, offset: 32, into: $0) }
        #expect(back == data)
        try flash.erase(block: 1)
        try back.withUnsafeMutableBytes { try flash.read(block: 1, offset: 32, into: $0) }
        #expect(back == [UInt8](repeating: 0xFF, count: 16))
        #expect(flash.eraseCount(block: 1) == 1)
    }

    @Test func blocksWearOut() throws {
        let flash = RAMFlash(geometry: geometry, endurance: 3)
        for _ in 0..<3 { try flash.erase(block: 2) }
        #expect(throws: FlashError.wornOut(block: 2)) { try flash.erase(block: 2) }
        let data = [UInt8](repeating: 0, count: 16)
        #expect(throws: FlashError.wornOut(block: 2)) {
            try data.withUnsafeBytes { try flash.program(block: 2, offset: 0, from: $0) }
        }
        try flash.erase(block: 3)  // other blocks unaffected
    }

    @Test(arguments: 1...40)
    func powerCutTearsTheCutProgramAndStopsEverything(seed: Int) throws {
        let ram = RAMFlash(geometry: geometry)
        let flash = FaultInjectingFlash(ram, powerCutAt: 2, seed: UInt64(seed))
        let data = [UInt8](repeating: 0x00, count: 64)
        try data.withUnsafeBytes { try flash.program(block: 0, offset: 0, from: $0) }
        #expect(throws: FlashError.powerLost) {
            try data.withUnsafeBytes { try flash.program(block: 0, offset: 64, from: $0) }
        }
        #expect(flash.powerIsLost)
        #expect(throws: FlashError.powerLost) { try flash.erase(block: 1) }
        // The torn region: a prefix of whole units, then one partial unit, then erased.
        var back = [UInt8](repeating: 0, count: 64)
        try back.withUnsafeMutableBytes { try ram.read(block: 0, offset: 64, into: $0) }
        let units = (0..<4).map { Array(back[($0 * 16)..<(($0 + 1) * 16)]) }
        let written = units.firstIndex { $0 != [UInt8](repeating: 0, count: 16) } ?? 4
        for u in 0..<4 where u > written { #expect(units[u] == [UInt8](repeating: 0xFF, count: 16)) }
    }

    @Test(arguments: 1...12)
    func powerCutDuringEraseLeavesAPlausibleState(seed: Int) throws {
        let ram = RAMFlash(geometry: geometry)
        let old = [UInt8](repeating: 0x11, count: 256)
        try old.withUnsafeBytes { try ram.program(block: 1, offset: 0, from: $0) }
        let flash = FaultInjectingFlash(ram, powerCutAt: 1, seed: UInt64(seed))
        #expect(throws: FlashError.powerLost) { try flash.erase(block: 1) }
        var back = [UInt8](repeating: 0, count: 256)
        try back.withUnsafeMutableBytes { try ram.read(block: 1, offset: 0, into: $0) }
        // Every byte is either the old value or erased; the tail is never old
        // unless nothing was erased at all.
        #expect(back.allSatisfy { $0 == 0x11 || $0 == 0xFF })
    }

    @Test func wornBlocksInjected() throws {
        let flash = FaultInjectingFlash(RAMFlash(geometry: geometry))
        flash.wornBlocks = [3]
        #expect(throws: FlashError.wornOut(block: 3)) { try flash.erase(block: 3) }
        try flash.erase(block: 2)
    }
}
