// Delivering evdev actions to the device as the simulator's input events.

extension EvdevAction {
    /// The `SimEvent` this action is (Docs/simulator.md §3), applied to
    /// `host`. The digit of a PIN lives only in this stack frame and the
    /// runtime's PIN entry buffer.
    public func apply(to host: DeviceHost) {
        switch self {
        case .key(let code, let down):
            var e = SimEvent(kind: .key)
            e.code = Int64(code)
            e.down = down
            host.apply(e)
        case .button(let code, let down):
            var e = SimEvent(kind: .button)
            e.id = Int64(code)
            e.down = down
            host.apply(e)
        case .boardKey(let name):
            let bytes = Array(name.utf8)
            bytes.withUnsafeBytes { raw in
                var e = SimEvent(kind: .key)
                e.key = raw
                host.apply(e)
            }
        case .digit(var digit):
            withUnsafeBytes(of: &digit) { raw in
                var e = SimEvent(kind: .digit)
                e.value = raw
                host.apply(e)
            }
            digit = 0
        case .erase:
            host.apply(SimEvent(kind: .erase))
        case .touch:
            host.apply(SimEvent(kind: .touch))
        }
    }
}
