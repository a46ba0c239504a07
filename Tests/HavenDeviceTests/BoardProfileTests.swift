import Foundation
import HavenCore
import Testing
@testable import HavenDevice

@Suite("BoardProfile")
struct BoardProfileTests {
    static let boards = packageRoot + "/Hardware/boards"

    static let validJSON = """
        {
          "name": "test",
          "description": "a test board",
          "flash": { "programUnit": 16, "eraseBlockSize": 4096, "blockCount": 8, "endurance": 10 },
          "ramBudgetBytes": 1048576,
          "kdf": { "argon2Iterations": 1, "argon2MemoryKiB": 64 },
          "buttons": { "quickExit": "X" },
          "repeatCapacity": 5
        }
        """

    @Test func everyProfileLoadsWithAValidGeometry() throws {
        let paths = try BoardProfile.profilePaths(in: Self.boards)
        #expect(paths.count >= 3)
        for path in paths {
            let profile = try BoardProfile.load(path: path)
            let geometry = try profile.geometry()
            #expect(geometry.totalSize == profile.flash.eraseBlockSize * profile.flash.blockCount)
            // The file name is the profile's name.
            #expect(URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent == profile.name)
            #expect(!profile.buttons.quickExit.isEmpty)
            #expect(profile.kdf.argon2MemoryKiB * 1024 <= profile.ramBudgetBytes)
        }
    }

    @Test func knownProfilesHaveTheirGeometry() throws {
        let sim = try BoardProfile.load(named: "sim", hardwareDirectory: packageRoot + "/Hardware")
        #expect(try sim.geometry() == FlashGeometry(programUnit: 16, eraseBlockSize: 65536, blockCount: 256))
        #expect(try sim.geometry().totalSize == 16 << 20)
        #expect(sim.kdf.argon2MemoryBytes == 64 << 20)

        let tablet = try BoardProfile.load(named: "ref-tablet-a7", hardwareDirectory: Self.boards)
        #expect(try tablet.geometry().totalSize == 64 << 20)
        #expect(tablet.flash.endurance == 3000)
        #expect(tablet.description.contains("measur"))

        let mcu = try BoardProfile.load(named: "nor-mcu", hardwareDirectory: Self.boards)
        #expect(mcu.flash.programUnit == 256)
        #expect(mcu.ramBudgetBytes == 512 * 1024)
        #expect(mcu.kdf.argon2MemoryKiB == 256)
    }

    @Test func profileGeometryOpensAFileFlash() throws {
        try withTemporaryDirectory { dir in
            let profile = try BoardProfile.load(named: "nor-mcu", hardwareDirectory: Self.boards)
            let flash = try FileFlash(path: dir + "/mcu.img", geometry: try profile.geometry(),
                                      endurance: profile.flash.endurance)
            #expect(flash.geometry.totalSize == 16 << 20)
        }
    }

    @Test func malformedJSONNamesTheFile() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/broken.json"
            try Data("{ \"name\": \"broken\", ".utf8).write(to: URL(fileURLWithPath: path))
            do throws(BoardProfileError) {
                _ = try BoardProfile.load(path: path)
                Issue.record("expected an error")
            } catch {
                guard case .malformed(let named, _) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(named == path)
                #expect(error.description.contains(path))
            }
        }
    }

    @Test func missingFieldIsNamed() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/partial.json"
            let json = Self.validJSON.replacingOccurrences(of: "\"endurance\": 10", with: "\"endurence\": 10")
            try Data(json.utf8).write(to: URL(fileURLWithPath: path))
            do throws(BoardProfileError) {
                _ = try BoardProfile.load(path: path)
                Issue.record("expected an error")
            } catch {
                #expect(error.description.contains(path))
                #expect(error.description.contains("endurance"))
                #expect(error.description.contains("flash"))
            }
        }
    }

    @Test func invalidGeometryIsRefused() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/odd.json"
            let json = Self.validJSON.replacingOccurrences(of: "\"programUnit\": 16", with: "\"programUnit\": 24")
            try Data(json.utf8).write(to: URL(fileURLWithPath: path))
            do throws(BoardProfileError) {
                _ = try BoardProfile.load(path: path)
                Issue.record("expected an error")
            } catch {
                guard case .invalid(let named, let reason) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(named == path)
                #expect(reason.contains("programUnit=24"))
            }
        }
    }

    @Test func kdfLargerThanRAMIsRefused() throws {
        let json = Self.validJSON.replacingOccurrences(of: "\"argon2MemoryKiB\": 64", with: "\"argon2MemoryKiB\": 4096")
        #expect(throws: BoardProfileError.self) {
            _ = try BoardProfile.decode(Data(json.utf8), path: "inline")
        }
        #expect(try BoardProfile.decode(Data(Self.validJSON.utf8), path: "inline").name == "test")
    }

    @Test func missingFileIsReported() {
        #expect(throws: BoardProfileError.missingFile(path: "/nonexistent/haven/board.json")) {
            _ = try BoardProfile.load(path: "/nonexistent/haven/board.json")
        }
    }

    @Test func unknownBoardListsTheAvailableOnes() {
        do throws(BoardProfileError) {
            _ = try BoardProfile.load(named: "no-such-board", hardwareDirectory: Self.boards)
            Issue.record("expected an error")
        } catch {
            guard case .unknownBoard(_, _, let available) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(available.contains("sim"))
            #expect(available.contains("ref-tablet-a7"))
        }
    }

    @Test func boardsDirectoryIsFoundFromEnvironmentOrParents() throws {
        try withTemporaryDirectory { dir in
            let boards = dir + "/repo/Hardware/boards"
            let deep = dir + "/repo/Sources/a/b"
            try FileManager.default.createDirectory(atPath: boards, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: deep, withIntermediateDirectories: true)
            let resolvedBoards = URL(fileURLWithPath: boards).standardizedFileURL.path

            // Walking up from a subdirectory.
            let found = try BoardProfile.boardsDirectory(environment: [:], currentDirectory: deep)
            #expect(URL(fileURLWithPath: found).standardizedFileURL.path == resolvedBoards)

            // The environment wins over the walk.
            let viaEnv = try BoardProfile.boardsDirectory(
                environment: ["HAVEN_HARDWARE": packageRoot + "/Hardware"], currentDirectory: deep)
            #expect(viaEnv == packageRoot + "/Hardware/boards")

            // A wrong environment setting is an error, not silently ignored.
            #expect(throws: BoardProfileError.self) {
                _ = try BoardProfile.boardsDirectory(
                    environment: ["HAVEN_HARDWARE": dir + "/nope"], currentDirectory: deep)
            }
        }
    }
}
