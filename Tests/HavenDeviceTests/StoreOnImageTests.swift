import Foundation
import HavenCore
import HavenDevice
import HavenSodium
import Testing

/// The store on the simulator's chip: a flash image file with the geometry
/// of `Hardware/boards/sim.json`, reopened as a reboot would.
@Suite struct StoreOnImageTests {
    let dataKey = Sodium.random(count: 32)

    func simGeometry() throws -> FlashGeometry {
        try BoardProfile.load(path: packageRoot + "/Hardware/boards/sim.json").geometry()
    }

    func format(_ flash: FileFlash) throws {
        try dataKey.withUnsafeBytes { try Superblock<FileFlash, Sodium>.format(flash, dataKey: $0, slots: []) }
    }

    func mount(_ flash: FileFlash) throws -> LogStore<FileFlash, Sodium> {
        try dataKey.withUnsafeBytes { try LogStore<FileFlash, Sodium>(flash: flash, dataKey: $0) }
    }

    @Test func recordsSurviveClosingAndReopeningTheImage() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/flash.img"
            let geometry = try simGeometry()
            var written: [UInt64: [UInt8]] = [:]
            do {
                let flash = try FileFlash(path: path, geometry: geometry)
                try format(flash)
                let store = try mount(flash)
                for n in 0..<40 {
                    let bytes = Sodium.random(count: 100 + n * 1000)
                    written[try store.append(bytes)] = bytes
                }
                try store.markPulled(1, 5)
            }
            let flash = try FileFlash(path: path, geometry: geometry, create: false)
            let store = try mount(flash)
            for (id, bytes) in written where id >= 5 { #expect(try store.read(id) == bytes) }
            #expect(store.unpulledCount == 36)
            // No plaintext reached the file.
            let image = try Data(contentsOf: URL(fileURLWithPath: path))
            for bytes in written.values where bytes.count >= 32 {
                #expect(image.range(of: Data(bytes.prefix(32))) == nil)
            }
        }
    }

    @Test func hostileImagesAreRefusedWithClearErrors() throws {
        try withTemporaryDirectory { dir in
            let geometry = try simGeometry()
            let size = geometry.totalSize
            // Random bytes and zeros of the right size.
            for (name, bytes) in [("random", Data(Sodium.random(count: size))), ("zeros", Data(count: size))] {
                let path = dir + "/\(name).img"
                FileManager.default.createFile(atPath: path, contents: bytes)
                let flash = try FileFlash(path: path, geometry: geometry, create: false)
                #expect(throws: StoreError.unrecognizedImage) { try mount(flash) }
                #expect(StoreError.unrecognizedImage.description.contains("not a Haven store"))
            }
            // A truncated image.
            let truncated = dir + "/truncated.img"
            FileManager.default.createFile(atPath: truncated, contents: Data(repeating: 0xFF, count: size / 2))
            #expect(throws: FileFlashError.sizeMismatch(expected: size, found: size / 2)) {
                try FileFlash(path: truncated, geometry: geometry, create: false)
            }
            // A real image read with another geometry of the same total size.
            let real = dir + "/real.img"
            try format(try FileFlash(path: real, geometry: geometry))
            let other = try FlashGeometry(programUnit: geometry.programUnit, eraseBlockSize: geometry.eraseBlockSize / 2,
                                          blockCount: geometry.blockCount * 2)
            let misread = try FileFlash(path: real, geometry: other, create: false)
            #expect(throws: StoreError.geometryMismatch) { try mount(misread) }
            #expect(StoreError.geometryMismatch.description.contains("board profile"))
        }
    }
}
