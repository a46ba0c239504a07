import Foundation
import Glibc
import HavenDevice
import Testing

/// The evdev reader and key map against input_event bytes crafted by hand
/// (the layout of linux/input.h, little-endian as on x86-64 and ARM).
@Suite struct EvdevTests {
    /// 24 bytes: tv_sec, tv_usec (8 each), type, code (2 each), value (4).
    static let volumeDownPress64: [UInt8] = [
        0x00, 0xF1, 0x53, 0x65, 0, 0, 0, 0,  // 1_700_000_000 s
        0x90, 0xD0, 0x03, 0, 0, 0, 0, 0,  // 250_000 us
        0x01, 0x00,  // EV_KEY
        0x72, 0x00,  // KEY_VOLUMEDOWN (114)
        0x01, 0x00, 0x00, 0x00,  // pressed
    ]
    /// 16 bytes: the same press from a 32-bit (armv7) reader.
    static let volumeDownPress32: [UInt8] = [
        0x00, 0xF1, 0x53, 0x65, 0x90, 0xD0, 0x03, 0x00,
        0x01, 0x00, 0x72, 0x00, 0x01, 0x00, 0x00, 0x00,
    ]

    @Test func decodesA64BitAndA32BitRecord() throws {
        let expected = EvdevEvent(seconds: 1_700_000_000, microseconds: 250_000, type: 1, code: 114, value: 1)
        func decode(_ bytes: [UInt8], _ wordSize: Int) -> EvdevEvent? {
            bytes.withUnsafeBytes { raw in
                do throws(EvdevError) { return try EvdevEvent.decode(raw, wordSize: wordSize) } catch { return nil }
            }
        }
        #expect(decode(Self.volumeDownPress64, 8) == expected)
        #expect(decode(Self.volumeDownPress32, 4) == expected)
        #expect(expected.encoded(wordSize: 8) == Self.volumeDownPress64)
        #expect(expected.encoded(wordSize: 4) == Self.volumeDownPress32)
        #expect(EvdevEvent.nativeSize == 24)
    }

    @Test func refusesDamagedRecordsWithWhatAndWhere() {
        func decode(_ bytes: [UInt8], wordSize: Int = 8, offset: Int = 0) -> EvdevError? {
            bytes.withUnsafeBytes { raw in
                do throws(EvdevError) {
                    _ = try EvdevEvent.decode(raw, wordSize: wordSize, offset: offset)
                    return nil
                } catch { return error }
            }
        }
        #expect(decode(Array(Self.volumeDownPress64.prefix(23)), offset: 48) == .truncated(offset: 48, length: 23, expected: 24))
        #expect(decode([]) == .truncated(offset: 0, length: 0, expected: 24))
        var badType = Self.volumeDownPress64
        badType[16] = 0x20
        #expect(decode(badType, offset: 24) == .unknownType(offset: 24, type: 0x20))
        var badTime = Self.volumeDownPress64
        badTime[8...15] = [0x40, 0x42, 0x0F, 0, 0, 0, 0, 0]  // 1_000_000 us
        #expect(decode(badTime) == .badTime(offset: 0))
        #expect(decode(Self.volumeDownPress64, wordSize: 2) == .unsupportedWordSize(2))
        #expect(EvdevError.unknownType(offset: 24, type: 32).description.contains("byte 24"))
    }

    static let tablet = BoardProfile.Buttons(quickExit: "KEY_VOLUMEDOWN", lock: "KEY_POWER", next: "KEY_VOLUMEUP",
                                             previous: "KEY_BACK", select: "KEY_ENTER")

    @Test func keyEdgesBecomeKeyAndButtonEventsAndBoardKeysTheirAction() {
        let map = EvdevKeyMap(buttons: Self.tablet)
        #expect(map.unknownNames.isEmpty)
        #expect(map.quickExitCode == 114)
        func key(_ code: UInt16, _ value: Int32) -> [EvdevAction] {
            map.actions(for: EvdevEvent(type: EvdevEvent.key, code: code, value: value))
        }
        // The quick-exit key is left to the config's policy (N presses / chord).
        #expect(key(114, 1) == [.key(code: 114, down: true), .button(code: 114, down: true)])
        #expect(key(114, 0) == [.key(code: 114, down: false), .button(code: 114, down: false)])
        #expect(key(114, 2) == [])  // autorepeat
        #expect(key(116, 1) == [.key(code: 116, down: true), .button(code: 116, down: true), .boardKey("KEY_POWER")])
        #expect(key(115, 1).last == .boardKey("KEY_VOLUMEUP"))
        #expect(key(28, 1).last == .boardKey("KEY_ENTER"))
        #expect(key(28, 0).count == 2)  // a release is no second press
        #expect(key(2, 1).last == .digit(0x31))
        #expect(key(11, 1).last == .digit(0x30))
        #expect(key(14, 1).last == .erase)
        #expect(key(330, 1) == [.touch])
        #expect(key(330, 0) == [])
        #expect(map.actions(for: EvdevEvent(type: EvdevEvent.synchronize, code: 0, value: 0)) == [])
        #expect(map.actions(for: EvdevEvent(type: EvdevEvent.absolute, code: 0, value: 512)) == [])
    }

    @Test func keyNamesFromTheBoardProfile() {
        #expect(EvdevKeyNames.code("KEY_VOLUMEDOWN") == 114)
        #expect(EvdevKeyNames.code("KEY_0") == 11)
        #expect(EvdevKeyNames.code("KEY_212") == 212)
        #expect(EvdevKeyNames.code("F12") == nil)
        #expect(EvdevKeyNames.code("KEY_") == nil)
        #expect(EvdevKeyNames.code("KEY_99999") == nil)
        let simulator = EvdevKeyMap(buttons: .init(quickExit: "F12", lock: "F11"))
        #expect(simulator.unknownNames == ["F12", "F11"])
    }

    /// The reference tablet's profile: every button is a key name the map
    /// knows, and the Linux paths haven-device needs are there.
    @Test func referenceTabletProfileIsUsableByTheRuntime() throws {
        let board = try BoardProfile.load(named: "ref-tablet-a7", hardwareDirectory: packageRoot + "/Hardware")
        let map = EvdevKeyMap(buttons: board.buttons)
        #expect(map.unknownNames.isEmpty)
        #expect(map.quickExitCode == 114)
        #expect(board.linux?.flash?.hasPrefix("/dev/") == true)
        #expect(board.linux?.secret != nil)
        #expect(board.linux?.input?.isEmpty == false)
        // The simulator's profile has no Linux section.
        #expect(try BoardProfile.load(named: "sim", hardwareDirectory: packageRoot + "/Hardware").linux == nil)
    }

    /// A pipe stands in for /dev/input/eventN: whole records are handed
    /// over in order, a partial one is reported and dropped, end of file
    /// (the device unplugged) says so.
    @Test func readerHandsOverWholeRecordsAndReportsDamage() throws {
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        let reader = EvdevReader(descriptor: fds[0], name: "test-pipe")
        var bytes: [UInt8] = []
        bytes += EvdevEvent(type: 1, code: 114, value: 1).encoded()
        bytes += EvdevEvent(type: 0, code: 0, value: 0).encoded()
        bytes += EvdevEvent(type: 1, code: 114, value: 0).encoded()
        bytes += Array(Self.volumeDownPress64.prefix(10))
        #expect(bytes.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) } == bytes.count)
        var events: [EvdevEvent] = []
        var damage: [EvdevError] = []
        #expect(reader.readAvailable({ events.append($0) }, damaged: { damage.append($0) }))
        #expect(events.map(\.code) == [114, 0, 114])
        #expect(events.map(\.value) == [1, 0, 0])
        #expect(damage == [.truncated(offset: 72, length: 10, expected: 24)])
        close(fds[1])
        #expect(!reader.readAvailable({ _ in }, damaged: { _ in }))
    }

    @Test func aMissingInputDeviceNamesThePath() {
        #expect(throws: EvdevOpenError.self) { try EvdevReader(path: "/nonexistent/input/event9") }
        do {
            _ = try EvdevReader(path: "/nonexistent/input/event9")
        } catch {
            #expect(error.description.contains("/nonexistent/input/event9"))
        }
    }
}
