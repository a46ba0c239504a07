import Foundation
import HavenCore
import HavenHost

/// A compiled fixture form running in the device engine, driven like an
/// enumerator would drive it, with answers and screens as plain strings.
final class FixtureSession {
    let instrument: Instrument
    let interview: Interview<FixedClock>

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/forms")

    /// 10 June 2024, the date the fixture forms' scenarios assume.
    static let today = FixedClock(year: 2024, month: 6, day: 10)

    init(_ name: String, language: Int? = nil, seed: UInt64 = 7) throws {
        let xml = try Data(contentsOf: Self.fixtures.appendingPathComponent(name + ".xml"))
        let bytes = try FormCompiler.compile(xml: xml, sourceName: name, limits: CompileLimits(repeatCapacity: 50))
        instrument = try Instrument(bytes: bytes)
        interview = try Interview(instrument: instrument, language: language, clock: Self.today, randomSeed: seed)
    }

    /// Wraps an interview resumed from saved state.
    init(resuming interview: Interview<FixedClock>, instrument: Instrument) {
        self.instrument = instrument
        self.interview = interview
    }

    func string(_ b: UnsafeRawBufferPointer) -> String { String(decoding: b, as: UTF8.self) }

    /// Name of the node `index` (its element name).
    func name(_ index: Int) -> String { string(instrument.string(instrument.nodes[index].name)) }

    func node(named name: String) -> Int {
        (0..<instrument.nodeCount).first { self.name($0) == name }!
    }

    var screen: Screen { interview.screen }

    /// What a person sees: "kind:name" (the end screen is "end").
    var here: String {
        let s = interview.screen
        switch s.kind {
        case .end: return "end"
        case .privacyCheck: return "privacy:" + name(Int(s.node!))
        case .repeatPrompt: return "add-another:" + name(Int(s.node!))
        case .note: return "note:" + name(Int(s.node!))
        case .question: return name(Int(s.node!))
        }
    }

    var label: String { string(interview.screen.label) }
    var message: String { string(interview.screen.message) }

    /// Values of the choices on screen, in order.
    var choices: [String] {
        (0..<interview.screen.choiceCount).map { string(interview.choice(at: $0)!.value) }
    }

    var choiceLabels: [String] {
        (0..<interview.screen.choiceCount).map { string(interview.choice(at: $0)!.label) }
    }

    func choose(_ value: String) throws {
        guard let i = choices.firstIndex(of: value) else { throw SessionError.noSuchChoice(value, choices) }
        try interview.answer(choiceAt: i)
    }

    func toggle(_ value: String) throws {
        guard let i = choices.firstIndex(of: value) else { throw SessionError.noSuchChoice(value, choices) }
        try interview.toggleChoice(at: i)
    }

    func type(_ text: String) throws {
        try Array(text.utf8).withUnsafeBytes { try interview.answer(text: $0) }
    }

    @discardableResult
    func next() -> NavigationOutcome { interview.next() }

    /// Screens visited by pressing next until `stop` (or the end), without answering.
    func walk(until stop: String) -> [String] {
        var seen: [String] = []
        while here != stop && here != "end" {
            seen.append(here)
            if next() != .moved { break }
        }
        return seen
    }

    /// The current answer of a node as text, "" when none.
    func value(_ name: String, instance: InstancePath = .root) -> String {
        switch interview.answer(of: node(named: name), instance: instance) {
        case .none: return ""
        case .text(let b), .calculated(let b), .choices(let b): return string(b)
        case .integer(let v): return String(v)
        case .decimal(let v): return String(v)
        case .date(let d): return String(d)
        case .choice(let i):
            let list = Int(instrument.nodes[node(named: name)].choiceList)
            return string(instrument.choiceValue(list: list, item: i))
        }
    }

    enum SessionError: Error { case noSuchChoice(String, [String]) }
}

/// Days since 1970-01-01 for a civil date (for expected date answers).
func days(_ year: Int, _ month: Int, _ day: Int) -> Int32 { FixedClock(year: year, month: month, day: day).today() }
