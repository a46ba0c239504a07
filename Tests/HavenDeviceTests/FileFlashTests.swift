import Foundation
import HavenCore
import Testing
@testable import HavenDevice

@Suite("FileFlash")
struct FileFlashTests {
    /// 4 blocks of 256 bytes, 16-byte program units.
    static func smallGeometry() throws -> FlashGeometry {
        try FlashGeometry(programUnit: 16, eraseBlockSize: 256, blockCount: 4)
    }

    static func fileSize(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? -1
    }

    static func program(_ flash: FileFlash, block: Int, offset: Int, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            try flash.program(block: block, offset: offset, from: raw)
        }
    }

    static func read(_ flash: FileFlash, block: Int, offset: Int, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        try out.withUnsafeMutableBytes { raw in
            try flash.read(block: block, offset: offset, into: raw)
        }
        return out
    }

    @Test func createFillsWithErasedBytes() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/chip.img"
            let geometry = try Self.smallGeometry()
            let flash = try FileFlash(path: path, geometry: geometry)
            #expect(try Self.fileSize(path) == geometry.totalSize)
            for block in 0..<geometry.blockCount {
                #expect(try Self.read(flash, block: block, offset: 0, count: 256) == [UInt8](repeating: 0xFF, count: 256))
            }
            // No temporary file is left behind.
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["chip.img"])
        }
    }

    @Test func programPersistsAcrossReopen() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/chip.img"
            let geometry = try Self.smallGeometry()
            let payload = (0..<32).map { UInt8($0) }
            do {
                let flash = try FileFlash(path: path, geometry: geometry)
                try Self.program(flash, block: 2, offset: 48, payload)
                try flash.sync()
                flash.close()
            }
            let reopened = try FileFlash(path: path, geometry: geometry, create: false)
            #expect(try Self.read(reopened, block: 2, offset: 48, count: 32) == payload)
            #expect(try Self.read(reopened, block: 2, offset: 40, count: 8) == [UInt8](repeating: 0xFF, count: 8))
            #expect(try Self.read(reopened, block: 2, offset: 80, count: 8) == [UInt8](repeating: 0xFF, count: 8))
            // Reads of any range inside a block, unaligned included.
            #expect(try Self.read(reopened, block: 2, offset: 51, count: 3) == [3, 4, 5])
        }
    }

    @Test func programOverProgrammedBytesIsNotErased() throws {
        try withTemporaryDirectory { dir in
            let flash = try FileFlash(path: dir + "/chip.img", geometry: try Self.smallGeometry())
            try Self.program(flash, block: 1, offset: 32, [UInt8](repeating: 0xA5, count: 16))
            // Overlapping the second unit of a two-unit program: first bad byte reported.
            var second = [UInt8](repeating: 0xFF, count: 16)
            second.append(contentsOf: [UInt8](repeating: 0x00, count: 16))
            #expect(throws: FlashError.notErased(block: 1, offset: 32)) {
                try Self.program(flash, block: 1, offset: 16, second)
            }
            // A refused program wrote nothing, not even its erased-range part.
            #expect(try Self.read(flash, block: 1, offset: 16, count: 16) == [UInt8](repeating: 0xFF, count: 16))
            // Even writing the same value again or all 0xFF over it is refused.
            #expect(throws: FlashError.notErased(block: 1, offset: 32)) {
                try Self.program(flash, block: 1, offset: 32, [UInt8](repeating: 0xA5, count: 16))
            }
            // After an erase the range can be programmed again.
            try flash.erase(block: 1)
            try Self.program(flash, block: 1, offset: 32, [UInt8](repeating: 0x5A, count: 16))
            #expect(try Self.read(flash, block: 1, offset: 32, count: 16) == [UInt8](repeating: 0x5A, count: 16))
        }
    }

    @Test func notErasedIsFoundAtTheExactByte() throws {
        try withTemporaryDirectory { dir in
            let flash = try FileFlash(path: dir + "/chip.img", geometry: try Self.smallGeometry())
            var data = [UInt8](repeating: 0xFF, count: 16)
            data[13] = 0x7F
            try Self.program(flash, block: 0, offset: 64, data)
            #expect(throws: FlashError.notErased(block: 0, offset: 77)) {
                try Self.program(flash, block: 0, offset: 64, [UInt8](repeating: 0xFF, count: 16))
            }
        }
    }

    @Test func misalignedProgramIsRefused() throws {
        try withTemporaryDirectory { dir in
            let flash = try FileFlash(path: dir + "/chip.img", geometry: try Self.smallGeometry())
            #expect(throws: FlashError.misaligned(block: 0, offset: 8, count: 16)) {
                try Self.program(flash, block: 0, offset: 8, [UInt8](repeating: 1, count: 16))
            }
            #expect(throws: FlashError.misaligned(block: 0, offset: 16, count: 10)) {
                try Self.program(flash, block: 0, offset: 16, [UInt8](repeating: 1, count: 10))
            }
            #expect(try Self.read(flash, block: 0, offset: 0, count: 48) == [UInt8](repeating: 0xFF, count: 48))
        }
    }

    @Test func outOfBoundsIsRefused() throws {
        try withTemporaryDirectory { dir in
            let flash = try FileFlash(path: dir + "/chip.img", geometry: try Self.smallGeometry())
            #expect(throws: FlashError.outOfBounds(block: 4, offset: 0, count: 16)) {
                _ = try Self.read(flash, block: 4, offset: 0, count: 16)
            }
            #expect(throws: FlashError.outOfBounds(block: -1, offset: 0, count: 16)) {
                _ = try Self.read(flash, block: -1, offset: 0, count: 16)
            }
            // A range crossing the end of a block.
            #expect(throws: FlashError.outOfBounds(block: 0, offset: 240, count: 32)) {
                try Self.program(flash, block: 0, offset: 240, [UInt8](repeating: 0, count: 32))
            }
            #expect(throws: FlashError.outOfBounds(block: 1, offset: 250, count: 10)) {
                _ = try Self.read(flash, block: 1, offset: 250, count: 10)
            }
            #expect(throws: FlashError.outOfBounds(block: 9, offset: 0, count: 0)) {
                try flash.erase(block: 9)
            }
            // The last bytes of the part are in bounds.
            #expect(try Self.read(flash, block: 3, offset: 240, count: 16) == [UInt8](repeating: 0xFF, count: 16))
        }
    }

    @Test func eraseRestoresErasedBytesInThatBlockOnly() throws {
        try withTemporaryDirectory { dir in
            let flash = try FileFlash(path: dir + "/chip.img", geometry: try Self.smallGeometry())
            for block in 0..<4 {
                try Self.program(flash, block: block, offset: 0, [UInt8](repeating: UInt8(block), count: 256))
            }
            try flash.erase(block: 2)
            #expect(flash.eraseCount(block: 2) == 1)
            #expect(try Self.read(flash, block: 2, offset: 0, count: 256) == [UInt8](repeating: 0xFF, count: 256))
            #expect(try Self.read(flash, block: 1, offset: 0, count: 256) == [UInt8](repeating: 1, count: 256))
            #expect(try Self.read(flash, block: 3, offset: 0, count: 256) == [UInt8](repeating: 3, count: 256))
        }
    }

    @Test func eraseOfLargeBlocksUsesChunks() throws {
        // Erase blocks bigger than the 64 KiB scratch buffer.
        try withTemporaryDirectory { dir in
            let geometry = try FlashGeometry(programUnit: 512, eraseBlockSize: 131072, blockCount: 2)
            let flash = try FileFlash(path: dir + "/chip.img", geometry: geometry)
            let data = [UInt8](repeating: 0x11, count: 131072)
            try Self.program(flash, block: 1, offset: 0, data)
            #expect(throws: FlashError.notErased(block: 1, offset: 131072 - 512)) {
                try Self.program(flash, block: 1, offset: 131072 - 512, [UInt8](repeating: 0x22, count: 512))
            }
            try flash.erase(block: 1)
            #expect(try Self.read(flash, block: 1, offset: 0, count: 131072) == [UInt8](repeating: 0xFF, count: 131072))
        }
    }

    @Test func wrongSizeFileIsRefused() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/chip.img"
            let geometry = try Self.smallGeometry()
            _ = try FileFlash(path: path, geometry: geometry)
            let bigger = try FlashGeometry(programUnit: 16, eraseBlockSize: 256, blockCount: 8)
            #expect(throws: FileFlashError.sizeMismatch(expected: 2048, found: 1024)) {
                _ = try FileFlash(path: path, geometry: bigger)
            }
            // The refused image is left as it was.
            #expect(try Self.fileSize(path) == 1024)
        }
    }

    @Test func truncatedFileIsRefused() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/chip.img"
            let geometry = try Self.smallGeometry()
            do {
                let flash = try FileFlash(path: path, geometry: geometry)
                try Self.program(flash, block: 0, offset: 0, [UInt8](repeating: 0, count: 16))
            }
            let handle = try #require(FileHandle(forUpdatingAtPath: path))
            try handle.truncate(atOffset: 700)
            try handle.close()
            #expect(throws: FileFlashError.sizeMismatch(expected: 1024, found: 700)) {
                _ = try FileFlash(path: path, geometry: geometry)
            }
            // An empty file too (e.g. created by `touch`).
            try Data().write(to: URL(fileURLWithPath: path))
            #expect(throws: FileFlashError.sizeMismatch(expected: 1024, found: 0)) {
                _ = try FileFlash(path: path, geometry: geometry)
            }
        }
    }

    @Test func missingFileWithoutCreateIsRefused() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/absent.img"
            #expect(throws: FileFlashError.missing(path: path)) {
                _ = try FileFlash(path: path, geometry: try Self.smallGeometry(), create: false)
            }
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test func directoryIsRefused() throws {
        try withTemporaryDirectory { dir in
            #expect(throws: FileFlashError.self) {
                _ = try FileFlash(path: dir, geometry: try Self.smallGeometry())
            }
            // A missing parent directory is an open error naming the path, not a crash.
            let path = dir + "/no/such/dir/chip.img"
            do {
                _ = try FileFlash(path: path + "", geometry: try Self.smallGeometry())
                Issue.record("expected an error")
            } catch let error as FileFlashError {
                guard case .open(_, let code) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(code == ENOENT)
                #expect(error.description.contains("No such file"))
            }
        }
    }

    @Test func enduranceWearsBlocksOut() throws {
        try withTemporaryDirectory { dir in
            let flash = try FileFlash(path: dir + "/chip.img", geometry: try Self.smallGeometry(), endurance: 3)
            for _ in 0..<3 { try flash.erase(block: 0) }
            // The block still works after its last allowed erase.
            try Self.program(flash, block: 0, offset: 0, [UInt8](repeating: 7, count: 16))
            #expect(!flash.isWornOut(block: 0))
            #expect(throws: FlashError.wornOut(block: 0)) { try flash.erase(block: 0) }
            #expect(flash.isWornOut(block: 0))
            #expect(throws: FlashError.wornOut(block: 0)) {
                try Self.program(flash, block: 0, offset: 16, [UInt8](repeating: 7, count: 16))
            }
            #expect(throws: FlashError.wornOut(block: 0)) { try flash.erase(block: 0) }
            // Reads still work and the data survived; other blocks are fine.
            #expect(try Self.read(flash, block: 0, offset: 0, count: 16) == [UInt8](repeating: 7, count: 16))
            try flash.erase(block: 1)
            #expect(flash.eraseCount(block: 0) == 3)
            #expect(flash.eraseCount(block: 1) == 1)
        }
    }

    @Test func invalidEnduranceIsRefused() throws {
        try withTemporaryDirectory { dir in
            #expect(throws: FileFlashError.invalidEndurance(0)) {
                _ = try FileFlash(path: dir + "/chip.img", geometry: try Self.smallGeometry(), endurance: 0)
            }
        }
    }

    @Test func closedFlashReportsIOErrors() throws {
        try withTemporaryDirectory { dir in
            let flash = try FileFlash(path: dir + "/chip.img", geometry: try Self.smallGeometry())
            flash.close()
            flash.close()
            #expect(throws: FlashError.io(code: EBADF)) { _ = try Self.read(flash, block: 0, offset: 0, count: 16) }
            #expect(throws: FlashError.io(code: EBADF)) { try flash.sync() }
        }
    }

    @Test func zeroLengthOperationsAreFine() throws {
        try withTemporaryDirectory { dir in
            let flash = try FileFlash(path: dir + "/chip.img", geometry: try Self.smallGeometry())
            try Self.program(flash, block: 0, offset: 256, [])
            #expect(try Self.read(flash, block: 3, offset: 256, count: 0) == [])
        }
    }
}
