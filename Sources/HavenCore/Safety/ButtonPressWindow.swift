/// "N presses of a button within T milliseconds": a sliding window over the
/// timestamps of the last presses, in a fixed ring (no allocation, whatever
/// the input rate).
///
/// Only presses (button down) count. When the ring holds N presses and the
/// oldest is no more than T before the newest, the gesture fires and the
/// ring is emptied, so a fourth press right after three does not fire again.
/// Timestamps come from the events; one going backwards (a platform that
/// reset its clock) empties the ring rather than firing on nonsense.
public struct ButtonPressWindow: Sendable {
    public static let capacity = 8

    private var times: InlineArray<8, UInt64> = .init(repeating: 0)
    /// Index of the oldest press in the ring.
    private var start = 0
    private(set) var count = 0

    public init() {}

    /// Records a press at `time`; true when it completes `presses` presses
    /// within `window` milliseconds.
    public mutating func press(at time: UInt64, presses: Int, window: UInt64) -> Bool {
        let n = min(max(presses, 1), Self.capacity)
        if count > 0 && time < newest { clear() }
        if count == n {
            start = (start + 1) % Self.capacity
            count -= 1
        }
        times[(start + count) % Self.capacity] = time
        count += 1
        guard count == n, time - times[start] <= window else { return false }
        clear()
        return true
    }

    public mutating func clear() {
        start = 0
        count = 0
    }

    private var newest: UInt64 { times[(start + count - 1) % Self.capacity] }
}

/// "These keys down together": the set of keys currently down, in a fixed
/// array, and a latch so one chord press fires once (it re-arms when any
/// chord key goes up).
public struct KeyChordDetector: Sendable {
    public static let capacity = 8

    private var down: InlineArray<8, UInt16> = .init(repeating: 0)
    private var downCount = 0
    private var latched = false

    public init() {}

    /// Feeds a key event; true when it completes `chord` (all of its keys down).
    public mutating func key(_ code: UInt16, down isDown: Bool, chord: [UInt16]) -> Bool {
        if isDown {
            if !isDownNow(code) && downCount < Self.capacity {
                down[downCount] = code
                downCount += 1
            }
        } else {
            var i = 0
            while i < downCount {
                if down[i] == code {
                    down[i] = down[downCount - 1]
                    downCount -= 1
                    break
                }
                i += 1
            }
            if chord.contains(code) { latched = false }
            return false
        }
        guard !chord.isEmpty, !latched else { return false }
        var k = 0
        while k < chord.count {
            if !isDownNow(chord[k]) { return false }
            k += 1
        }
        latched = true
        return true
    }

    /// Forgets every key (after a quick exit or on lock).
    public mutating func clear() {
        downCount = 0
        latched = false
    }

    private func isDownNow(_ code: UInt16) -> Bool {
        var i = 0
        while i < downCount {
            if down[i] == code { return true }
            i += 1
        }
        return false
    }
}

/// The three configured quick-exit gestures over one event stream.
struct QuickExitDetector: Sendable {
    var buttonWindow = ButtonPressWindow()
    var chord = KeyChordDetector()

    /// The gesture `event` completes, if any.
    mutating func feed(_ event: InputEvent, _ policy: SafetyPolicy) -> QuickExitTrigger? {
        switch event.kind {
        case .quickExitControl:
            return policy.quickExitControl ? .screenControl : nil
        case .button(let id, let pressed):
            guard pressed, let b = policy.quickExitButton, b.button == id else { return nil }
            return buttonWindow.press(at: event.time, presses: b.presses, window: b.windowMilliseconds)
                ? .buttonPresses : nil
        case .key(let code, let isDown):
            return chord.key(code, down: isDown, chord: policy.quickExitChord) ? .keyChord : nil
        case .touch, .lockRequest, .tick:
            return nil
        }
    }

    mutating func clear() {
        buttonWindow.clear()
        // Keys stay tracked (they are physically still down); only the latch
        // matters, and it re-arms on release.
    }
}
