/// The engine's calls into the expression evaluator: the only place that
/// builds an environment and runs bytecode.
extension Interview {
    /// Evaluates expression `ref` with `node` in `path` as context (and
    /// choice `item` of `list` for filters). A runtime failure (only an
    /// exhausted VM arena can happen once the program was validated) is
    /// remembered in `lastExpressionError` and yields `.empty`.
    func evaluate(_ ref: UInt32, node: Int, path: InstancePath, list: Int = -1, item: Int = 0) -> ExprValue {
        guard let expression = instrument.expression(ref) else { return .empty }
        var environment = EngineEnvironment(instrument: instrument, layout: layout, store: store, node: node,
                                            path: path, list: list, item: item, language: language, day: day,
                                            rng: rng)
        defer { rng = environment.rng }
        do throws(ExpressionError) {
            return try evaluator.evaluate(expression.code, environment: &environment)
        } catch {
            lastExpressionError = error
            return .empty
        }
    }

    /// `boolean()` of expression `ref`; `absent` when there is none.
    func evaluateBool(_ ref: UInt32, node: Int, path: InstancePath, absent: Bool) -> Bool {
        guard ref != InstrumentRef.none else { return absent }
        return ExprConversion.boolean(evaluate(ref, node: node, path: path))
    }
}
