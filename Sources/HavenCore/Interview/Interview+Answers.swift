/// Answer entry: one typed entry point per question type. Each checks that
/// the current screen is a question of that type and editable, stores the
/// value without allocating, then updates relevance and calculates and
/// rebuilds the screen.
extension Interview {
    /// Text answer (UTF-8). Empty text clears the answer, as in ODK.
    public func answer(text: UnsafeRawBufferPointer) throws(InterviewError) {
        let (n, path) = try editableQuestion(.text)
        guard UTF8Validation.isValid(text) else { throw .invalidText }
        guard text.count <= limits.maxValueBytes else { throw .answerTooLong(text.count) }
        let s = layout.slot(n, path)
        if text.count == 0 {
            store.clearValue(s)
        } else {
            guard store.setBytes(s, tag: .text, text) else { throw .answerStorageFull }
        }
        answered()
    }

    public func answer(integer: Int64) throws(InterviewError) {
        let (n, path) = try editableQuestion(.integer)
        store.setScalar(layout.slot(n, path), tag: .integer, bits: UInt64(bitPattern: integer))
        answered()
    }

    /// Decimal answer; NaN and infinities are refused.
    public func answer(decimal: Double) throws(InterviewError) {
        let (n, path) = try editableQuestion(.decimal)
        guard decimal.isFinite else { throw .invalidNumber }
        store.setScalar(layout.slot(n, path), tag: .decimal, bits: decimal.bitPattern)
        answered()
    }

    /// Date answer, in days since 1970-01-01.
    public func answer(date: Int32) throws(InterviewError) {
        let (n, path) = try editableQuestion(.date)
        store.setScalar(layout.slot(n, path), tag: .date, bits: UInt64(bitPattern: Int64(date)))
        answered()
    }

    /// select_one: picks the choice at `position` on the current screen
    /// (0 ..< `screen.choiceCount`, after the itemset filter).
    public func answer(choiceAt position: Int) throws(InterviewError) {
        let (n, path) = try editableQuestion(.selectOne)
        guard position >= 0, position < choiceCount else { throw .choiceOutOfRange(position) }
        store.setScalar(layout.slot(n, path), tag: .choice, bits: UInt64(choiceBuffer[position]))
        answered()
    }

    /// select_multiple: selects or deselects the choice at `position` on the
    /// current screen.
    public func toggleChoice(at position: Int) throws(InterviewError) {
        let (n, path) = try editableQuestion(.selectMultiple)
        guard position >= 0, position < choiceCount else { throw .choiceOutOfRange(position) }
        let s = layout.slot(n, path)
        guard storeSelection(n, slot: s, toggling: Int(choiceBuffer[position]), from: store.bytes(s)) else {
            throw .answerStorageFull
        }
        answered()
    }

    /// Removes the current question's answer.
    public func clearAnswer() throws(InterviewError) {
        let (n, path) = try editableQuestion(nil)
        store.clearValue(layout.slot(n, path))
        answered()
    }

    /// The current question, if it is one of `type` (any when nil) and not
    /// read-only.
    func editableQuestion(_ type: QuestionType?) throws(InterviewError) -> (Int, InstancePath) {
        try begin()
        guard case .question(let node, let path) = position, let actual = QuestionType(instrument.nodes[Int(node)].kind)
        else { throw .notAQuestion }
        if let type, type != actual { throw .wrongType(expected: actual) }
        guard !screenReadonly else { throw .readonly(node: node) }
        return (Int(node), path)
    }

    /// After a value is stored: ODK commits an answer only when it passes
    /// its constraint (JavaRosa's `answerQuestion` returns "constraint
    /// violated" and keeps the model unchanged), so an invalid value is
    /// shown with the form's message, but calculates, relevance and `once()`
    /// do not see it until it is corrected.
    func answered() {
        answerRevision &+= 1
        validation = nil
        if case .question(let node, let path) = position, check(Int(node), path) == .constraint {
            validation = .constraint
            refreshScreen()
            return
        }
        update()
        refreshScreen()
    }
}
