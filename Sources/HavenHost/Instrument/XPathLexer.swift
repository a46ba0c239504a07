/// Splits an XForms expression into XPath 1.0 tokens (XPath §3.7), with the
/// spec's context rules: after a token that can end an operand, `*` is
/// multiplication and `and` `or` `div` `mod` are operators; anywhere else
/// they are names. Names keep their prefix (`jr:choice-name`).
struct XPathToken: Equatable {
    enum Kind: Equatable {
        case number(Double)
        case literal(String)
        case name(String)
        case star                // the name test `*`
        case leftParen, rightParen, leftBracket, rightBracket, comma
        case slash, doubleSlash, dot, doubleDot, at, dollar, doubleColon, pipe
        case op(XPathOperator)
        case end
    }

    var kind: Kind
    /// 1-based column of the token's first character.
    var column: Int
}

enum XPathOperator: String, Equatable {
    case or, and
    case equal = "=", notEqual = "!="
    case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case plus = "+", minus = "-", multiply = "*", div, mod
}

struct XPathLexer {
    private let characters: [Character]
    private var index = 0
    private var previous: XPathToken.Kind?

    init(_ source: String) { characters = Array(source) }

    /// All tokens, ending with `.end`.
    static func tokens(_ source: String) throws(ExpressionCompileError) -> [XPathToken] {
        var lexer = XPathLexer(source)
        var result: [XPathToken] = []
        while true {
            let token = try lexer.next()
            result.append(token)
            if token.kind == .end { return result }
        }
    }

    mutating func next() throws(ExpressionCompileError) -> XPathToken {
        while index < characters.count && characters[index].isXPathWhitespace { index += 1 }
        let column = index + 1
        guard index < characters.count else { return XPathToken(kind: .end, column: column) }
        let kind = try scan(column: column)
        previous = kind
        return XPathToken(kind: kind, column: column)
    }

    /// XPath §3.7: whether the previous token ends an operand, so that
    /// `*` and operator names are operators here.
    private var operatorExpected: Bool {
        guard let previous else { return false }
        switch previous {
        case .at, .doubleColon, .leftParen, .leftBracket, .comma, .op, .slash, .doubleSlash, .pipe, .dollar:
            return false
        default:
            return true
        }
    }

    private mutating func scan(column: Int) throws(ExpressionCompileError) -> XPathToken.Kind {
        let c = characters[index]
        let next: Character? = index + 1 < characters.count ? characters[index + 1] : nil
        switch c {
        case "(": index += 1; return .leftParen
        case ")": index += 1; return .rightParen
        case "[": index += 1; return .leftBracket
        case "]": index += 1; return .rightBracket
        case ",": index += 1; return .comma
        case "@": index += 1; return .at
        case "$":
            if next == "{" {
                var end = index
                while end < characters.count && characters[end] != "}" { end += 1 }
                let reference = String(characters[index..<min(end + 1, characters.count)])
                throw ExpressionCompileError(construct: "reference '\(reference)'",
                                             message: "unexpanded XLSForm reference; compile the XForm pyxform writes",
                                             column: column)
            }
            index += 1
            return .dollar
        case "|": index += 1; return .pipe
        case "+": index += 1; return .op(.plus)
        case "-": index += 1; return .op(.minus)
        case "=": index += 1; return .op(.equal)
        case "/":
            if next == "/" { index += 2; return .doubleSlash }
            index += 1
            return .slash
        case "<":
            if next == "=" { index += 2; return .op(.lessOrEqual) }
            index += 1
            return .op(.less)
        case ">":
            if next == "=" { index += 2; return .op(.greaterOrEqual) }
            index += 1
            return .op(.greater)
        case "!":
            if next == "=" { index += 2; return .op(.notEqual) }
            throw ExpressionCompileError(construct: "'!'", message: "'!' is only valid in '!='", column: column)
        case ":":
            if next == ":" { index += 2; return .doubleColon }
            throw ExpressionCompileError(construct: "':'", message: "unexpected ':'", column: column)
        case "*":
            index += 1
            return operatorExpected ? .op(.multiply) : .star
        case "'", "\"":
            return try literal(quote: c, column: column)
        case ".":
            if next == "." { index += 2; return .doubleDot }
            if let next, next.isASCIIDigit { return number() }
            index += 1
            return .dot
        default:
            if c.isASCIIDigit { return number() }
            if c.isNameStart { return name() }
            throw ExpressionCompileError(construct: "'\(c)'", message: "unexpected character", column: column)
        }
    }

    private mutating func literal(quote: Character, column: Int) throws(ExpressionCompileError) -> XPathToken.Kind {
        index += 1
        let start = index
        while index < characters.count && characters[index] != quote { index += 1 }
        if index == characters.count {
            throw ExpressionCompileError(construct: "string literal", message: "missing closing \(quote)", column: column)
        }
        let text = String(characters[start..<index])
        index += 1
        return .literal(text)
    }

    /// Digits ('.' Digits?)? | '.' Digits — no sign, no exponent (XPath 1.0).
    private mutating func number() -> XPathToken.Kind {
        let start = index
        while index < characters.count && characters[index].isASCIIDigit { index += 1 }
        if index < characters.count && characters[index] == "." {
            index += 1
            while index < characters.count && characters[index].isASCIIDigit { index += 1 }
        }
        var text = String(characters[start..<index])
        if text.hasPrefix(".") { text = "0" + text }
        if text.hasSuffix(".") { text += "0" }
        return .number(Double(text) ?? .nan)
    }

    /// NCName, or prefix:NCName; operator names where an operator is expected.
    private mutating func name() -> XPathToken.Kind {
        let start = index
        while index < characters.count && characters[index].isNameCharacter { index += 1 }
        if index + 1 < characters.count && characters[index] == ":" && characters[index + 1].isNameStart {
            index += 1
            while index < characters.count && characters[index].isNameCharacter { index += 1 }
        }
        let text = String(characters[start..<index])
        if operatorExpected {
            switch text {
            case "and": return .op(.and)
            case "or": return .op(.or)
            case "div": return .op(.div)
            case "mod": return .op(.mod)
            default: break
            }
        }
        return .name(text)
    }
}

extension Character {
    var isXPathWhitespace: Bool { self == " " || self == "\t" || self == "\n" || self == "\r" || self == "\r\n" }
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    var isNameStart: Bool {
        isLetter || self == "_" || (unicodeScalars.first.map { $0.value > 0x7F } ?? false)
    }
    var isNameCharacter: Bool { isNameStart || isASCIIDigit || self == "-" || self == "." || isNumber }
}
