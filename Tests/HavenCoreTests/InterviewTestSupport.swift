@testable import HavenCore

typealias TestInterview = Interview<FixedClock>

let testDay = FixedClock(year: 2024, month: 3, day: 15)

extension UnsafeRawBufferPointer {
    /// The bytes as a Swift string (tests only).
    var string: String { String(decoding: self, as: UTF8.self) }
}

extension InstrumentBuilder {
    /// Builds, decodes and starts an interview.
    mutating func start(limits: EngineLimits = .standard, language: Int? = nil,
                        seed: UInt64 = 42) throws -> TestInterview {
        let instrument = try Instrument(bytes: build())
        return try TestInterview(instrument: instrument, limits: limits, language: language, clock: testDay,
                                 randomSeed: seed)
    }
}

extension Interview {
    func answer(_ text: String) throws {
        try Array(text.utf8).withUnsafeBytes { try answer(text: $0) }
    }

    var label: String { screen.label.string }
    var hint: String { screen.hint.string }
    var message: String { screen.message.string }

    /// The current screen's node, or -1 at the end.
    var at: Int { position.node.map { Int($0) } ?? -1 }

    /// Labels of the choices on screen.
    var choiceLabels: [String] {
        (0..<screen.choiceCount).map { choice(at: $0)!.label.string }
    }

    func textAnswer(_ node: Int, _ instance: InstancePath = .root) -> String? {
        switch answer(of: node, instance: instance) {
        case .text(let b), .calculated(let b), .choices(let b): return b.string
        default: return nil
        }
    }

    func intAnswer(_ node: Int, _ instance: InstancePath = .root) -> Int64? {
        if case .integer(let v) = answer(of: node, instance: instance) { return v }
        return nil
    }

    func hasAnswer(_ node: Int, _ instance: InstancePath = .root) -> Bool {
        if case .none = answer(of: node, instance: instance) { return false }
        return true
    }
}

/// Reads an answer record (Docs/instrument-format.md §4) back, field by
/// field, independently of the engine's writer.
struct DecodedRecord: Equatable {
    struct Answer: Equatable {
        var node: Int
        var instance: [Int]
        var type: UInt8
        var value: Value
    }

    enum Value: Equatable {
        case text(String)
        case integer(Int64)
        case decimal(Double)
        case date(Int32)
        case choice(String)
        case choices([String])
        case calculated(String)
    }

    var formID: String
    var formVersion: String
    var instanceID: String
    var answers: [Answer]

    init?(_ bytes: [UInt8]) {
        var r = Reader(bytes: bytes)
        guard r.take(4) == Array("HVNA".utf8), r.u16() == 1 else { return nil }
        formID = r.shortString()
        formVersion = r.shortString()
        instanceID = r.shortString()
        let count = Int(r.u32())
        answers = []
        for _ in 0..<count {
            let node = Int(r.u16())
            let depth = Int(r.u8())
            var instance: [Int] = []
            for _ in 0..<depth { instance.append(Int(r.u16())) }
            let type = r.u8()
            let value: Value
            switch type {
            case 1: value = .text(r.longString())
            case 2: value = .integer(Int64(bitPattern: r.u64()))
            case 3: value = .decimal(Double(bitPattern: r.u64()))
            case 4: value = .date(Int32(bitPattern: r.u32()))
            case 5: value = .choice(r.longString())
            case 6:
                let n = Int(r.u16())
                value = .choices((0..<n).map { _ in r.longString() })
            case 7: value = .calculated(r.longString())
            default: return nil
            }
            answers.append(Answer(node: node, instance: instance, type: type, value: value))
        }
        guard r.offset == bytes.count, !r.failed else { return nil }
    }
}

struct Reader {
    var bytes: [UInt8]
    var offset = 0
    var failed = false

    mutating func take(_ n: Int) -> [UInt8] {
        guard offset + n <= bytes.count else {
            failed = true
            offset = bytes.count
            return []
        }
        defer { offset += n }
        return Array(bytes[offset..<offset + n])
    }

    mutating func le(_ n: Int) -> UInt64 {
        take(n).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    mutating func u8() -> UInt8 { UInt8(le(1)) }
    mutating func u16() -> UInt16 { UInt16(le(2)) }
    mutating func u32() -> UInt32 { UInt32(le(4)) }
    mutating func u64() -> UInt64 { le(8) }
    mutating func shortString() -> String { String(decoding: take(Int(u16())), as: UTF8.self) }
    mutating func longString() -> String { String(decoding: take(Int(u32())), as: UTF8.self) }
}
