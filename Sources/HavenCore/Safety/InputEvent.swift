/// An input event as the platform delivers it to `SafetyController.handle`.
///
/// The core never reads devices itself: the platform translates its
/// touchscreen, keys and buttons into these, stamped with the same
/// monotonic clock the controller uses (`SafetyClock`), so "three presses
/// within 1.5 s" is measured on the input's own timestamps, not on when the
/// event loop got round to them.
public struct InputEvent: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// The dedicated on-screen quick-exit control was tapped.
        case quickExitControl
        /// A hardware button (board button id) went down or up.
        case button(UInt16, pressed: Bool)
        /// A keyboard key (platform key code) went down or up.
        case key(UInt16, down: Bool)
        /// Any other interaction (a touch, a scroll): keeps auto-lock away.
        case touch
        /// The device's lock key or lock control.
        case lockRequest
        /// A timer tick with no input: lets auto-lock fire on an idle device.
        case tick
    }

    public var kind: Kind
    /// Monotonic milliseconds, same origin as `SafetyClock.monotonicMilliseconds()`.
    public var time: UInt64

    public init(_ kind: Kind, at time: UInt64) {
        self.kind = kind
        self.time = time
    }

    /// Whether this is something the enumerator did (ticks are not).
    var isActivity: Bool { kind != .tick }
}

/// Which configured gesture fired a quick exit.
public enum QuickExitTrigger: Equatable, Sendable {
    case screenControl
    case buttonPresses
    case keyChord
    /// Not a gesture: the inactivity timeout (always the lock action).
    case autoLock
    /// Not a gesture: the lock key (always the lock action).
    case lockRequest
}
