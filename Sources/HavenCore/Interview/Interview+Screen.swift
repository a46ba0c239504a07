/// The screen model: rendered into the engine's fixed buffers after every
/// change, read by the renderer through `screen` and `choice(at:)`.
extension Interview {
    /// The current screen. Its byte buffers stay valid until the next call
    /// on the interview.
    public var screen: Screen {
        var kind = ScreenKind.end
        var questionType: QuestionType?
        var repeatPosition = 0
        var repeatCount = 0
        var answer = AnswerValue.none
        switch position {
        case .question(let node, let path):
            let n = Int(node)
            let record = instrument.nodes[n]
            kind = record.kind == .note ? .note : .question
            questionType = QuestionType(record.kind)
            if record.kind != .note { answer = answerValue(slot: layout.slot(n, path)) }
            let depth = layout.depth(n)
            if depth > 0 {
                repeatPosition = path.last + 1
                repeatCount = Int(store.counters[layout.counter(layout.ancestor(n, level: depth - 1), path.parent)])
            }
        case .privacyCheck: kind = .privacyCheck
        case .repeatPrompt: kind = .repeatPrompt
        case .end: kind = .end
        }
        return Screen(kind: kind, node: position.node, instance: position.instance, questionType: questionType,
                      label: screenBytes(labelRange), hint: screenBytes(hintRange), validation: validation,
                      message: screenBytes(messageRange), isRequired: screenRequired, isReadonly: screenReadonly,
                      isSensitive: isInSensitiveSection, choiceCount: choiceCount, answer: answer,
                      repeatPosition: repeatPosition, repeatCount: repeatCount)
    }

    /// Choice `position` (0 ..< `screen.choiceCount`) of the current select.
    public func choice(at position: Int) -> ScreenChoice? {
        guard position >= 0, position < choiceCount, case .question(let node, let path) = self.position else {
            return nil
        }
        let n = Int(node)
        let list = Int(instrument.nodes[n].choiceList)
        let item = Int(choiceBuffer[position])
        let s = layout.slot(n, path)
        let slot = store.slots[s]
        let value = instrument.choiceValue(list: list, item: item)
        var selected = false
        if slot.tag == .choice { selected = Int(slot.bits) == item }
        if slot.tag == .choices { selected = Self.contains(store.bytes(s), token: value) }
        return ScreenChoice(item: item, value: value,
                            label: instrument.choiceLabel(list: list, item: item, language: language),
                            isSelected: selected)
    }

    func screenBytes(_ range: (Int, Int)) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(screenText).slice(range.0, range.1)
    }

    /// Rebuilds label, hint, message, flags and the filtered choices for
    /// the current position. Label first, then message, then hint, so a
    /// too-small buffer cuts the least important text.
    func refreshScreen() {
        var w = ByteWriter(screenText)
        labelRange = (0, 0)
        hintRange = (0, 0)
        messageRange = (0, 0)
        choiceCount = 0
        screenReadonly = false
        screenRequired = false
        switch position {
        case .question(let node, let path):
            let n = Int(node)
            let record = instrument.nodes[n]
            labelRange = render(record.label, node: n, path: path, into: &w)
            if let failure = validation {
                let ref = failure == .required ? record.requiredMessage : record.constraintMessage
                messageRange = render(ref, node: n, path: path, into: &w)
                if messageRange.1 == 0 {
                    let start = w.count
                    w.append(failure == .required ? ScreenText.requiredMessage : ScreenText.constraintMessage)
                    messageRange = (start, w.count - start)
                }
            }
            hintRange = render(record.hint, node: n, path: path, into: &w)
            screenReadonly = record.kind == .note || evaluateBool(record.readonly, node: n, path: path, absent: false)
            screenRequired = record.kind.isQuestion && evaluateBool(record.required, node: n, path: path, absent: false)
            if record.kind.isSelect { filterChoices(n, path) }
        case .privacyCheck:
            let start = w.count
            w.append(ScreenText.privacyQuestion)
            labelRange = (start, w.count - start)
        case .repeatPrompt(let node, let path):
            labelRange = render(instrument.nodes[Int(node)].label, node: Int(node), path: path.parent, into: &w)
        case .end:
            break
        }
    }

    /// Text `ref` in the current language with each output marker
    /// (0x01 digits 0x02) replaced by its expression's string value.
    func render(_ ref: UInt32, node: Int, path: InstancePath, into w: inout ByteWriter) -> (Int, Int) {
        let start = w.count
        guard ref != InstrumentRef.none else { return (start, 0) }
        let raw = instrument.text(ref, language: language)
        var i = 0
        var literal = 0
        while i < raw.count {
            guard raw[i] == 0x01 else {
                i += 1
                continue
            }
            w.appendText(raw.slice(literal, i - literal))
            var j = i + 1
            var expression: UInt32 = 0
            while j < raw.count && raw[j] >= 48 && raw[j] <= 57 && expression < 0x1000_0000 {
                expression = expression * 10 + UInt32(raw[j] - 48)
                j += 1
            }
            // The decoder checked every marker; a string cut inside one is
            // shown up to the marker and no further.
            guard j < raw.count && raw[j] == 0x02 else { return (start, w.count - start) }
            write(evaluate(expression, node: node, path: path), to: &w)
            i = j + 1
            literal = i
        }
        w.appendText(raw.slice(literal, raw.count - literal))
        return (start, w.count - start)
    }

    /// The items of select `n`'s list that pass its choice filter.
    func filterChoices(_ n: Int, _ path: InstancePath) {
        let record = instrument.nodes[n]
        let list = Int(record.choiceList)
        let items = instrument.choiceLists[list].itemCount
        var count = 0
        var item = 0
        while item < items {
            var keep = true
            if record.choiceFilter != InstrumentRef.none {
                keep = ExpressionVM.bool(of: evaluate(record.choiceFilter, node: n, path: path, list: list, item: item))
            }
            if keep {
                choiceBuffer[count] = UInt32(item)
                count += 1
            }
            item += 1
        }
        choiceCount = count
    }
}
