import HavenCore

/// Compiles an XForms expression (as pyxform writes it: `${q}` already
/// expanded to `/data/…/q` or a relative path) into Haven bytecode
/// (Docs/instrument-format.md §3). Node paths are resolved here, once, to
/// node indexes; the device never sees a path. Whatever the VM cannot run
/// is refused with an `ExpressionCompileError` naming the construct, so a
/// form that compiles behaves on the device as written.
public struct ExpressionCompiler {
    public init() {}

    public func compile(_ source: String, in context: ExpressionContext) throws(ExpressionCompileError) -> CompiledExpression {
        let tree = try XPathParser.parse(source)
        var emitter = BytecodeEmitter(context: context)
        try emitter.expression(tree)
        emitter.emit(.end, pops: 1, pushes: 0)
        return CompiledExpression(bytecode: emitter.code, maxStack: UInt16(clamping: emitter.maxDepth))
    }

    /// Names of the functions compiled to `Opcode.call`.
    static let functions: [String: ExpressionFunction] = [
        "if": .if, "selected": .selected, "count-selected": .countSelected, "string-length": .stringLength,
        "concat": .concat, "substr": .substr, "regex": .regex, "coalesce": .coalesce, "int": .int,
        "number": .number, "string": .string, "round": .round, "today": .today, "random": .random,
        "boolean": .boolean, "date": .date, "contains": .contains, "starts-with": .startsWith,
        "ends-with": .endsWith, "selected-at": .selectedAt,
    ]

    /// Functions that XPath lets default to the context node: `string()`.
    static let contextDefaulting: Set<String> = ["string", "number", "string-length"]
}

/// Walks the tree and writes bytecode, tracking the stack depth so the
/// instrument can record each expression's maximum.
struct BytecodeEmitter {
    let context: ExpressionContext
    var code: [UInt8] = []
    var depth = 0
    var maxDepth = 0

    init(context: ExpressionContext) { self.context = context }

    mutating func emit(_ op: Opcode, pops: Int, pushes: Int) {
        code.append(op.rawValue)
        depth += pushes - pops
        maxDepth = max(maxDepth, depth)
    }

    mutating func u16(_ v: UInt16) { code += [UInt8(v & 0xFF), UInt8(v >> 8)] }

    mutating func u32(_ v: UInt32) { code += (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xFF) } }

    mutating func expression(_ e: XPathExpression) throws(ExpressionCompileError) {
        switch e {
        case .number(let x):
            emit(.pushNumber, pops: 0, pushes: 1)
            code += (0..<8).map { UInt8((x.bitPattern >> (8 * UInt64($0))) & 0xFF) }
        case .literal(let text, _):
            emit(.pushString, pops: 0, pushes: 1)
            u32(context.internString(text))
        case .negate(let inner):
            try expression(inner)
            emit(.negate, pops: 1, pushes: 1)
        case .binary(let op, let left, let right, _):
            try expression(left)
            try expression(right)
            emit(Self.opcode(op), pops: 2, pushes: 1)
        case .path(let path):
            try load(path)
        case .call(let name, let arguments, let column):
            try call(name, arguments, column: column)
        }
    }

    static func opcode(_ op: XPathOperator) -> Opcode {
        switch op {
        case .or: return .or
        case .and: return .and
        case .equal: return .equal
        case .notEqual: return .notEqual
        case .less: return .less
        case .lessOrEqual: return .lessOrEqual
        case .greater: return .greater
        case .greaterOrEqual: return .greaterOrEqual
        case .plus: return .add
        case .minus: return .subtract
        case .multiply: return .multiply
        case .div: return .divide
        case .mod: return .modulo
        }
    }

    // MARK: functions

    mutating func call(_ name: String, _ arguments: [XPathExpression], column: Int) throws(ExpressionCompileError) {
        let construct = "function '\(name)'"
        func arity(_ allowed: ClosedRange<Int>) throws(ExpressionCompileError) {
            if !allowed.contains(arguments.count) {
                let expected = allowed.lowerBound == allowed.upperBound ? "\(allowed.lowerBound)" :
                    allowed.upperBound == 255 ? "at least \(allowed.lowerBound)" :
                    "\(allowed.lowerBound) to \(allowed.upperBound)"
                throw ExpressionCompileError(construct: construct,
                                             message: "takes \(expected) argument\(expected == "1" ? "" : "s"), not \(arguments.count)",
                                             column: column)
            }
        }
        switch name {
        case "true", "false":
            try arity(0...0)
            emit(name == "true" ? .pushTrue : .pushFalse, pops: 0, pushes: 1)
        case "not":
            try arity(1...1)
            try expression(arguments[0])
            emit(.not, pops: 1, pushes: 1)
        case "count":
            try arity(1...1)
            let node = try nodeArgument(arguments[0], of: name, column: column)
            if context.isRepeat(node) {
                emit(.countInstances, pops: 0, pushes: 1)
                u16(node)
            } else {
                // A node that is not a repeat is there exactly once.
                try expression(.number(1))
            }
        case "position":
            try position(arguments, column: column)
        case "jr:choice-name":
            try choiceName(arguments, column: column)
        case "once":
            try arity(1...1)
            emit(.once, pops: 0, pushes: 0)
            let operand = code.count
            u16(0)
            let before = depth
            try expression(arguments[0])
            depth = before + 1
            let skip = code.count - (operand + 2)
            guard skip <= Int(UInt16.max) else {
                throw ExpressionCompileError(construct: construct, message: "argument too long to skip", column: column)
            }
            code[operand] = UInt8(skip & 0xFF)
            code[operand + 1] = UInt8(skip >> 8)
        default:
            guard let function = ExpressionCompiler.functions[name] else {
                throw ExpressionCompileError(construct: construct, message: "not supported on Haven", column: column)
            }
            var arguments = arguments
            if arguments.isEmpty && ExpressionCompiler.contextDefaulting.contains(name) {
                arguments = [.path(XPathPath(start: .context, steps: [.this], column: column))]
            }
            let allowed = (0...255).filter { function.accepts(argumentCount: $0) }
            try arity(allowed.first!...allowed.last!)  // every function's counts are contiguous
            if function == .regex, case .literal(let pattern, let patternColumn) = arguments[1] {
                try checkPattern(pattern, column: patternColumn)
            }
            for argument in arguments { try expression(argument) }
            emit(.call, pops: arguments.count, pushes: 1)
            code += [function.rawValue, UInt8(arguments.count)]
        }
    }

    /// `position(..)`: the 1-based index of the context's innermost repeat
    /// instance, which is all the VM's `position` gives.
    mutating func position(_ arguments: [XPathExpression], column: Int) throws(ExpressionCompileError) {
        guard arguments.count == 1 else {
            throw ExpressionCompileError(construct: "function 'position'",
                                         message: "only position(..) of the enclosing repeat is supported", column: column)
        }
        guard let innermost = innermostRepeat() else {
            throw ExpressionCompileError(construct: "function 'position'", message: "this question is not in a repeat",
                                         column: column)
        }
        guard try nodeArgument(arguments[0], of: "position", column: column) == innermost else {
            throw ExpressionCompileError(construct: "function 'position'",
                                         message: "the argument must be the innermost repeat around this question",
                                         column: column)
        }
        emit(.position, pops: 0, pushes: 1)
    }

    /// `jr:choice-name(value, ' /data/q ')`: the second argument is a
    /// string holding the select's path.
    mutating func choiceName(_ arguments: [XPathExpression], column: Int) throws(ExpressionCompileError) {
        let construct = "function 'jr:choice-name'"
        guard arguments.count == 2 else {
            throw ExpressionCompileError(construct: construct, message: "takes 2 arguments, not \(arguments.count)",
                                         column: column)
        }
        guard case .literal(let text, let literalColumn) = arguments[1] else {
            throw ExpressionCompileError(construct: construct,
                                         message: "the second argument must be a quoted path, e.g. '/data/q'", column: column)
        }
        let parsed: XPathExpression
        do throws(ExpressionCompileError) {
            parsed = try XPathParser.parse(text.trimmingXPathWhitespace)
        } catch {
            throw ExpressionCompileError(construct: construct, message: "'\(text)' is not a path: \(error.message)",
                                         column: literalColumn)
        }
        guard case .path(let path) = parsed else {
            throw ExpressionCompileError(construct: construct, message: "'\(text)' is not a path", column: literalColumn)
        }
        let node = try formNode(path, column: literalColumn)
        try expression(arguments[0])
        emit(.choiceName, pops: 1, pushes: 1)
        u16(node)
    }

    func checkPattern(_ pattern: String, column: Int) throws(ExpressionCompileError) {
        var memory = [UInt8](repeating: 0, count: 4096)
        let supported = Array(pattern.utf8).withUnsafeBytes { p in
            memory.withUnsafeMutableBytes { BacktrackingRegex.isSupported(p, memory: $0) }
        }
        if !supported {
            throw ExpressionCompileError(construct: "regex pattern '\(pattern)'",
                                         message: "outside the supported subset (literals, ., classes, \\d \\w \\s, ^ $, groups with |, * + ? {m,n})",
                                         column: column)
        }
    }

    // MARK: paths

    /// Pushes the value a path refers to.
    mutating func load(_ path: XPathPath) throws(ExpressionCompileError) {
        if let columns = context.choiceColumns, path.start == .context {
            // Inside an itemset filter a bare name is a column of the item.
            guard path.steps.count == 1, case .child(let name) = path.steps[0] else {
                throw ExpressionCompileError(construct: "path '\(path.text)'",
                                             message: "in a choice filter, use a column name or current()/… for form nodes",
                                             column: path.column)
            }
            guard let index = columns.firstIndex(of: name) else {
                throw ExpressionCompileError(construct: "column '\(name)'",
                                             message: "the choice list has no such column (has \(columns.joined(separator: ", ")))",
                                             column: path.column)
            }
            emit(.itemColumn, pops: 0, pushes: 1)
            u16(UInt16(index))
            return
        }
        let node = try formNode(path, column: path.column)
        if node == context.contextNode {
            emit(.loadContext, pops: 0, pushes: 1)
        } else {
            emit(.loadNode, pops: 0, pushes: 1)
            u16(node)
        }
    }

    /// The form node an argument path names (for count, position).
    func nodeArgument(_ argument: XPathExpression, of function: String, column: Int) throws(ExpressionCompileError) -> UInt16 {
        guard case .path(let path) = argument else {
            throw ExpressionCompileError(construct: "function '\(function)'", message: "the argument must be a node path",
                                         column: column)
        }
        if context.choiceColumns != nil && path.start == .context {
            throw ExpressionCompileError(construct: "function '\(function)'",
                                         message: "in a choice filter the argument must be current()/… or absolute",
                                         column: column)
        }
        return try formNode(path, column: path.column)
    }

    /// Resolves a path to a form node: absolute below `/root`, or relative
    /// to the context node (`current()` is the context node too).
    func formNode(_ path: XPathPath, column: Int) throws(ExpressionCompileError) -> UInt16 {
        let construct = "path '\(path.text)'"
        var names: [String]
        var steps = path.steps[...]
        switch path.start {
        case .root:
            guard case .child(let first) = steps.first, first == context.rootName else {
                throw ExpressionCompileError(construct: construct,
                                             message: "absolute paths start with /\(context.rootName)", column: column)
            }
            names = []
            steps = steps.dropFirst()
        case .context, .current:
            guard let node = context.contextNode else {
                throw ExpressionCompileError(construct: construct,
                                             message: "a relative path needs a context node", column: column)
            }
            names = context.nodePath(node)
        }
        for step in steps {
            switch step {
            case .this: break
            case .parent:
                guard !names.isEmpty else {
                    throw ExpressionCompileError(construct: construct, message: "goes above the root", column: column)
                }
                names.removeLast()
            case .child(let name): names.append(name)
            }
        }
        if names.isEmpty {
            throw ExpressionCompileError(construct: construct, message: "the root /\(context.rootName) has no value",
                                         column: column)
        }
        guard let node = context.resolve(names) else {
            throw ExpressionCompileError(construct: construct,
                                         message: "no such node (/\(([context.rootName] + names).joined(separator: "/")))",
                                         column: column)
        }
        return node
    }

    /// The nearest repeat at or above the context node.
    func innermostRepeat() -> UInt16? {
        guard let node = context.contextNode else { return nil }
        var names = context.nodePath(node)
        while !names.isEmpty {
            if let candidate = context.resolve(names), context.isRepeat(candidate) { return candidate }
            names.removeLast()
        }
        return nil
    }
}

extension String {
    var trimmingXPathWhitespace: String {
        var s = Substring(self)
        while let c = s.first, c.isXPathWhitespace { s.removeFirst() }
        while let c = s.last, c.isXPathWhitespace { s.removeLast() }
        return String(s)
    }
}
