import Foundation
import HavenCore
import HavenHost
import Testing

/// `Exporter`: sealed answer records → ODK-style CSV tables and JSON lines.
/// Records come from the real engine (household_roster: a counted roster and
/// an add-another repeat), sealed both by Haven and by Debian's `age -r`.
@Suite struct ExportTests {
    /// The household interview of `saveAndResumeMidRosterGivesTheSameRecord`.
    static func householdRecord(seed: UInt64 = 99) throws -> (record: [UInt8], instrument: Instrument, selected: String) {
        let s = try FixtureSession("household_roster", seed: seed)
        try s.choose("gasabo"); s.next(); try s.choose("kimironko"); s.next()
        try s.interview.answer(integer: 2); s.next()
        try s.type("Alice, \"Ali\""); s.next(); try s.choose("female"); s.next()
        try s.interview.answer(integer: 30); s.next(); try s.choose("head"); s.next()
        try s.type("Eric"); s.next(); try s.choose("male"); s.next()
        try s.interview.answer(integer: 4); s.next(); try s.choose("child"); s.next()
        let selected = s.value("selected_member")
        s.next()  // selected_note
        try s.interview.answer(date: days(2024, 6, 9)); s.next(); try s.choose("not_home"); s.next()
        _ = try s.interview.choose(yes: true)
        try s.interview.answer(date: days(2024, 6, 10)); s.next(); try s.choose("completed"); s.next()
        _ = try s.interview.choose(yes: false)
        #expect(s.here == "end")
        return (try s.interview.finalize(), s.instrument, selected)
    }

    static func lines(_ url: URL) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\r\n").filter { !$0.isEmpty }
    }

    @Test func householdExportHoldsExactlyTheAnswersGiven() throws {
        let (record, instrument, selected) = try Self.householdRecord()
        let parsed = try AnswerRecord(bytes: record)
        let identity = AgeIdentity.generate()
        let dir = try TempDir()
        // One file sealed by Haven, one by the age CLI: both open.
        let sealed = try AgeFile.encrypt(record, to: [identity.recipient])
        let cli = try runTool("/usr/bin/age", ["-r", identity.recipient.encoded, "-o", dir.path("cli.age")], stdin: record)
        #expect(cli.status == 0, "age -r failed: \(cli.stderr)")
        let cliBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.path("cli.age"))))
        let out = URL(fileURLWithPath: dir.path("export"))
        let summary = try Exporter(identities: [identity], instruments: [instrument])
            .export(files: [("a.age", sealed), ("b.age", cliBytes)], to: out)
        // The same interview twice: exported once.
        #expect(summary.records == ["household_roster": 1])
        #expect(summary.duplicates.count == 1)

        let id = parsed.instanceID
        let main = try Self.lines(out.appendingPathComponent("household_roster.csv"))
        #expect(main.count == 2)
        let header = main[0].components(separatedBy: ",")
        #expect(header.last == "KEY")
        #expect(header.contains("district") && header.contains("hh_size") && header.contains("meta-instanceID"))
        let row = Dictionary(uniqueKeysWithValues: zip(header, main[1].components(separatedBy: ",")))
        #expect(row["district"] == "gasabo")
        #expect(row["sector"] == "kimironko")
        #expect(row["hh_size"] == "2")
        #expect(row["selected_member"] == selected)
        #expect(row["meta-instanceID"] == id)
        #expect(row["KEY"] == id)

        let members = try Self.lines(out.appendingPathComponent("household_roster-member.csv"))
        #expect(members.count == 3)
        // A comma and quotes in a text answer survive RFC 4180 quoting;
        // calculates (member_no, eligible) are columns like questions.
        #expect(members == ["member_no,name,sex,age,relationship,eligible,PARENT_KEY,KEY",
                            "1,\"Alice, \"\"Ali\"\"\",female,30,head,1,\(id),\(id)/member[1]",
                            "2,Eric,male,4,child,0,\(id),\(id)/member[2]"])

        let visits = try Self.lines(out.appendingPathComponent("household_roster-visit.csv"))
        #expect(visits == ["visit_date,result,PARENT_KEY,KEY",
                           "2024-06-09,not_home,\(id),\(id)/visit[1]",
                           "2024-06-10,completed,\(id),\(id)/visit[2]"])

        let json = try String(contentsOf: out.appendingPathComponent("household_roster.jsonl"), encoding: .utf8)
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        #expect(object["district"] as? String == "gasabo")
        #expect(object["hh_size"] as? Int == 2)
        let member = object["member"] as! [[String: Any]]
        #expect(member.count == 2)
        #expect(member[0]["name"] as? String == "Alice, \"Ali\"")
        #expect(member[1]["age"] as? Int == 4)
        #expect((object["visit"] as! [[String: Any]]).map { $0["result"] as? String } == ["not_home", "completed"])
        #expect(object["__id"] as? String == id)
    }

    @Test func everyAnswerOfTheRecordIsInTheCSV() throws {
        // Cross-check against the record itself: each answer's text appears
        // in its table's row under its column, and nothing else is filled.
        let (record, instrument, _) = try Self.householdRecord(seed: 5)
        let parsed = try AnswerRecord(bytes: record)
        var tables = ExportTables(schema: ExportSchema(instrument: instrument))
        try tables.add(parsed)
        let filled = tables.rows.flatMap { $0.flatMap { $0.values.filter { !$0.isEmpty } } }
        #expect(filled.count == parsed.answers.count)
        #expect(Set(filled) == Set(parsed.answers.map(\.value.exportText)))
    }

    @Test func aBadFileExportsNothingAndNamesTheFile() throws {
        let (record, instrument, _) = try Self.householdRecord()
        let identity = AgeIdentity.generate()
        let good = try AgeFile.encrypt(record, to: [identity.recipient])
        let other = try AgeFile.encrypt(record, to: [AgeIdentity.generate().recipient])
        var flipped = good
        flipped[flipped.count - 5] ^= 1
        let dir = try TempDir()
        let out = URL(fileURLWithPath: dir.path("export"))
        let exporter = Exporter(identities: [identity], instruments: [instrument])
        for (name, bad) in [("someone-else.age", other), ("flipped.age", flipped), ("junk.age", [UInt8](repeating: 7, count: 40))] {
            #expect {
                _ = try exporter.export(files: [("good.age", good), (name, bad)], to: out)
            } throws: { error in
                "\(error)".contains(name) && "\(error)".contains("nothing was exported")
            }
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
        // A record whose form has no instrument.
        let decoy = try FixtureSession("decoy_savings").instrument
        #expect(throws: ExportFailure.self) {
            _ = try Exporter(identities: [identity], instruments: [decoy]).export(files: [("good.age", good)], to: out)
        }
    }

    @Test func hostileAnswerRecordsGiveTypedErrors() throws {
        let (record, _, _) = try Self.householdRecord()
        // Every truncation is refused with an error, never a crash.
        for n in 0..<record.count {
            #expect(throws: AnswerRecordError.self) { _ = try AnswerRecord(bytes: Array(record[..<n])) }
        }
        #expect(throws: AnswerRecordError.trailingBytes(offset: record.count)) {
            _ = try AnswerRecord(bytes: record + [0])
        }
        var version = record
        version[4] = 2
        #expect(throws: AnswerRecordError.unsupportedVersion(2)) { _ = try AnswerRecord(bytes: version) }
        // Random mutations: an error or a record, never a crash.
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var m = record
            for _ in 0..<Int.random(in: 1...4, using: &rng) { m[Int.random(in: 0..<m.count, using: &rng)] = .random(in: 0...255, using: &rng) }
            _ = try? AnswerRecord(bytes: m)
        }
        // A huge declared answer count is refused before allocating for it.
        var count = Array(record[..<(record.count)])
        let parsed = try AnswerRecord(bytes: record)
        let countOffset = 4 + 2 + 2 + parsed.formID.utf8.count + 2 + parsed.formVersion.utf8.count + 2 + parsed.instanceID.utf8.count
        count.replaceSubrange(countOffset..<countOffset + 4, with: [0xFF, 0xFF, 0xFF, 0x7F])
        #expect(throws: AnswerRecordError.malformed(field: "answer count", offset: countOffset)) {
            _ = try AnswerRecord(bytes: count)
        }
    }

    @Test func valuesAreWrittenAsODKWritesThem() {
        #expect(AnswerRecord.Value.date(0).exportText == "1970-01-01")
        #expect(AnswerRecord.Value.date(-1).exportText == "1969-12-31")
        #expect(AnswerRecord.Value.date(19884).exportText == "2024-06-10")
        #expect(AnswerRecord.Value.decimal(3).exportText == "3")
        #expect(AnswerRecord.Value.decimal(2.5).exportText == "2.5")
        #expect(AnswerRecord.Value.selectMultiple(["a", "b c"]).exportText == "a b c")
        #expect(AnswerRecord.Value.text("line\nbreak").jsonText == "\"line\\nbreak\"")
    }
}
