import HavenCore

/// Bytes that outlive every evaluation in a test: allocated once, never moved.
final class TestStringPool {
    private var blocks: [UnsafeMutableRawBufferPointer] = []

    func bytes(_ text: String) -> UnsafeRawBufferPointer {
        let utf8 = Array(text.utf8)
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: max(utf8.count, 1), alignment: 1)
        block.copyBytes(from: utf8)
        blocks.append(block)
        return UnsafeRawBufferPointer(rebasing: block[0..<utf8.count])
    }

    deinit { for block in blocks { block.deallocate() } }
}

/// What a test node holds.
enum TestValue {
    case text(String)
    case number(Double)
    case date(Int32)
    case empty
}

/// An interview engine stand-in: node values from a dictionary, a string
/// table, a choice list, a fixed today and a scripted random().
struct TestEnvironment: ExpressionEnvironment {
    let pool = TestStringPool()
    var values: [UInt16: ExprValue] = [:]
    var context: ExprValue = .empty
    var strings: [UnsafeRawBufferPointer] = []
    var instanceCounts: [UInt16: Int] = [:]
    var currentPosition = 1
    var item: [UnsafeRawBufferPointer] = []
    var labels: [String: UnsafeRawBufferPointer] = [:]
    var todayDays: Int32 = 19_723  // 2024-01-01
    var randomValue = 0.25
    var randomCalls = 0

    init(strings: [String] = []) {
        self.strings = [pool.bytes("")] + strings.map { pool.bytes($0) }
    }

    mutating func set(_ node: UInt16, _ value: TestValue) { values[node] = convert(value) }
    mutating func setContext(_ value: TestValue) { context = convert(value) }
    mutating func setItem(_ columns: [String]) { item = columns.map { pool.bytes($0) } }
    mutating func setLabel(_ value: String, _ label: String) { labels[value] = pool.bytes(label) }

    func convert(_ value: TestValue) -> ExprValue {
        switch value {
        case .text(let s): return .string(pool.bytes(s))
        case .number(let x): return .number(x)
        case .date(let d): return .date(d)
        case .empty: return .empty
        }
    }

    mutating func value(of node: UInt16) -> ExprValue { values[node] ?? .empty }
    mutating func contextValue() -> ExprValue { context }

    mutating func contextHasValue() -> Bool {
        switch context {
        case .empty: return false
        case .string(let s): return s.count > 0
        default: return true
        }
    }

    mutating func instanceCount(of node: UInt16) -> Int { instanceCounts[node] ?? 0 }
    mutating func position() -> Int { currentPosition }
    mutating func itemColumn(_ column: UInt16) -> ExprValue {
        Int(column) < item.count ? .string(item[Int(column)]) : .empty
    }

    mutating func choiceLabel(node: UInt16, value: UnsafeRawBufferPointer) -> ExprValue {
        let key = String(decoding: value, as: UTF8.self)
        if let label = labels[key] { return .string(label) }
        return .empty
    }

    mutating func string(_ ref: UInt32) -> UnsafeRawBufferPointer {
        Int(ref) < strings.count ? strings[Int(ref)] : strings[0]
    }

    mutating func today() -> Int32 { todayDays }

    mutating func random() -> Double {
        randomCalls += 1
        return randomValue
    }
}

/// Hand assembler for bytecode (the host compiler is tested separately).
struct Assembler {
    var bytes: [UInt8] = []

    @discardableResult mutating func op(_ op: Opcode) -> Self { bytes.append(op.rawValue); return self }
    mutating func number(_ x: Double) { op(.pushNumber); u64(x.bitPattern) }
    mutating func string(_ ref: UInt32) { op(.pushString); u32(ref) }
    mutating func node(_ n: UInt16) { op(.loadNode); u16(n) }
    mutating func call(_ f: ExpressionFunction, _ argc: UInt8) { op(.call); bytes += [f.rawValue, argc] }
    mutating func with(_ op: Opcode, _ operand: UInt16) { self.op(op); u16(operand) }
    mutating func end() { op(.end) }
    mutating func u16(_ v: UInt16) { bytes += [UInt8(v & 0xFF), UInt8(v >> 8)] }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8((v >> (8 * UInt32(i))) & 0xFF)) } }
    mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8((v >> (8 * UInt64(i))) & 0xFF)) } }
}

/// Result of one evaluation in a form easy to compare.
enum Outcome: Equatable {
    case empty
    case bool(Bool)
    case number(Double)
    case string(String)
    case date(Int32)
    case nan

    init(_ value: ExprValue) {
        switch value {
        case .empty: self = .empty
        case .bool(let b): self = .bool(b)
        case .number(let x): self = x.isNaN ? .nan : .number(x)
        case .string(let s): self = .string(String(decoding: s, as: UTF8.self))
        case .date(let d): self = .date(d)
        }
    }
}

extension ExpressionVM {
    /// Evaluates and converts the result before the next evaluation reuses the arena.
    func run(_ code: [UInt8], _ env: inout TestEnvironment) throws(ExpressionError) -> Outcome {
        var result: Outcome = .empty
        var failure: ExpressionError?
        code.withUnsafeBytes { raw in
            do throws(ExpressionError) {
                result = Outcome(try evaluate(raw, environment: &env))
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return result
    }

    /// `string()` of the result.
    func runString(_ code: [UInt8], _ env: inout TestEnvironment) throws(ExpressionError) -> String {
        var out = [UInt8](repeating: 0, count: 1024)
        var count = 0
        var failure: ExpressionError?
        code.withUnsafeBytes { raw in
            out.withUnsafeMutableBytes { o in
                do throws(ExpressionError) {
                    count = try evaluateString(raw, environment: &env, into: o)
                } catch {
                    failure = error
                }
            }
        }
        if let failure { throw failure }
        return String(decoding: out[0..<count], as: UTF8.self)
    }
}
