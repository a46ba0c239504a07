import Glibc
import HavenCore
import HavenSodium

/// The flash (the log store's partition of the image), crypto suite and
/// clock the simulated device runs on.
public typealias DeviceController = SafetyController<FlashPartition<PowerCutFlash>, Sodium, DeviceClock>

/// The simulated device: the core's `SafetyController` on the image's
/// flash with the device secret, the board profile and the clock, plus the
/// little state a device's UI keeps outside the core (the PIN being typed,
/// the "saved" notice, the language chosen on the home screen). Front ends
/// (the terminal UI, headless JSON lines, later `haven demo`) feed it
/// `SimEvent`s and draw `model()`.
///
/// Built from a `DeviceSetup` value, never from files: where the policy and
/// instruments come from (the installed signed config, or `DevProvisioning`
/// during development) is the caller's business.
public final class DeviceRuntime {
    public let image: DeviceImage
    public let clock: DeviceClock
    public let controller: DeviceController
    public var board: BoardProfile { image.board }
    public var policy: SafetyPolicy { controller.policy }

    /// The PIN as typed digit by digit on the lock screen.
    let pinEntry = SecretBuffer(capacity: 64)
    /// Scratch for number parsing (zeroized after each use).
    let numberScratch = SecretBuffer(capacity: 64)
    var notice: ScreenModel.Notice?
    var error: String?
    var showingFinished = false
    var homeLanguage: Int?
    /// Accept `debug-scan` events (haven-sim --debug-memory-scan).
    public var allowsMemoryScan = false
    /// The last scan's result, one entry per needle (reported once).
    var scanResult: [Bool]?
    /// What the last event fired (quick exit, lock, auto-lock), if anything:
    /// front ends wipe their own buffers (a half-typed answer) when it did.
    public private(set) var lastTrigger: QuickExitTrigger?

    public init(image: DeviceImage, setup: DeviceSetup, clock: DeviceClock = DeviceClock()) throws(DeviceRuntimeError) {
        self.image = image
        self.clock = clock
        let real: Instrument
        let decoy: Instrument
        do throws(InstrumentError) { real = try Instrument(bytes: setup.instrument) } catch {
            throw .instrument(which: "instrument", reason: "\(error)")
        }
        do throws(InstrumentError) { decoy = try Instrument(bytes: setup.decoy) } catch {
            throw .instrument(which: "decoy", reason: "\(error)")
        }
        let secret = image.secret.used
        do throws(SafetyError) {
            controller = try DeviceController(flash: image.storeFlash, policy: setup.policy, deviceSecret: secret,
                                              instrument: real, decoy: decoy, clock: clock)
        } catch {
            throw .safety("\(error)")
        }
    }

    /// Whether the real interview's secrets can be on screen now (unlocked
    /// with the real instrument). Front ends wipe their drafts when not.
    public var isShowingRealData: Bool { controller.state == .unlocked }

    // MARK: Applying events

    /// Applies one event. Never throws: refusals become the next model's
    /// `notice`/`error`.
    public func apply(_ event: SimEvent) {
        notice = nil
        error = nil
        lastTrigger = nil
        if event.kind != .screen && event.kind != .debugScan { showingFinished = false }
        switch event.kind {
        case .pin:
            guard let value = event.value else { return refuse("pin needs a value") }
            pinEntry.wipe()
            attempt(value)
        case .digit:
            guard let v = event.value, v.count == 1, v[0] >= 0x30, v[0] <= 0x39 else {
                return refuse("digit needs one digit")
            }
            if case .lock = controller.screen { pinEntry.append(byte: v[0]) }
        case .erase:
            pinEntry.removeLastScalar()
        case .submit:
            attempt(pinEntry.used)
            pinEntry.wipe()
        case .key:
            applyKey(event)
        case .button:
            guard let id = event.id, let button = UInt16(exactly: id) else { return refuse("button needs an id 0...65535") }
            press(.button(button, pressed: true), .button(button, pressed: false), down: event.down)
        case .quickExit:
            fire(.quickExitControl)
        case .lock:
            fire(.lockRequest)
        case .touch:
            fire(.touch)
        case .tick:
            if let ms = event.ms {
                guard ms >= 0 else { return refuse("ms must not be negative") }
                clock.advance(milliseconds: UInt64(ms))
            }
            fire(.tick)
        case .start:
            start(language: event.index.map { Int($0) } ?? homeLanguage)
        case .language:
            guard let index = event.index else { return refuse("language needs an index") }
            setLanguage(Int(index))
        case .answer:
            guard let value = event.value else { return refuse("answer needs a value") }
            answer(value)
        case .select:
            guard let index = event.index else { return refuse("select needs an index") }
            select(Int(index))
        case .clear:
            interview { iv throws(InterviewError) in try iv.clearAnswer() }
        case .next:
            next()
        case .back:
            interview { iv throws(InterviewError) in _ = iv.back() }
        case .yes, .no:
            let yes = event.kind == .yes
            interview { iv throws(InterviewError) in _ = try iv.choose(yes: yes) }
        case .finalize:
            finalize()
        case .discard:
            do throws(SafetyError) { try controller.discardInterview() } catch { refuse(error) }
        case .home:
            break
        case .screen:
            break
        case .debugScan:
            guard allowsMemoryScan else { return refuse("debug-scan needs haven-sim --debug-memory-scan") }
            scanResult = MemoryScan.scan(maskedNeedles: event.maskedNeedles, mask: SimEvent.needleMask)
        }
        pinEntryIfLeftLock()
    }

    /// Reports an input line that could not be parsed (in the next model).
    public func reject(_ e: SimEventError) {
        notice = .refused
        error = e.description
        lastTrigger = nil
    }

    /// A timer tick with no input (lets auto-lock fire on an idle device);
    /// the model's notice and error stay. Returns what fired, if anything.
    @discardableResult
    public func idleTick() -> QuickExitTrigger? {
        let trigger = controller.handle(InputEvent(.tick, at: clock.monotonicMilliseconds()))
        if trigger != nil {
            pinEntry.wipe()
            showingFinished = false
        }
        return trigger
    }

    private func pinEntryIfLeftLock() {
        if case .lock = controller.screen { return }
        pinEntry.wipe()
    }

    func refuse(_ reason: String) {
        notice = .refused
        error = reason
    }

    func refuse(_ e: SafetyError) {
        notice = .refused
        error = SafetyErrorText.describe(e)
    }

    func attempt(_ pin: UnsafeRawBufferPointer) {
        do throws(SafetyError) {
            switch try controller.attemptUnlock(pin: pin) {
            case .unlocked: homeLanguage = nil
            case .wrongPIN: notice = .wrongPIN
            case .backingOff: notice = .tryLater
            case .notLocked: refuse("not on the lock screen")
            }
        } catch {
            refuse(error)
        }
    }

    func fire(_ kind: InputEvent.Kind) {
        lastTrigger = controller.handle(InputEvent(kind, at: clock.monotonicMilliseconds()))
        if lastTrigger != nil { pinEntry.wipe() }
    }

    /// A press is down then up at the same instant unless `down` names one edge.
    func press(_ downKind: InputEvent.Kind, _ upKind: InputEvent.Kind, down: Bool?) {
        if down != false {
            fire(downKind)
            if lastTrigger != nil { return }
        }
        if down != true {
            let trigger = controller.handle(InputEvent(upKind, at: clock.monotonicMilliseconds()))
            lastTrigger = lastTrigger ?? trigger
        }
    }

    /// Board key names first (quick exit, lock, next, previous, select),
    /// then raw key codes (`code`, for chords), else plain activity.
    func applyKey(_ event: SimEvent) {
        if let code = event.code {
            guard let c = UInt16(exactly: code) else { return refuse("code must be 0...65535") }
            press(.key(c, down: true), .key(c, down: false), down: event.down)
            return
        }
        guard let key = event.key else { return refuse("key needs a key name or a code") }
        let b = board.buttons
        if SimEventReader.equals(key, b.quickExit) {
            if event.down != false { fire(.quickExitControl) }
        } else if let name = b.lock, SimEventReader.equals(key, name) {
            if event.down != false { fire(.lockRequest) }
        } else if let name = b.next, SimEventReader.equals(key, name) {
            next()
        } else if let name = b.previous, SimEventReader.equals(key, name) {
            interview { iv throws(InterviewError) in _ = iv.back() }
        } else if let name = b.select, SimEventReader.equals(key, name) {
            switch model().kind {
            case .lock:
                attempt(pinEntry.used)
                pinEntry.wipe()
            case .home, .finished: start(language: homeLanguage)
            case .review: finalize()
            default: next()
            }
        } else {
            fire(.touch)
        }
    }

    func start(language: Int?) {
        do throws(SafetyError) { try controller.startInterview(language: language) } catch { refuse(error) }
    }

    func setLanguage(_ index: Int) {
        if controller.interviewLanguage != nil {
            interview { iv throws(InterviewError) in try iv.setLanguage(index) }
        } else if let instrument = controller.visibleInstrument {
            guard index >= 0, index < instrument.languageCount else { return refuse("no language \(index)") }
            fire(.touch)
            homeLanguage = index
        } else {
            refuse("locked")
        }
    }

    func next() {
        interview { iv throws(InterviewError) in _ = iv.next() }
    }

    func finalize() {
        do throws(SafetyError) {
            try controller.finalizeInterview()
            showingFinished = true
            notice = .saved
        } catch {
            refuse(error)
        }
    }

    /// Runs `body` on the interview on screen; errors become the refusal.
    func interview(_ body: (Interview<DeviceClock>) throws(InterviewError) -> Void) {
        do throws(SafetyError) { try controller.withInterview(body) } catch { refuse(error) }
    }

    func select(_ index: Int) {
        guard case .interview(let s) = controller.screen else { return refuse("no question on screen") }
        if s.questionType == .selectMultiple {
            interview { iv throws(InterviewError) in try iv.toggleChoice(at: index) }
        } else {
            interview { iv throws(InterviewError) in try iv.answer(choiceAt: index) }
        }
    }

    /// `answer` typed by the question's input: text as is, numbers and
    /// dates parsed from the value's text, selects by choice value
    /// (select_multiple: the space-separated values to be selected).
    func answer(_ value: UnsafeRawBufferPointer) {
        guard case .interview(let s) = controller.screen, let input = s.questionType else {
            return refuse("no question on screen")
        }
        switch input {
        case .text:
            interview { iv throws(InterviewError) in try iv.answer(text: value) }
        case .integer:
            guard let v = Self.parseInteger(value) else { return refuse("not a whole number") }
            interview { iv throws(InterviewError) in try iv.answer(integer: v) }
        case .decimal:
            guard let v = parseDecimal(value) else { return refuse("not a number") }
            interview { iv throws(InterviewError) in try iv.answer(decimal: v) }
        case .date:
            // Exactly YYYY-MM-DD: the core also accepts XPath spaces around it.
            guard value.count == 10, let d = CivilDate.parse(value) else { return refuse("not a date (YYYY-MM-DD)") }
            interview { iv throws(InterviewError) in try iv.answer(date: d) }
        case .selectOne:
            guard let i = choiceIndex(value, count: s.choiceCount) else { return refuse("no such choice") }
            interview { iv throws(InterviewError) in try iv.answer(choiceAt: i) }
        case .selectMultiple:
            var wanted = [Bool](repeating: false, count: s.choiceCount)
            var start = 0
            var i = 0
            while i <= value.count {
                if i == value.count || value[i] == 0x20 {
                    if i > start {
                        let token = UnsafeRawBufferPointer(rebasing: value[start..<i])
                        guard let k = choiceIndex(token, count: s.choiceCount) else { return refuse("no such choice") }
                        wanted[k] = true
                    }
                    start = i + 1
                }
                i += 1
            }
            for k in 0..<s.choiceCount {
                guard let c = controller.choice(at: k) else { continue }
                if c.isSelected != wanted[k] {
                    interview { iv throws(InterviewError) in try iv.toggleChoice(at: k) }
                }
            }
        }
    }

    func choiceIndex(_ value: UnsafeRawBufferPointer, count: Int) -> Int? {
        for k in 0..<count {
            guard let c = controller.choice(at: k) else { continue }
            if c.value.count == value.count && (value.count == 0 || memcmp(c.value.baseAddress!, value.baseAddress!, value.count) == 0) {
                return k
            }
        }
        return nil
    }

    static func parseInteger(_ text: UnsafeRawBufferPointer) -> Int64? {
        var i = 0
        var negative = false
        if i < text.count && (text[i] == 0x2D || text[i] == 0x2B) {
            negative = text[i] == 0x2D
            i += 1
        }
        guard i < text.count else { return nil }
        var v: Int64 = 0
        while i < text.count {
            let c = text[i]
            guard c >= 0x30 && c <= 0x39 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(c - 0x30))
            guard !o1 && !o2 else { return nil }
            v = a
            i += 1
        }
        return negative ? -v : v
    }

    func parseDecimal(_ text: UnsafeRawBufferPointer) -> Double? {
        guard text.count > 0, text.count < numberScratch.capacity else { return nil }
        for b in text {
            guard (b >= 0x30 && b <= 0x39) || b == 0x2E || b == 0x2D || b == 0x2B || b == 0x65 || b == 0x45 else {
                return nil
            }
        }
        numberScratch.wipe()
        numberScratch.append(text)
        let base = numberScratch.bytes.baseAddress!.assumingMemoryBound(to: CChar.self)
        var end: UnsafeMutablePointer<CChar>?
        let v = strtod(base, &end)
        let consumed = end.map { $0 - base } ?? 0
        numberScratch.wipe()
        guard consumed == text.count, v.isFinite else { return nil }
        return v
    }
}

/// Short human descriptions of the safety layer's refusals (no answer
/// content is ever part of them).
enum SafetyErrorText {
    static func describe(_ e: SafetyError) -> String {
        switch e {
        case .locked: return "locked"
        case .noInterview: return "no interview on screen"
        case .interviewInProgress: return "an interview is already in progress"
        case .interview(let i): return describe(i)
        default: return "\(e)"
        }
    }

    static func describe(_ e: InterviewError) -> String {
        switch e {
        case .notAQuestion: return "this screen takes no answer"
        case .wrongType(let expected): return "this question takes a \(expected.name) answer"
        case .readonly: return "this question is read-only"
        case .invalidText: return "not valid UTF-8 text"
        case .invalidNumber: return "not a finite number"
        case .answerTooLong(let n): return "answer too long (\(n) bytes)"
        case .choiceOutOfRange(let i): return "no choice \(i) on this screen"
        case .notAYesNoScreen: return "this screen is not a yes/no question"
        case .noSuchLanguage(let i): return "no language \(i)"
        case .requiredUnanswered: return "a required question is unanswered"
        case .constraintViolated: return "an answer breaks a constraint"
        default: return "\(e)"
        }
    }
}
