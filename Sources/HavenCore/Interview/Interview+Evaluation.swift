/// The engine's calls into the expression VM: the only place that builds
/// an environment and runs bytecode, and that converts results the XPath way.
extension Interview {
    /// Evaluates expression `ref` with `node` in `path` as context (and
    /// choice `item` of `list` for filters). A runtime failure (only an
    /// exhausted VM arena can happen once the program was validated) is
    /// remembered in `lastExpressionError` and yields `.empty`. Strings in
    /// the result live in the VM's arena until the next evaluation.
    func evaluate(_ ref: UInt32, node: Int, path: InstancePath, list: Int = -1, item: Int = 0) -> ExprValue {
        guard let expression = instrument.expression(ref) else { return .empty }
        var environment = EngineEnvironment(instrument: instrument, layout: layout, store: store, node: node,
                                            path: path, list: list, item: item, language: language, day: day,
                                            rng: rng)
        defer { rng = environment.rng }
        do throws(ExpressionError) {
            return try vm.evaluate(expression.code, environment: &environment)
        } catch {
            lastExpressionError = error
            return .empty
        }
    }

    /// `boolean()` of expression `ref`; `absent` when there is none.
    func evaluateBool(_ ref: UInt32, node: Int, path: InstancePath, absent: Bool) -> Bool {
        guard ref != InstrumentRef.none else { return absent }
        return ExpressionVM.bool(of: evaluate(ref, node: node, path: path))
    }

    /// `string()` of a result (numbers in their shortest round-trip form,
    /// dates `YYYY-MM-DD`); nil when the VM's arena cannot hold it.
    func text(of value: ExprValue) -> UnsafeRawBufferPointer? {
        do throws(ExpressionError) {
            return try vm.stringValue(of: value)
        } catch {
            lastExpressionError = error
            return nil
        }
    }

    /// Appends `string(value)` to `w` (malformed UTF-8 is never shown).
    func write(_ value: ExprValue, to w: inout ByteWriter) {
        guard let s = text(of: value), UTF8Validation.isValid(s) else { return }
        w.appendText(s)
    }
}
