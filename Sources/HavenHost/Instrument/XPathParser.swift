/// The XForms subset of XPath 1.0 as a syntax tree: literals, paths made of
/// child names, `.` and `..` (absolute, relative, or from `current()`),
/// function calls, and the operators with XPath's precedence (or < and <
/// equality < relational < additive < multiplicative < unary minus).
/// Constructs Haven does not run (unions, `//`, axes, attributes,
/// predicates on form paths, variables, node tests) are refused here,
/// naming the construct and its column.
indirect enum XPathExpression: Equatable {
    case number(Double)
    case literal(String, column: Int)
    case path(XPathPath)
    case call(name: String, arguments: [XPathExpression], column: Int)
    case binary(XPathOperator, XPathExpression, XPathExpression, column: Int)
    case negate(XPathExpression)
}

struct XPathPath: Equatable {
    enum Start: Equatable {
        case root      // /data/…
        case context   // ., .., name
        case current   // current()/…
    }

    enum Step: Equatable {
        case this
        case parent
        case child(String)
    }

    var start: Start
    var steps: [Step]
    var column: Int

    /// The path as written (normalised spacing), for messages.
    var text: String {
        let parts = steps.map { step -> String in
            switch step {
            case .this: return "."
            case .parent: return ".."
            case .child(let name): return name
            }
        }.joined(separator: "/")
        switch start {
        case .root: return "/" + parts
        case .context: return parts
        case .current: return parts.isEmpty ? "current()" : "current()/" + parts
        }
    }
}

struct XPathParser {
    private let tokens: [XPathToken]
    private var index = 0

    init(tokens: [XPathToken]) { self.tokens = tokens }

    static func parse(_ source: String) throws(ExpressionCompileError) -> XPathExpression {
        var parser = XPathParser(tokens: try XPathLexer.tokens(source))
        if parser.peek.kind == .end {
            throw ExpressionCompileError(construct: "expression", message: "empty expression", column: 1)
        }
        let expression = try parser.expression()
        if parser.peek.kind != .end { throw parser.unexpected(parser.peek) }
        return expression
    }

    private var peek: XPathToken { tokens[index] }
    private var peekNext: XPathToken { tokens[min(index + 1, tokens.count - 1)] }

    private mutating func advance() -> XPathToken {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    // MARK: operators, lowest precedence first

    private mutating func expression() throws(ExpressionCompileError) -> XPathExpression {
        try binary(level: 0)
    }

    private static let levels: [[XPathOperator]] = [
        [.or], [.and], [.equal, .notEqual], [.less, .lessOrEqual, .greater, .greaterOrEqual],
        [.plus, .minus], [.multiply, .div, .mod],
    ]

    private mutating func binary(level: Int) throws(ExpressionCompileError) -> XPathExpression {
        if level == Self.levels.count { return try unary() }
        var left = try binary(level: level + 1)
        while case .op(let op) = peek.kind, Self.levels[level].contains(op) {
            let column = advance().column
            let right = try binary(level: level + 1)
            left = .binary(op, left, right, column: column)
        }
        return left
    }

    private mutating func unary() throws(ExpressionCompileError) -> XPathExpression {
        if peek.kind == .op(.minus) {
            _ = advance()
            return .negate(try unary())
        }
        let operand = try pathExpression()
        if peek.kind == .pipe {
            throw ExpressionCompileError(construct: "union '|'", message: "node-set unions are not supported",
                                         column: peek.column)
        }
        return operand
    }

    // MARK: paths and primaries

    private mutating func pathExpression() throws(ExpressionCompileError) -> XPathExpression {
        let token = peek
        switch token.kind {
        case .slash:
            _ = advance()
            guard startsStep(peek.kind) else {
                throw ExpressionCompileError(construct: "path '/'", message: "the document root has no value",
                                             column: token.column)
            }
            return .path(XPathPath(start: .root, steps: try steps(), column: token.column))
        case .doubleSlash:
            throw ExpressionCompileError(construct: "descendant path '//'",
                                         message: "'//' is not supported; write the full path", column: token.column)
        case .number(let value):
            _ = advance()
            return try noPathAfter(.number(value), what: "a number")
        case .literal(let text):
            _ = advance()
            return try noPathAfter(.literal(text, column: token.column), what: "a string")
        case .leftParen:
            _ = advance()
            let inner = try expression()
            guard peek.kind == .rightParen else { throw unexpected(peek, expecting: "')'") }
            _ = advance()
            return try noPathAfter(inner, what: "a parenthesised expression")
        case .dollar:
            var name = "$"
            if case .name(let n) = peekNext.kind { name += n }
            throw ExpressionCompileError(construct: "variable '\(name)'", message: "variables are not supported",
                                         column: token.column)
        case .name(let name) where peekNext.kind == .leftParen:
            return try call(name, column: token.column)
        default:
            if startsStep(token.kind) {
                return .path(XPathPath(start: .context, steps: try steps(), column: token.column))
            }
            throw unexpected(token)
        }
    }

    private mutating func call(_ name: String, column: Int) throws(ExpressionCompileError) -> XPathExpression {
        if ["text", "node", "comment", "processing-instruction"].contains(name) {
            throw ExpressionCompileError(construct: "node test '\(name)()'", message: "node tests are not supported",
                                         column: column)
        }
        _ = advance()  // name
        _ = advance()  // (
        var arguments: [XPathExpression] = []
        if peek.kind != .rightParen {
            while true {
                arguments.append(try expression())
                if peek.kind == .comma { _ = advance(); continue }
                break
            }
        }
        guard peek.kind == .rightParen else { throw unexpected(peek, expecting: "')' or ','") }
        _ = advance()
        if name == "current" {
            if !arguments.isEmpty {
                throw ExpressionCompileError(construct: "function 'current'", message: "current() takes no arguments",
                                             column: column)
            }
            if peek.kind == .leftBracket { throw predicate(peek.column) }
            if peek.kind == .doubleSlash {
                throw ExpressionCompileError(construct: "descendant path '//'", message: "'//' is not supported",
                                             column: peek.column)
            }
            var path = XPathPath(start: .current, steps: [], column: column)
            if peek.kind == .slash {
                _ = advance()
                path.steps = try steps()
            }
            return .path(path)
        }
        let result = XPathExpression.call(name: name, arguments: arguments, column: column)
        if peek.kind == .slash || peek.kind == .doubleSlash || peek.kind == .leftBracket {
            throw ExpressionCompileError(construct: "function '\(name)'",
                                         message: "paths and predicates on a function's result are not supported",
                                         column: column)
        }
        return result
    }

    /// A primary expression cannot be followed by a path or predicate here.
    private func noPathAfter(_ expression: XPathExpression, what: String) throws(ExpressionCompileError) -> XPathExpression {
        switch peek.kind {
        case .leftBracket: throw predicate(peek.column)
        case .slash, .doubleSlash:
            throw ExpressionCompileError(construct: "path after \(what)", message: "only node paths can have steps",
                                         column: peek.column)
        default: return expression
        }
    }

    private func startsStep(_ kind: XPathToken.Kind) -> Bool {
        switch kind {
        case .dot, .doubleDot, .name, .star, .at: return true
        default: return false
        }
    }

    /// step ('/' step)*
    private mutating func steps() throws(ExpressionCompileError) -> [XPathPath.Step] {
        var result = [try step()]
        while true {
            if peek.kind == .doubleSlash {
                throw ExpressionCompileError(construct: "descendant path '//'",
                                             message: "'//' is not supported; write the full path", column: peek.column)
            }
            guard peek.kind == .slash else { return result }
            _ = advance()
            result.append(try step())
        }
    }

    private mutating func step() throws(ExpressionCompileError) -> XPathPath.Step {
        let token = advance()
        let step: XPathPath.Step
        switch token.kind {
        case .dot: step = .this
        case .doubleDot: step = .parent
        case .star:
            throw ExpressionCompileError(construct: "wildcard '*'", message: "name tests with '*' are not supported",
                                         column: token.column)
        case .at:
            var name = "@"
            if case .name(let n) = peek.kind { name += n }
            throw ExpressionCompileError(construct: "attribute '\(name)'", message: "attributes are not supported",
                                         column: token.column)
        case .name(let name):
            if peek.kind == .doubleColon {
                throw ExpressionCompileError(construct: "axis '\(name)::'",
                                             message: "only the child, parent and self steps are supported",
                                             column: token.column)
            }
            if peek.kind == .leftParen {
                throw ExpressionCompileError(construct: "node test '\(name)()'", message: "node tests are not supported",
                                             column: token.column)
            }
            step = .child(name)
        default:
            throw unexpected(token, expecting: "a path step")
        }
        if peek.kind == .leftBracket { throw predicate(peek.column) }
        return step
    }

    private func predicate(_ column: Int) -> ExpressionCompileError {
        ExpressionCompileError(construct: "predicate '[…]'", message: "predicates on form paths are not supported",
                               column: column)
    }

    private func unexpected(_ token: XPathToken, expecting: String? = nil) -> ExpressionCompileError {
        let what: String
        switch token.kind {
        case .end: what = "end of expression"
        case .number(let x): what = "number \(x)"
        case .literal(let s): what = "string '\(s)'"
        case .name(let n): what = "'\(n)'"
        case .op(let op): what = "'\(op.rawValue)'"
        case .leftParen: what = "'('"
        case .rightParen: what = "')'"
        case .leftBracket: what = "'['"
        case .rightBracket: what = "']'"
        case .comma: what = "','"
        case .slash: what = "'/'"
        case .doubleSlash: what = "'//'"
        case .dot: what = "'.'"
        case .doubleDot: what = "'..'"
        case .at: what = "'@'"
        case .dollar: what = "'$'"
        case .doubleColon: what = "'::'"
        case .pipe: what = "'|'"
        case .star: what = "'*'"
        }
        let message = expecting.map { "expected \($0), found \(what)" } ?? "unexpected \(what)"
        return ExpressionCompileError(construct: "syntax", message: message, column: token.column)
    }
}
