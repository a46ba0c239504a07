import Glibc
import HavenCore

/// The interactive front end: keys from the terminal become `SimEvent`s for
/// the runtime, and the screen model is drawn after each (Docs/simulator.md
/// §5 lists the keys). The answer being typed lives in `draft`, a fixed
/// buffer wiped on every submit, every screen change and every quick exit.
public final class TerminalUI {
    let host: DeviceHost
    let loop: EventLoop
    let draft = SecretBuffer(capacity: 4096)
    let keys = SecretBuffer(capacity: 4096)
    let value = SecretBuffer(capacity: 8)
    var screen = TerminalScreen(frame: SecretBuffer(capacity: 1 << 20))
    var resizeFD: Int32 = -1
    var lastKind: ScreenModel.Kind?
    var lastBackoff: UInt64 = 0

    public init(host: DeviceHost, loop: EventLoop) {
        self.host = host
        self.loop = loop
    }

    public func start() -> Bool {
        guard Terminal.enter() else { return false }
        resizeFD = Terminal.resizePipe()
        if resizeFD >= 0 {
            loop.add(fd: resizeFD) { [unowned self] fd, _ in
                var sink = [UInt8](repeating: 0, count: 64)
                while read(fd, &sink, sink.count) > 0 {}
                self.redraw()
            }
        }
        loop.add(fd: 0) { [unowned self] _, _ in self.readKeys() }
        loop.onTimer = { [unowned self] in
            let fired = self.host.idleTick() != nil
            if fired { self.draft.wipe() }  // auto-lock in the middle of typing
            guard let runtime = self.host.runtime else { return }
            let m = runtime.model()
            if fired || m.kind != self.lastKind || m.backoffMilliseconds > 0 || self.lastBackoff > 0 { self.redraw() }
        }
        redraw()
        return true
    }

    public func stop() {
        draft.wipe()
        Terminal.restore()
    }

    func readKeys() {
        keys.wipeUsed()
        let n = read(0, keys.bytes.baseAddress!, keys.capacity)
        if n <= 0 {
            if n < 0 && errno == EINTR { return }
            loop.stop()
            return
        }
        keys.count = n
        TerminalKeyDecoder.decode(keys.used) { key in self.handle(key) }
        keys.wipeUsed()
        redraw()
    }

    public func redraw() {
        let size = Terminal.size()
        screen.rows = size.rows
        screen.columns = size.columns
        guard let runtime = host.runtime else {
            lastKind = .unprovisioned
            screen.drawUnprovisioned(deviceID: host.deviceIDHex)
            return
        }
        let m = runtime.model()
        lastKind = m.kind
        lastBackoff = m.backoffMilliseconds
        screen.draw(m, runtime: runtime, draft: draft.used)
    }

    func send(_ kind: SimEvent.Kind, value bytes: UnsafeRawBufferPointer? = nil, index: Int? = nil,
              key: StaticString? = nil, id: Int? = nil) {
        var e = SimEvent(kind: kind)
        e.value = bytes
        e.index = index.map { Int64($0) }
        e.id = id.map { Int64($0) }
        if let key { e.key = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount) }
        host.apply(e)
        guard let runtime = host.runtime else { return }
        // Quick exit, lock, auto-lock: the half-typed answer goes with the interview.
        if runtime.lastTrigger != nil || runtime.model().kind == .lock { draft.wipe() }
    }

    func handle(_ key: TerminalKey) {
        if key == .control(0x11) {  // Ctrl-Q: power off, provisioned or not
            draft.wipe()
            loop.stop()
            return
        }
        guard let runtime = host.runtime else { return }
        let m = runtime.model()
        // Everywhere: quick exit, lock, the hardware button, power off.
        switch key {
        case .function(12):
            draft.wipe()
            return send(.key, key: "F12")
        case .function(11):
            draft.wipe()
            return send(.key, key: "F11")
        case .control(0x02):
            return send(.button, id: Int(runtime.policy.quickExitButton?.button ?? 1))
        case .function(2):
            if m.languageCount > 1 { send(.language, index: (m.language + 1) % m.languageCount) }
            return
        default: break
        }
        switch m.kind {
        case .unprovisioned:
            break
        case .lock:
            switch key {
            case .character(let c) where c >= 0x30 && c <= 0x39:
                value.wipeUsed()
                value.append(byte: c)
                send(.digit, value: value.used)
                value.wipeUsed()
            case .backspace: send(.erase)
            case .enter: send(.key, key: "Enter")
            default: break
            }
        case .home, .finished:
            if key == .enter || key == .right { send(.start, index: m.language) }
        case .review:
            switch key {
            case .enter: send(.finalize)
            case .left: send(.back)
            default: break
            }
        case .privacyCheck, .repeatPrompt:
            switch key {
            case .character(0x79), .character(0x59): send(.yes)
            case .character(0x6E), .character(0x4E): send(.no)
            case .left: send(.back)
            default: break
            }
        case .note:
            switch key {
            case .enter, .right: send(.next)
            case .left: send(.back)
            default: break
            }
        case .question:
            let isSelect = m.input == .selectOne || m.input == .selectMultiple
            switch key {
            case .character(let c) where isSelect && c >= 0x31 && c <= 0x39:
                send(.select, index: Int(c - 0x31))
            case .character(let c) where !isSelect:
                draft.append(byte: c)
            case .backspace where !isSelect:
                draft.removeLastScalar()
            case .control(0x15):
                draft.wipe()
                send(.clear)
            case .enter, .right:
                if draft.count > 0 {
                    send(.answer, value: draft.used)
                    draft.wipe()
                    if host.runtime?.model().notice == .refused { return }
                }
                send(.next)
            case .left:
                draft.wipe()
                send(.back)
            default: break
            }
        }
    }
}
