// Embedded self-test of the expression VM: the generic VM specialised for a
// concrete environment (as the firmware's engine will), run on hand-made
// bytecode, plus the load-time validator. Exercises exact number text,
// dates, strings, regex and `once` in Embedded mode.

/// A fixed environment: node 0 is "0712345678", node 1 the number 3.25,
/// node 2 a date; strings from `strings`.
fileprivate struct SelfTestEnvironment: ExpressionEnvironment {
    var strings: [UnsafeRawBufferPointer]
    var phone: UnsafeRawBufferPointer
    var context: ExprValue = .empty
    var randomCalls = 0

    mutating func value(of node: UInt16) -> ExprValue {
        switch node {
        case 0: return .string(phone)
        case 1: return .number(3.25)
        case 2: return .date(19_782)  // 2024-02-29
        default: return .empty
        }
    }
    mutating func contextValue() -> ExprValue { context }
    mutating func contextHasValue() -> Bool {
        if case .empty = context { return false }
        return true
    }
    mutating func instanceCount(of node: UInt16) -> Int { 3 }
    mutating func position() -> Int { 2 }
    mutating func itemColumn(_ column: UInt16) -> ExprValue { .empty }
    mutating func choiceLabel(node: UInt16, value: UnsafeRawBufferPointer) -> ExprValue { .empty }
    mutating func string(_ ref: UInt32) -> UnsafeRawBufferPointer {
        strings[Int(ref)]
    }
    mutating func today() -> Int32 { 19_723 }
    mutating func random() -> Double {
        randomCalls += 1
        return 0.5
    }
}

fileprivate func bytes(_ text: StaticString) -> [UInt8] {
    var out: [UInt8] = []
    var i = 0
    while i < text.utf8CodeUnitCount {
        out.append(text.utf8Start[i])
        i += 1
    }
    return out
}

/// A copy that stays put for the whole run (the process exits after it).
fileprivate func stable(_ text: StaticString) -> UnsafeRawBufferPointer {
    let count = text.utf8CodeUnitCount
    let block = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 1)
    var i = 0
    while i < count {
        block[i] = text.utf8Start[i]
        i += 1
    }
    return UnsafeRawBufferPointer(rebasing: block[0..<count])
}

fileprivate func number(_ x: Double) -> [UInt8] {
    var out: [UInt8] = [Opcode.pushNumber.rawValue]
    var i: UInt64 = 0
    while i < 8 {
        out.append(UInt8(truncatingIfNeeded: x.bitPattern >> (8 * i)))
        i += 1
    }
    return out
}

fileprivate func string(_ ref: UInt8) -> [UInt8] { [Opcode.pushString.rawValue, ref, 0, 0, 0] }
fileprivate func call(_ f: ExpressionFunction, _ argc: UInt8) -> [UInt8] { [Opcode.call.rawValue, f.rawValue, argc] }
fileprivate let end: [UInt8] = [Opcode.end.rawValue]

fileprivate func text(_ vm: ExpressionVM, _ code: [UInt8], _ env: inout SelfTestEnvironment) -> [UInt8]? {
    var out = [UInt8](repeating: 0, count: 128)
    let n = code.withUnsafeBytes { c -> Int in
        out.withUnsafeMutableBytes { o -> Int in
            do throws(ExpressionError) { return try vm.evaluateString(c, environment: &env, into: o) } catch { return -1 }
        }
    }
    if n < 0 { return nil }
    return Array(out[0..<n])
}

fileprivate func valid(_ code: [UInt8]) -> Bool {
    code.withUnsafeBytes { c -> Bool in
        do throws(ExpressionError) {
            try BytecodeValidator.validate(c, maxStack: 8, stringCount: 4, nodeCount: 3, columnCount: nil)
            return true
        } catch {
            return false
        }
    }
}

func expressionChecks(_ t: inout Checker) {
    let vm = ExpressionVM(stackCapacity: 16, arenaCapacity: 1024, regexCapacity: 2048)
    var env = SelfTestEnvironment(strings: [stable(""), stable("^07[0-9]{8}$"), stable("123456789012345678901234.5"),
                                            stable(" x ")],
                                  phone: stable("0712345678"))

    let sum = number(0.1) + number(0.2) + [Opcode.add.rawValue] + end
    t.check(text(vm, sum, &env) == bytes("0.30000000000000004"), "expr: string(0.1 + 0.2) is the shortest round trip")
    t.check(valid(sum), "expr: validator accepts a well-formed program")

    let regex = [Opcode.loadNode.rawValue, 0, 0] + string(1) + call(.regex, 2) + end
    t.check(text(vm, regex, &env) == bytes("true"), "expr: regex full match on a phone number")

    let slowParse = string(2) + call(.number, 1) + end
    t.check(text(vm, slowParse, &env) == bytes("123456789012345690000000"), "expr: exact parse of a long number")

    let date = [Opcode.loadNode.rawValue, 2, 0] + number(1) + [Opcode.add.rawValue] + call(.date, 1) + end
    t.check(text(vm, date, &env) == bytes("2024-03-01"), "expr: date arithmetic across a leap day")

    let cut = [Opcode.loadNode.rawValue, 0, 0] + number(-4) + call(.substr, 2) + end
    t.check(text(vm, cut, &env) == bytes("5678"), "expr: substr counts from the end")

    let mod = number(-7) + number(3) + [Opcode.modulo.rawValue] + end
    t.check(text(vm, mod, &env) == bytes("-1"), "expr: mod keeps the dividend's sign")

    let once = [Opcode.once.rawValue, 3, 0] + call(.random, 0) + end
    t.check(text(vm, once, &env) == bytes("0.5") && env.randomCalls == 1, "expr: once evaluates when empty")
    env.context = .number(7)
    t.check(text(vm, once, &env) == bytes("7") && env.randomCalls == 1, "expr: once keeps an existing value")

    t.check(!valid([Opcode.add.rawValue] + end), "expr: validator refuses a stack underflow")
    t.check(!valid([Opcode.pushNumber.rawValue, 1, 2]), "expr: validator refuses a truncated operand")
    t.check(!valid([0x77] + end), "expr: validator refuses an unknown opcode")
}
