import ArgumentParser
import CAllocCounter
import Foundation
import HavenCore
import HavenHost

/// Issue 3's performance figures: compile time of a 500-question form
/// against pyxform (the peer tool that produced the XForm, run on the same
/// form in the same run), and answers per second on the device engine
/// against the irreducible work of an answer (evaluating the question's
/// constraint once), with heap allocations per answer.
struct InterviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interview",
        abstract: "Compile time of a 500-question form and answers per second on the device engine."
    )

    @Option(help: "Folder of the fixture forms.")
    var fixtures = "Tests/Fixtures/forms"

    @Option(help: "Timed repetitions (medians are reported).")
    var repetitions = 7

    @Option(help: "Answers per timed run.")
    var answers = 20_000

    @Flag(help: "Print a Markdown section for BENCHMARKS.md.")
    var markdown = false

    func run() throws {
        let form = fixtures + "/large_500"
        let xml = try Data(contentsOf: URL(fileURLWithPath: form + ".xml"))
        let limits = CompileLimits(repeatCapacity: 50)

        // 1. Compile time, Haven against pyxform on the same form.
        var bytes: [UInt8] = []
        _ = try FormCompiler.compile(xml: xml, sourceName: "large_500.xml", limits: limits)
        let haven = try (0..<repetitions).map { _ in
            try timed { bytes = try FormCompiler.compile(xml: xml, sourceName: "large_500.xml", limits: limits) }
        }
        let pyxform = try (0..<repetitions).map { _ in try timePyxform(form + ".md") }
        let instrument = try Instrument(bytes: bytes)
        let questions = instrument.nodes.filter { $0.kind.isQuestion }.count

        // 2. Answers per second: the form's first integer question with a
        // constraint, answered over and over (each answer re-runs relevance
        // and calculates over the whole form, as the engine does).
        let interview = try Interview(instrument: instrument, clock: FixedClock(year: 2024, month: 6, day: 10),
                                      randomSeed: 1)
        var steps = 0
        while interview.screen.questionType != .integer || instrument.nodes[Int(interview.screen.node!)].constraint == InstrumentRef.none {
            if interview.screen.kind == .privacyCheck { _ = try interview.choose(yes: true) }
            else if interview.next() != .moved {
                // An unanswered required question: give it something valid.
                try answerSomething(interview)
                _ = interview.next()
            }
            steps += 1
            guard steps < 2_000 else { throw CommandFailure("no integer question with a constraint in \(form)") }
        }
        let node = Int(interview.screen.node!)
        let constraint = instrument.expression(instrument.nodes[node].constraint)!
        for i in 0..<1_000 { try interview.answer(integer: Int64(i % 40)) }
        let n = answers
        let engine = try (0..<repetitions).map { _ in
            try timed { for i in 0..<n { try interview.answer(integer: Int64(i % 40)) } }
        }
        let before = haven_thread_allocations()
        for i in 0..<n { try interview.answer(integer: Int64(i % 40)) }
        let allocations = haven_thread_allocations() - before

        // Baseline: evaluate that constraint n times with the VM alone.
        let vm = ExpressionVM()
        var environment = ConstantEnvironment(instrument: instrument)
        var sink = false
        let baseline = try (0..<repetitions).map { _ in
            try timed {
                for i in 0..<n {
                    environment.current = Double(i % 40)
                    sink = try vm.evaluateBool(constraint.code, environment: &environment) != sink
                }
            }
        }

        let compile = Summary(haven), peer = Summary(pyxform)
        let answerRate = Double(n) / Summary(engine).median, baseRate = Double(n) / Summary(baseline).median
        var table = Table(["measurement", "Haven", "baseline", "baseline figure", "ratio", "target", "result"])
        table.add(["compile large_500 (\(instrument.nodeCount) nodes, \(questions) input questions)", fixed(compile.median * 1000, 1) + " ms", "pyxform xls2xform (same form)",
                   fixed(peer.median * 1000, 1) + " ms", fixed(peer.median / compile.median, 1) + "× faster", "none", "-"])
        table.add(["answers per second (large_500, integer with constraint)", grouped(answerRate),
                   "constraint evaluation alone", grouped(baseRate), fixed(answerRate / baseRate, 3), "none", "-"])
        table.add(["heap allocations per answer", fixed(Double(allocations) / Double(n), 3), "-", "-", "-", "0",
                   verdict(allocations == 0)])
        if markdown {
            print("""
                ## Interview (issue 3)

                Command (from the repository root):

                ```sh
                swift run -c release haven-bench interview --markdown
                ```

                - Compile: `FormCompiler.compile` (XForm → FormModel → instrument) of `Tests/Fixtures/forms/large_500.xml`, \
                \(repetitions) runs, median; baseline: `xls2xform large_500.md OUT.xml --skip_validate` (pyxform, including \
                its Python start-up), same number of runs in the same process run.
                - Answers: \(n) `answer(integer:)` calls per run on the first integer question with a constraint; each \
                answer re-evaluates relevance and calculates over the form. Baseline: the question's constraint alone \
                evaluated \(n) times by `ExpressionVM`. Allocations counted with `haven_thread_allocations()` over \(n) answers.

                \(table.markdown())
                """)
        } else {
            print(table.text())
        }
    }

    private func timePyxform(_ md: String) throws -> Double {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("haven-bench-\(getpid()).xml").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["xls2xform", md, out, "--skip_validate"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        return try timed {
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw CommandFailure("xls2xform failed (run Tools/setup)") }
        }
    }

    private func answerSomething(_ interview: Interview<FixedClock>) throws {
        switch interview.screen.questionType {
        case .integer: try interview.answer(integer: 20)
        case .decimal: try interview.answer(decimal: 1.5)
        case .date: try interview.answer(date: 19_800)
        case .selectOne: try interview.answer(choiceAt: 0)
        case .selectMultiple: try interview.toggleChoice(at: 0)
        case .text: try Array("x".utf8).withUnsafeBytes { try interview.answer(text: $0) }
        case nil: break
        }
    }
}

/// The environment of the baseline: `.` is a number, everything else empty.
struct ConstantEnvironment: ExpressionEnvironment {
    let instrument: Instrument
    var current: Double = 0

    mutating func value(of node: UInt16) -> ExprValue { .empty }
    mutating func contextValue() -> ExprValue { .number(current) }
    mutating func contextHasValue() -> Bool { true }
    mutating func instanceCount(of node: UInt16) -> Int { 1 }
    mutating func position() -> Int { 1 }
    mutating func itemColumn(_ column: UInt16) -> ExprValue { .empty }
    mutating func choiceLabel(node: UInt16, value: UnsafeRawBufferPointer) -> ExprValue { .empty }
    mutating func string(_ ref: UInt32) -> UnsafeRawBufferPointer { instrument.string(ref) }
    mutating func today() -> Int32 { 19_884 }
    mutating func random() -> Double { 0.5 }
}

struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
