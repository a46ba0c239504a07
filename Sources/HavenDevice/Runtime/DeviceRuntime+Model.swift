import HavenCore

/// Building the screen model and writing it as one JSON line.
extension DeviceRuntime {
    /// What is on screen now. Reading it is not activity (auto-lock is not
    /// pushed back by a redraw).
    public func model() -> ScreenModel {
        var m: ScreenModel
        let quickExit: ScreenModel.Buttons = policy.quickExitControl ? .quickExit : []
        switch controller.screen {
        case .lock(let lock):
            m = ScreenModel(kind: .lock)
            m.pinDigits = pinEntry.count
            m.backoffMilliseconds = lock.backoffRemaining
            m.attemptsLeft = lock.attemptsLeft
            m.buttons = .submitPIN
        case .home(let title):
            let instrument = controller.visibleInstrument
            m = ScreenModel(kind: showingFinished ? .finished : .home)
            m.title = title
            m.languageCount = instrument?.languageCount ?? 0
            m.language = homeLanguage ?? instrument?.defaultLanguage ?? 0
            m.buttons = [.start, .lock]
            if showingFinished { m.buttons.insert(.home) }
            if m.languageCount > 1 { m.buttons.insert(.language) }
            m.buttons.formUnion(quickExit)
        case .interview(let s):
            switch s.kind {
            case .question: m = ScreenModel(kind: .question)
            case .note: m = ScreenModel(kind: .note)
            case .privacyCheck: m = ScreenModel(kind: .privacyCheck)
            case .repeatPrompt: m = ScreenModel(kind: .repeatPrompt)
            case .end: m = ScreenModel(kind: .review)
            }
            m.label = s.label
            m.hint = s.hint
            m.message = s.message
            m.validation = s.validation
            m.input = s.kind == .question ? s.questionType : nil
            m.isRequired = s.isRequired
            m.isReadonly = s.isReadonly
            m.answer = s.answer
            m.choiceCount = s.choiceCount
            m.repeatPosition = s.repeatPosition
            m.repeatCount = s.repeatCount
            m.language = controller.interviewLanguage ?? 0
            m.languageCount = controller.visibleInstrument?.languageCount ?? 0
            switch s.kind {
            case .question:
                m.buttons = [.next, .back]
                if !s.isReadonly, case .none = s.answer {} else if !s.isReadonly { m.buttons.insert(.clear) }
            case .note: m.buttons = [.next, .back]
            case .privacyCheck, .repeatPrompt: m.buttons = [.yes, .no, .back]
            case .end: m.buttons = [.finalize, .back]
            }
            if m.languageCount > 1 { m.buttons.insert(.language) }
            m.buttons.insert(.lock)
            m.buttons.formUnion(quickExit)
        }
        m.notice = notice
        m.error = error
        return m
    }

    /// Language `index`'s name in the visible instrument ("English (en)").
    public func languageName(_ index: Int) -> UnsafeRawBufferPointer {
        guard let instrument = controller.visibleInstrument, index >= 0, index < instrument.languageCount else {
            return ScreenModel.empty
        }
        return instrument.languageName(index)
    }

    /// Choice `position` of the question on screen (valid until the next call).
    public func choice(at position: Int) -> ScreenChoice? { controller.choice(at: position) }

    /// The value of a select_one answer (the chosen item's value).
    func choiceValue(item: Int) -> UnsafeRawBufferPointer {
        guard case .interview(let s) = controller.screen, let node = s.node,
              let instrument = controller.visibleInstrument else { return ScreenModel.empty }
        return instrument.choiceValue(list: Int(instrument.nodes[Int(node)].choiceList), item: item)
    }

    /// The model as one JSON object and a newline (Docs/simulator.md §4).
    public func writeModel(into w: inout JSONLineWriter) {
        let m = model()
        w.beginObject()
        w.key("kind")
        w.string(m.kind.rawValue)
        switch m.kind {
        case .lock:
            w.key("pin")
            w.beginObject()
            w.key("digits")
            w.int(m.pinDigits)
            w.key("backoffMs")
            w.int(Int64(clamping: m.backoffMilliseconds))
            w.key("attemptsLeft")
            if let a = m.attemptsLeft { w.int(a) } else { w.null() }
            w.endObject()
        case .home, .finished:
            w.key("title")
            w.string(m.title)
            writeLanguages(m, into: &w)
        case .unprovisioned:
            break
        case .question, .note, .privacyCheck, .repeatPrompt, .review:
            w.key("label")
            w.string(m.label)
            w.key("hint")
            w.string(m.hint)
            w.key("message")
            w.string(m.message)
            w.key("validation")
            switch m.validation {
            case .none: w.null()
            case .required: w.string("required")
            case .constraint: w.string("constraint")
            }
            if m.kind == .question, let input = m.input {
                w.key("input")
                w.string(input.name)
                w.key("required")
                w.bool(m.isRequired)
                w.key("readonly")
                w.bool(m.isReadonly)
                w.key("answer")
                writeAnswer(m.answer, into: &w)
                w.key("choices")
                w.beginArray()
                for k in 0..<m.choiceCount {
                    guard let c = controller.choice(at: k) else { continue }
                    w.beginObject()
                    w.key("index")
                    w.int(k)
                    w.key("value")
                    w.string(c.value)
                    w.key("label")
                    w.string(c.label)
                    w.key("selected")
                    w.bool(c.isSelected)
                    w.endObject()
                }
                w.endArray()
            }
            if m.kind == .review {
                w.key("review")
                w.beginArray()
                forEachReviewEntry { label, answer in
                    w.beginObject()
                    w.key("label")
                    w.string(label)
                    w.key("answer")
                    writeAnswer(answer, into: &w)
                    w.endObject()
                }
                w.endArray()
            }
            w.key("repeat")
            if m.repeatCount > 0 {
                w.beginObject()
                w.key("position")
                w.int(m.repeatPosition)
                w.key("count")
                w.int(m.repeatCount)
                w.endObject()
            } else {
                w.null()
            }
            writeLanguages(m, into: &w)
        }
        w.key("notice")
        if let n = m.notice { w.string(n.rawValue) } else { w.null() }
        w.key("error")
        if let e = m.error { w.string(e) } else { w.null() }
        w.key("buttons")
        w.beginArray()
        for (button, name) in ScreenModel.Buttons.names where m.buttons.contains(button) { w.string(name) }
        w.endArray()
        if let scan = scanResult {
            w.key("scan")
            w.beginArray()
            for found in scan { w.bool(found) }
            w.endArray()
            scanResult = nil
        }
        w.endObject()
        w.newline()
    }

    /// The review screen's list: every relevant, answered question outside
    /// repeats, in form order, with its label in the current language
    /// (output markers left out) and its answer. `body` gets views valid
    /// for the call only.
    public func forEachReviewEntry(_ body: (UnsafeRawBufferPointer, AnswerValue) -> Void) {
        guard let instrument = controller.visibleInstrument, let language = controller.interviewLanguage else { return }
        let label = SecretBuffer(capacity: 4096)
        defer { label.wipe() }
        for n in 0..<instrument.nodeCount {
            let node = instrument.nodes[n]
            guard node.kind.isQuestion, !isInRepeat(instrument, n), let answer = controller.reviewAnswer(of: n) else { continue }
            label.wipeUsed()
            let raw = instrument.text(node.label, language: language)
            var inMarker = false
            for b in raw {
                if b == 0x01 {
                    inMarker = true
                    label.append(UnsafeRawBufferPointer(start: Self.ellipsis.utf8Start, count: Self.ellipsis.utf8CodeUnitCount))
                } else if b == 0x02 {
                    inMarker = false
                } else if !inMarker {
                    label.append(byte: b)
                }
            }
            if case .choice(let item) = answer {
                let choice = instrument.choiceLabel(list: Int(node.choiceList), item: item, language: language)
                body(label.used, .text(choice))
            } else {
                body(label.used, answer)
            }
        }
    }

    static let ellipsis: StaticString = "…"

    func isInRepeat(_ instrument: Instrument, _ n: Int) -> Bool {
        var a = n
        while instrument.nodes[a].hasParent {
            a = Int(instrument.nodes[a].parent)
            if instrument.nodes[a].kind == .repeat { return true }
        }
        return false
    }

    func writeLanguages(_ m: ScreenModel, into w: inout JSONLineWriter) {
        w.key("language")
        w.int(m.language)
        w.key("languages")
        w.beginArray()
        for k in 0..<m.languageCount { w.string(languageName(k)) }
        w.endArray()
    }

    func writeAnswer(_ answer: AnswerValue, into w: inout JSONLineWriter) {
        switch answer {
        case .none: w.null()
        case .text(let b), .choices(let b), .calculated(let b): w.string(b)
        case .integer(let v): w.int(v)
        case .decimal(let v): w.double(v)
        case .date(let d): writeDate(d, into: &w)
        case .choice(let item): w.string(choiceValue(item: item))
        }
    }

    func writeDate(_ days: Int32, into w: inout JSONLineWriter) {
        let c = CivilDate.civil(days: Int(days))
        withUnsafeTemporaryAllocation(byteCount: 10, alignment: 1) { b in
            func put(_ v: Int, _ at: Int, _ n: Int) {
                var v = v
                for k in stride(from: at + n - 1, through: at, by: -1) {
                    b[k] = UInt8(0x30 + v % 10)
                    v /= 10
                }
            }
            put(c.year, 0, 4)
            b[4] = 0x2D
            put(c.month, 5, 2)
            b[7] = 0x2D
            put(c.day, 8, 2)
            w.string(UnsafeRawBufferPointer(b))
        }
    }
}
