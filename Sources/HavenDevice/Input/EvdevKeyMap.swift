// EvdevKeyMap: Linux key codes to the device's input events.

/// What one evdev record means to the device runtime.
public enum EvdevAction: Equatable, Sendable {
    /// A raw key edge (`InputEvent.key`, for the policy's key chord).
    case key(code: UInt16, down: Bool)
    /// A hardware button edge (`InputEvent.button`, for the policy's
    /// "N presses within T" quick-exit trigger; the id is the key code, as
    /// in the config's `quickExit.button.code`).
    case button(code: UInt16, down: Bool)
    /// A press of the board key bound to `lock`, `next`, `previous` or
    /// `select` (sent as `{"type":"key","key":NAME}`).
    case boardKey(String)
    /// A keypad digit on the lock screen.
    case digit(UInt8)
    /// Backspace: delete the last PIN digit.
    case erase
    /// A touch (activity: keeps auto-lock away).
    case touch
}

/// Maps `EvdevEvent`s to `EvdevAction`s with the board profile's button
/// names (`KEY_*` names from `linux/input-event-codes.h`).
///
/// Every key edge goes to the core as both a key and a button edge: the
/// *config's* quick-exit policy decides what a hardware key does (a chord,
/// or N presses in a time window), so the board's `quickExit` key is not
/// an instant trigger — one accidental brush of a volume key must not hide
/// the interview. Presses (not releases, not autorepeat) of the board's
/// lock/next/previous/select keys, keypad digits and backspace are also
/// delivered as those actions.
public struct EvdevKeyMap: Sendable {
    /// Board key name by code (lock, next, previous, select).
    public private(set) var named: [UInt16: String] = [:]
    /// Names in the board profile that are not known key names.
    public private(set) var unknownNames: [String] = []
    public let quickExitCode: UInt16?

    public init(buttons: BoardProfile.Buttons) {
        quickExitCode = EvdevKeyNames.code(buttons.quickExit)
        if quickExitCode == nil { unknownNames.append(buttons.quickExit) }
        for name in [buttons.lock, buttons.next, buttons.previous, buttons.select].compactMap({ $0 }) {
            if let code = EvdevKeyNames.code(name) { named[code] = name } else { unknownNames.append(name) }
        }
    }

    public func actions(for event: EvdevEvent) -> [EvdevAction] {
        guard event.type == EvdevEvent.key, event.value == 0 || event.value == 1 else { return [] }
        let down = event.value == 1
        let code = event.code
        if code == EvdevKeyNames.touchButton || code == EvdevKeyNames.leftButton {
            return down ? [.touch] : []
        }
        var out: [EvdevAction] = [.key(code: code, down: down), .button(code: code, down: down)]
        guard down else { return out }
        if let name = named[code] {
            out.append(.boardKey(name))
        } else if let digit = EvdevKeyNames.digit(code) {
            out.append(.digit(digit))
        } else if code == EvdevKeyNames.backspace {
            out.append(.erase)
        }
        return out
    }
}

/// The `KEY_*` names a board profile may use, from `linux/input-event-codes.h`
/// (the keys a tablet or kiosk has; `KEY_123` names any other code).
public enum EvdevKeyNames {
    static let table: [(String, UInt16)] = [
        ("KEY_ESC", 1), ("KEY_1", 2), ("KEY_2", 3), ("KEY_3", 4), ("KEY_4", 5), ("KEY_5", 6),
        ("KEY_6", 7), ("KEY_7", 8), ("KEY_8", 9), ("KEY_9", 10), ("KEY_0", 11),
        ("KEY_BACKSPACE", 14), ("KEY_TAB", 15), ("KEY_ENTER", 28), ("KEY_SPACE", 57),
        ("KEY_F1", 59), ("KEY_F2", 60), ("KEY_F3", 61), ("KEY_F4", 62), ("KEY_F5", 63), ("KEY_F6", 64),
        ("KEY_F7", 65), ("KEY_F8", 66), ("KEY_F9", 67), ("KEY_F10", 68), ("KEY_F11", 87), ("KEY_F12", 88),
        ("KEY_KPENTER", 96), ("KEY_HOME", 102), ("KEY_UP", 103), ("KEY_PAGEUP", 104), ("KEY_LEFT", 105),
        ("KEY_RIGHT", 106), ("KEY_END", 107), ("KEY_DOWN", 108), ("KEY_PAGEDOWN", 109),
        ("KEY_MUTE", 113), ("KEY_VOLUMEDOWN", 114), ("KEY_VOLUMEUP", 115), ("KEY_POWER", 116),
        ("KEY_MENU", 139), ("KEY_SLEEP", 142), ("KEY_WAKEUP", 143), ("KEY_BACK", 158),
        ("KEY_CAMERA", 212), ("KEY_SEARCH", 217), ("KEY_OK", 352), ("KEY_SELECT", 353),
        ("KEY_NEXT", 407), ("KEY_PREVIOUS", 412),
        ("BTN_LEFT", 272), ("BTN_TOUCH", 330),
    ]
    static let touchButton: UInt16 = 330
    static let leftButton: UInt16 = 272
    static let backspace: UInt16 = 14

    /// The code of `name` (`KEY_VOLUMEDOWN`, or `KEY_114` for any code), or nil.
    public static func code(_ name: String) -> UInt16? {
        if let entry = table.first(where: { $0.0 == name }) { return entry.1 }
        if name.hasPrefix("KEY_"), let n = UInt16(name.dropFirst(4)), n > 0, n < 0x300 { return n }
        return nil
    }

    /// The ASCII digit of KEY_0...KEY_9, or nil.
    static func digit(_ code: UInt16) -> UInt8? {
        if code == 11 { return 0x30 }
        if code >= 2 && code <= 10 { return 0x30 + UInt8(code - 1) }
        return nil
    }
}
