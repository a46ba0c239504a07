import HavenCore
import HavenHost

/// A small survey as pyxform lays it out: /data with questions, a household
/// repeat with a nested repeat, a group, and a cascading select.
final class TestForm {
    static let paths: [[String]] = [
        ["age"], ["name"], ["consent"], ["services"], ["dob"], ["phone"],
        ["hh"], ["hh", "m_name"], ["hh", "m_age"], ["hh", "pos"],
        ["hh", "child"], ["hh", "child", "c_age"],
        ["district"], ["village"], ["total"], ["grp"], ["grp", "inner"],
    ]
    static let repeats: Set<[String]> = [["hh"], ["hh", "child"]]

    var strings: [String] = [""]

    static func node(_ path: String) -> UInt16 {
        let names = path.split(separator: "/").map(String.init)
        return UInt16(paths.firstIndex(of: names)!)
    }

    func context(_ node: String?, columns: [String]? = nil) -> ExpressionContext {
        ExpressionContext(
            contextNode: node.map { Self.node($0) },
            nodePath: { Self.paths[Int($0)] },
            resolve: { path in Self.paths.firstIndex(of: path).map { UInt16($0) } },
            isRepeat: { Self.repeats.contains(Self.paths[Int($0)]) },
            rootName: "data",
            choiceColumns: columns,
            internString: { [unowned self] text in
                if let i = self.strings.firstIndex(of: text) { return UInt32(i) }
                self.strings.append(text)
                return UInt32(self.strings.count - 1)
            })
    }

    func compile(_ source: String, on node: String? = nil, columns: [String]? = nil) throws -> CompiledExpression {
        try ExpressionCompiler().compile(source, in: context(node, columns: columns))
    }
}

/// Node values keyed by node, a string table (the form's), one choice item,
/// labels, and scripted today/random.
final class HostTestEnvironment: ExpressionEnvironment {
    private var blocks: [UnsafeMutableRawBufferPointer] = []
    var values: [UInt16: ExprValue] = [:]
    var context: ExprValue = .empty
    var strings: [UnsafeRawBufferPointer] = []
    var counts: [UInt16: Int] = [:]
    var currentPosition = 1
    var item: [UnsafeRawBufferPointer] = []
    var labels: [String: UnsafeRawBufferPointer] = [:]
    var todayDays: Int32 = 19_723  // 2024-01-01
    var randomValue = 0.625
    var randomCalls = 0

    init(strings: [String]) { self.strings = strings.map { bytes($0) } }

    deinit { for b in blocks { b.deallocate() } }

    func bytes(_ text: String) -> UnsafeRawBufferPointer {
        let utf8 = Array(text.utf8)
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: max(utf8.count, 1), alignment: 1)
        block.copyBytes(from: utf8)
        blocks.append(block)
        return UnsafeRawBufferPointer(rebasing: block[0..<utf8.count])
    }

    func text(_ path: String, _ value: String) { values[TestForm.node(path)] = .string(bytes(value)) }
    func number(_ path: String, _ value: Double) { values[TestForm.node(path)] = .number(value) }
    func date(_ path: String, _ value: Int32) { values[TestForm.node(path)] = .date(value) }

    func value(of node: UInt16) -> ExprValue { values[node] ?? .empty }
    func contextValue() -> ExprValue { context }
    func contextHasValue() -> Bool {
        switch context {
        case .empty: return false
        case .string(let s): return s.count > 0
        default: return true
        }
    }
    func instanceCount(of node: UInt16) -> Int { counts[node] ?? 0 }
    func position() -> Int { currentPosition }
    func itemColumn(_ column: UInt16) -> ExprValue { Int(column) < item.count ? .string(item[Int(column)]) : .empty }
    func choiceLabel(node: UInt16, value: UnsafeRawBufferPointer) -> ExprValue {
        labels[String(decoding: value, as: UTF8.self)].map { .string($0) } ?? .empty
    }
    func string(_ ref: UInt32) -> UnsafeRawBufferPointer { Int(ref) < strings.count ? strings[Int(ref)] : strings[0] }
    func today() -> Int32 { todayDays }
    func random() -> Double {
        randomCalls += 1
        return randomValue
    }
}

/// A result that outlives the VM's arena.
enum Value: Equatable, CustomStringConvertible {
    case empty, bool(Bool), number(Double), string(String), date(Int32), nan

    var description: String {
        switch self {
        case .empty: return "empty"
        case .bool(let b): return "\(b)"
        case .number(let x): return "\(x)"
        case .string(let s): return "'\(s)'"
        case .date(let d): return "date(\(d))"
        case .nan: return "NaN"
        }
    }
}

/// Compiles against `TestForm`, checks the bytecode with the load-time
/// validator, and evaluates it.
struct Harness {
    let form = TestForm()
    let vm = ExpressionVM()
    var env: HostTestEnvironment!
    var columns: [String]?

    init(columns: [String]? = nil) { self.columns = columns }

    func compile(_ source: String, on node: String?) throws -> CompiledExpression {
        let compiled = try form.compile(source, on: node, columns: columns)
        try compiled.bytecode.withUnsafeBytes { code in
            try BytecodeValidator.validate(code, maxStack: Int(compiled.maxStack), stringCount: UInt32(form.strings.count),
                                           nodeCount: UInt16(TestForm.paths.count),
                                           columnCount: columns.map { UInt16($0.count) })
        }
        return compiled
    }

    /// Evaluates `source` on `node`; `setUp` fills the environment first.
    mutating func eval(_ source: String, on node: String? = nil,
                       _ setUp: (HostTestEnvironment) -> Void = { _ in }) throws -> Value {
        let compiled = try compile(source, on: node)
        env = HostTestEnvironment(strings: form.strings)
        setUp(env)
        var environment = env!
        return try compiled.bytecode.withUnsafeBytes { code in
            switch try vm.evaluate(code, environment: &environment) {
            case .empty: return .empty
            case .bool(let b): return .bool(b)
            case .number(let x): return x.isNaN ? .nan : .number(x)
            case .string(let s): return .string(String(decoding: s, as: UTF8.self))
            case .date(let d): return .date(d)
            }
        }
    }

    /// `string()` of the result, as a calculation stores it.
    mutating func string(_ source: String, on node: String? = nil,
                         _ setUp: (HostTestEnvironment) -> Void = { _ in }) throws -> String {
        let compiled = try compile(source, on: node)
        env = HostTestEnvironment(strings: form.strings)
        setUp(env)
        var environment = env!
        var out = [UInt8](repeating: 0, count: 2048)
        let n = try compiled.bytecode.withUnsafeBytes { code in
            try out.withUnsafeMutableBytes { try vm.evaluateString(code, environment: &environment, into: $0) }
        }
        return String(decoding: out[0..<n], as: UTF8.self)
    }

    /// The refusal for `source`.
    func refusal(_ source: String, on node: String? = "age") -> ExpressionCompileError? {
        do {
            _ = try form.compile(source, on: node, columns: columns)
            return nil
        } catch let error as ExpressionCompileError {
            return error
        } catch {
            return nil
        }
    }
}
