import Foundation
import HavenDevice
import Testing

/// Key presses read from evdev drive a real device: a tablet whose board
/// names KEY_* buttons, provisioned with a signed config whose quick-exit
/// button is KEY_VOLUMEDOWN (code 114), 3 presses within 1.5 s.
@Suite struct EvdevDeviceTests {
    func withTablet(_ body: (DeviceHost, EvdevKeyMap) throws -> Void) throws {
        try withTemporaryDirectory { dir in
            var board = try BoardProfile.load(named: "sim", hardwareDirectory: packageRoot + "/Hardware")
            board.buttons = .init(quickExit: "KEY_VOLUMEDOWN", lock: "KEY_POWER", next: "KEY_RIGHT",
                                  previous: "KEY_LEFT", select: "KEY_ENTER")
            let config = try SignedConfig(dir: dir, board: board)
            let host = try DeviceHost(image: try DeviceImage(path: dir + "/tablet.img", board: board))
            _ = try config.bundle.withUnsafeBytes { raw in try host.installConfig(bundle: raw) }
            try body(host, EvdevKeyMap(buttons: board.buttons))
        }
    }

    /// Every action of one record applied in order; whether any of them
    /// fired the quick exit.
    @discardableResult
    func press(_ host: DeviceHost, _ map: EvdevKeyMap, _ code: UInt16, _ value: Int32) -> Bool {
        var fired = false
        for action in map.actions(for: EvdevEvent(type: EvdevEvent.key, code: code, value: value)) {
            action.apply(to: host)
            if host.runtime?.lastTrigger != nil { fired = true }
        }
        return fired
    }

    func tap(_ host: DeviceHost, _ map: EvdevKeyMap, _ code: UInt16) -> Bool {
        let down = press(host, map, code, 1)
        let up = press(host, map, code, 0)
        return down || up
    }

    @Test func keypadUnlocksSelectStartsAndThreeVolumeDownPressesQuickExit() throws {
        try withTablet { host, map in
            #expect(host.runtime?.model().kind == .lock)
            // PIN 2468 on the keypad (KEY_2 is code 3, KEY_4 5, KEY_6 7, KEY_8 9), a typo erased.
            for code: UInt16 in [3, 5, 2, 14, 7, 9] { _ = tap(host, map, code) }
            #expect(host.runtime?.model().kind == .lock)
            _ = tap(host, map, 28)  // KEY_ENTER: the board's select submits the PIN
            #expect(host.runtime?.model().kind == .home)
            _ = tap(host, map, 28)  // select on home: start the interview
            let interviewKind = host.runtime?.model().kind
            #expect(interviewKind == .note || interviewKind == .question)
            // Two presses are not enough; the third within 1.5 s is.
            #expect(!tap(host, map, 114))
            #expect(!tap(host, map, 114))
            #expect(tap(host, map, 114))
        }
    }

    @Test func powerKeyLocksAndAutorepeatDoesNothing() throws {
        try withTablet { host, map in
            for code: UInt16 in [3, 5, 7, 9, 28] { _ = tap(host, map, code) }
            #expect(host.runtime?.model().kind == .home)
            #expect(!press(host, map, 116, 2))  // autorepeat of the power key: ignored
            #expect(host.runtime?.model().kind == .home)
            _ = tap(host, map, 116)  // KEY_POWER is the board's lock key
            #expect(host.runtime?.model().kind == .lock)
        }
    }
}
