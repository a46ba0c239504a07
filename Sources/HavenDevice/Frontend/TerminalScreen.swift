import Glibc
import HavenCore

/// Draws a `ScreenModel` as a tablet screen: a title bar, the text, the
/// choices, the answer being typed, the validation message and a key help
/// line at the bottom. Everything goes into one fixed `SecretBuffer` frame,
/// written with one write(2) and wiped: no Swift string ever holds an
/// answer.
struct TerminalScreen {
    let frame: SecretBuffer
    var rows = 24
    var columns = 80
    private var row = 1

    init(frame: SecretBuffer) { self.frame = frame }

    mutating func put(_ s: StaticString) {
        frame.append(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    mutating func put(_ b: UnsafeRawBufferPointer) { frame.append(b) }

    mutating func put(number: Int) {
        if number < 0 { put("-") }
        var digits: [UInt8] = []
        var v = number.magnitude
        repeat {
            digits.append(UInt8(0x30 + v % 10))
            v /= 10
        } while v > 0
        for d in digits.reversed() { frame.append(byte: d) }
    }

    mutating func moveTo(row r: Int) {
        put("\u{1B}[")
        put(number: r)
        put(";1H")
        row = r
    }

    mutating func newline() {
        put("\u{1B}[K\r\n")
        row += 1
    }

    /// Word-wrapped text starting at the cursor, `indent` spaces on each line.
    mutating func wrapped(_ text: UnsafeRawBufferPointer, indent: Int = 1) {
        let width = max(columns - indent - 1, 10)
        var column = 0
        var lineStart = 0
        var lastSpace = -1
        var i = 0
        func isLead(_ b: UInt8) -> Bool { b & 0xC0 != 0x80 }
        for _ in 0..<indent { put(" ") }
        while i < text.count {
            let b = text[i]
            if b == 0x0A {
                put(UnsafeRawBufferPointer(rebasing: text[lineStart..<i]))
                newline()
                for _ in 0..<indent { put(" ") }
                lineStart = i + 1
                column = 0
                lastSpace = -1
                i += 1
                continue
            }
            if b == 0x20 { lastSpace = i }
            if isLead(b) { column += 1 }
            if column > width {
                let cut = lastSpace > lineStart ? lastSpace : i
                put(UnsafeRawBufferPointer(rebasing: text[lineStart..<cut]))
                newline()
                for _ in 0..<indent { put(" ") }
                lineStart = cut == lastSpace ? cut + 1 : cut
                i = lineStart
                column = 0
                lastSpace = -1
                continue
            }
            i += 1
        }
        if lineStart < text.count { put(UnsafeRawBufferPointer(rebasing: text[lineStart..<text.count])) }
        newline()
    }

    /// The whole frame for `m`. `draft` is the answer being typed.
    mutating func draw(_ m: ScreenModel, runtime: DeviceRuntime, draft: UnsafeRawBufferPointer) {
        frame.wipeUsed()
        put("\u{1B}[H\u{1B}[2J")
        row = 1
        put("\u{1B}[7m Haven ")
        if m.languageCount > 1 {
            put(" · ")
            put(runtime.languageName(m.language))
            put(" ")
        }
        put("\u{1B}[0m")
        newline()
        newline()
        switch m.kind {
        case .lock:
            put(" Enter PIN")
            newline()
            newline()
            put("   ")
            for _ in 0..<m.pinDigits { put("• ") }
            put("_")
            newline()
            newline()
            if m.notice == .wrongPIN { put(" Wrong PIN."); newline() }
            if m.backoffMilliseconds > 0 {
                put(" Try again in ")
                put(number: Int((m.backoffMilliseconds + 999) / 1000))
                put(" s.")
                newline()
            }
            if let left = m.attemptsLeft {
                put(" Attempts left: ")
                put(number: left)
                newline()
            }
        case .home, .finished:
            if m.kind == .finished {
                put(" \u{1B}[1mThe interview was saved.\u{1B}[0m")
                newline()
                newline()
            }
            put(" Questionnaire:")
            newline()
            put("   \u{1B}[1m")
            put(m.title)
            put("\u{1B}[0m")
            newline()
            newline()
            put(" Enter: start a new interview")
            newline()
        case .question, .note, .privacyCheck, .repeatPrompt:
            if m.repeatCount > 0 {
                put(" (")
                put(number: m.repeatPosition)
                put("/")
                put(number: m.repeatCount)
                put(")")
                newline()
            }
            put("\u{1B}[1m")
            wrapped(m.label)
            put("\u{1B}[0m")
            if m.hint.count > 0 {
                put("\u{1B}[2m")
                wrapped(m.hint)
                put("\u{1B}[0m")
            }
            newline()
            if m.kind == .privacyCheck || m.kind == .repeatPrompt {
                put("   y: Yes     n: No")
                newline()
            }
            if m.kind == .question { drawInput(m, runtime: runtime, draft: draft) }
            if m.validation != nil {
                newline()
                put("\u{1B}[1;31m")
                wrapped(m.message)
                put("\u{1B}[0m")
            }
        case .unprovisioned:
            break
        case .review:
            put(" \u{1B}[1mEnd of the questionnaire.\u{1B}[0m")
            newline()
            newline()
            var shown = 0
            let room = max(rows - 10, 1)
            runtime.forEachReviewEntry { label, answer in
                shown += 1
                guard shown <= room else { return }
                put("   ")
                put(label)
                put(": \u{1B}[1m")
                putAnswer(answer)
                put("\u{1B}[0m")
                newline()
            }
            if shown > room { put("   …"); newline() }
            newline()
            put(" Enter: finalize and save     ←: go back and check")
            newline()
        }
        if m.notice == .refused, let error = m.error {
            newline()
            var text = error
            text.withUTF8 { put(" "); put(UnsafeRawBufferPointer($0)) }
            newline()
        }
        moveTo(row: rows)
        put("\u{1B}[7m")
        switch m.kind {
        case .lock: put(" digits, Enter: unlock ")
        case .home, .finished: put(" Enter: start  F2: language  F11: lock  F12: exit  Ctrl-Q: power off ")
        case .question:
            if m.input == .selectOne || m.input == .selectMultiple {
                put(" 1-9: choose  →/Enter: next  ←: back  F2: language  F11: lock  F12: exit ")
            } else {
                put(" type, Enter: next  ←: back  F2: language  F11: lock  F12: exit ")
            }
        case .note: put(" →/Enter: next  ←: back  F2: language  F11: lock  F12: exit ")
        case .privacyCheck, .repeatPrompt: put(" y/n  ←: back  F2: language  F11: lock  F12: exit ")
        case .review: put(" Enter: finalize  ←: back  F11: lock  F12: exit ")
        case .unprovisioned: put(" Ctrl-Q: power off ")
        }
        put("\u{1B}[0m\u{1B}[K")
        writeAll(1, frame.used)
        frame.wipeUsed()
    }

    /// The screen of a device without a config: who it is, what to do.
    mutating func drawUnprovisioned(deviceID: [UInt8]) {
        frame.wipeUsed()
        put("\u{1B}[H\u{1B}[2J")
        put("\u{1B}[7m Haven \u{1B}[0m")
        newline()
        newline()
        put(" This device is not set up yet.")
        newline()
        newline()
        put(" Connect it to a computer and install its configuration with haven.")
        newline()
        newline()
        put(" Device id: \u{1B}[1m")
        deviceID.withUnsafeBytes { put($0) }
        put("\u{1B}[0m")
        newline()
        moveTo(row: rows)
        put("\u{1B}[7m Ctrl-Q: power off \u{1B}[0m\u{1B}[K")
        writeAll(1, frame.used)
        frame.wipeUsed()
    }

    mutating func drawInput(_ m: ScreenModel, runtime: DeviceRuntime, draft: UnsafeRawBufferPointer) {
        guard let input = m.input else { return }
        switch input {
        case .selectOne, .selectMultiple:
            for k in 0..<m.choiceCount {
                guard let c = runtime.choice(at: k) else { continue }
                put("   ")
                put(number: k + 1)
                put(". ")
                if input == .selectOne { put(c.isSelected ? "(•) " : "( ) ") } else { put(c.isSelected ? "[x] " : "[ ] ") }
                put(c.label)
                newline()
            }
        default:
            put("   > ")
            if draft.count > 0 {
                put(draft)
            } else {
                putAnswer(m.answer)
            }
            put("_")
            newline()
            if input == .date {
                put("\u{1B}[2m   (YYYY-MM-DD)\u{1B}[0m")
                newline()
            }
        }
    }

    /// An answer as the enumerator reads it (no Swift string of it is made:
    /// a decimal is formatted into a stack buffer that is zeroed after).
    mutating func putAnswer(_ answer: AnswerValue) {
        switch answer {
        case .text(let b), .calculated(let b), .choices(let b): put(b)
        case .integer(let v): put(number: Int(v))
        case .decimal(let v):
            withUnsafeTemporaryAllocation(byteCount: 40, alignment: 1) { tmp in
                let base = tmp.baseAddress!.assumingMemoryBound(to: CChar.self)
                _ = withVaList([v]) { vsnprintf(base, 40, "%.15g", $0) }
                put(UnsafeRawBufferPointer(start: tmp.baseAddress, count: strlen(base)))
                tmp.initializeMemory(as: UInt8.self, repeating: 0)
            }
        case .date(let d):
            let c = CivilDate.civil(days: Int(d))
            put(number: c.year)
            put("-")
            if c.month < 10 { put("0") }
            put(number: c.month)
            put("-")
            if c.day < 10 { put("0") }
            put(number: c.day)
        case .choice, .none: break
        }
    }
}
