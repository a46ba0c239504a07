/// A lexical check of the XPath sources a form carries, so the reader can
/// refuse what the device cannot evaluate (an unknown function, a path
/// predicate, an axis …) with the question and line, before the expression
/// compiler sees it. It does not parse: it tokenizes the way XPath 1.0 does
/// (§3.7 lexical structure, including the rule that `and`/`or`/`div`/`mod`
/// after an operand are operators) and looks at function names and a few
/// path constructs. The compiler still checks arity, types and node refs.
enum XPathScan {
    struct Problem: Equatable {
        var construct: String
        var message: String
    }

    /// Where an expression sits decides what it may use: `current()` belongs
    /// only in choice filters (pyxform writes `current()/../x` there inside
    /// repeats).
    enum Context {
        case bind
        case choiceFilter
        case output
        case repeatCount
    }

    static func check(_ source: String, context: Context) -> Problem? {
        let chars = Array(source.unicodeScalars)
        var i = 0
        /// Whether the previous token ends an operand (a name, literal, `)` …):
        /// then `and`, `or`, `div`, `mod` and `*` are operators.
        var afterOperand = false
        if chars.allSatisfy({ $0.properties.isWhitespace }) {
            return Problem(construct: "empty expression", message: "the expression is empty")
        }
        while i < chars.count {
            let c = chars[i]
            if c.properties.isWhitespace {
                i += 1
                continue
            }
            if c == "'" || c == "\"" {
                guard let end = chars[(i + 1)...].firstIndex(of: c) else {
                    return Problem(construct: "string literal", message: "unterminated string literal in '\(source)'")
                }
                i = end + 1
                afterOperand = true
                continue
            }
            if isDigit(c) || (c == "." && i + 1 < chars.count && isDigit(chars[i + 1])) {
                while i < chars.count && (isDigit(chars[i]) || chars[i] == ".") { i += 1 }
                afterOperand = true
                continue
            }
            if isNameStart(c) {
                var name = readNCName(chars, &i)
                if i + 1 < chars.count && chars[i] == ":" && chars[i + 1] == ":" {
                    return Problem(construct: "axis '\(name)::'",
                                   message: "XPath axes are not supported; use ${name} references")
                }
                if i + 1 < chars.count && chars[i] == ":" && isNameStart(chars[i + 1]) {
                    i += 1
                    name += ":" + readNCName(chars, &i)
                }
                if afterOperand && ["and", "or", "div", "mod"].contains(name) {
                    afterOperand = false
                    continue
                }
                var j = i
                while j < chars.count && chars[j].properties.isWhitespace { j += 1 }
                if j < chars.count && chars[j] == "(" {
                    if let problem = checkFunction(name, context: context) { return problem }
                    afterOperand = false
                    i = j + 1
                    continue
                }
                afterOperand = true
                continue
            }
            switch c {
            case "[":
                return Problem(construct: "path predicate '[…]'",
                               message: "predicates on paths are not supported outside a choice_filter")
            case "@":
                return Problem(construct: "attribute reference '@'",
                               message: "instance attributes cannot be referenced")
            case "$":
                return Problem(construct: "variable reference '$'",
                               message: "XPath variables are not supported (an unresolved ${…} reference?)")
            case "|":
                return Problem(construct: "union '|'", message: "node-set unions are not supported")
            case "/":
                if i + 1 < chars.count && chars[i + 1] == "/" {
                    return Problem(construct: "descendant path '//'",
                                   message: "descendant paths are not supported; use ${name} references")
                }
                afterOperand = false
                i += 1
            case ".":
                i += (i + 1 < chars.count && chars[i + 1] == ".") ? 2 : 1
                afterOperand = true
            case ")", "]":
                i += 1
                afterOperand = true
            case "*":
                // Multiplication after an operand, otherwise a name test.
                i += 1
                if !afterOperand {
                    return Problem(construct: "wildcard '*'", message: "wildcard paths are not supported")
                }
                afterOperand = false
            case "(", ",", "=", "<", ">", "+", "-":
                i += 1
                afterOperand = false
            case "!":
                guard i + 1 < chars.count && chars[i + 1] == "=" else {
                    return Problem(construct: "character '!'", message: "'!' is only valid in '!='")
                }
                i += 2
                afterOperand = false
            default:
                return Problem(construct: "character '\(c)'", message: "'\(c)' is not valid in an XPath expression")
            }
        }
        return nil
    }

    private static func checkFunction(_ name: String, context: Context) -> Problem? {
        if name == "current" {
            return context == .choiceFilter ? nil
                : Problem(construct: "function 'current'",
                          message: "current() is only supported inside a choice_filter")
        }
        if name == "instance" {
            return Problem(construct: "function 'instance'",
                           message: "secondary instances can only be used as select choice lists")
        }
        if XFormReader.supportedFunctions.contains(name) { return nil }
        return Problem(construct: "function '\(name)'",
                       message: "\(name)() is not in the expression subset the device evaluates "
                           + "(supported: \(XFormReader.supportedFunctions.sorted().joined(separator: ", ")))")
    }

    private static func readNCName(_ chars: [Unicode.Scalar], _ i: inout Int) -> String {
        var name = ""
        while i < chars.count && isNameChar(chars[i]) {
            name.unicodeScalars.append(chars[i])
            i += 1
        }
        return name
    }

    private static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

    private static func isNameStart(_ c: Unicode.Scalar) -> Bool {
        c == "_" || c.properties.isAlphabetic
    }

    private static func isNameChar(_ c: Unicode.Scalar) -> Bool {
        isNameStart(c) || isDigit(c) || c == "-" || c == "." || c.properties.generalCategory == .nonspacingMark
    }
}
