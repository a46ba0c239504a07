@testable import HavenCore
import Testing

/// A form touching every section and field: two languages, a list with an
/// extra column and a filter, every node kind, outputs, defaults, a
/// sensitive postponed group and a count-controlled repeat.
func sampleBuilder() -> InstrumentBuilder {
    var b = InstrumentBuilder(languages: ["English (en)", "Français (fr)"])
    let yesNo = b.list([("yes", "Yes"), ("no", "No")])
    let districts = b.list([("d1", "North"), ("d2", "South"), ("d3", "East")], columns: ["region"],
                           extras: [["r1"], ["r2"], ["r1"]])
    b.node(.selectOne, "consent", label: "Consent?") { $0.choiceList = yesNo }                       // 0
    let consented = b.expr(Asm.node(0) + Asm.str(b.string("yes")) + Asm.op(.equal) + Asm.end)
    b.node(.text, "name", label: "Name") { $0.relevant = consented }                                 // 1
    let nameOut = b.expr(Asm.node(1) + Asm.end)
    b.node(.note, "hello") { n, b in n.label = b.text("Hello \(InstrumentBuilder.output(nameOut))!",
                                                        "Bonjour \(InstrumentBuilder.output(nameOut)) !") }     // 2
    b.node(.integer, "age", label: "Age") { n, b in n.defaultValue = b.string("30") }                       // 3
    b.node(.decimal, "income") { n, b in n.defaultValue = b.string("12.5") }                                // 4
    b.node(.date, "dob") { n, b in n.defaultValue = b.string("1990-02-28") }                                // 5
    let filter = b.expr(Asm.column(2) + Asm.str(b.string("r1")) + Asm.op(.equal) + Asm.end)
    b.node(.selectMultiple, "district", label: "District") { n, b in
        n.choiceList = districts
        n.choiceFilter = filter
        n.defaultValue = b.string("d1 d3")
    }                                                                                                // 6
    let hh = b.node(.group, "household")                                                             // 7
    b.node(.integer, "size", parent: hh)                                                             // 8
    let count = b.expr(Asm.node(8) + Asm.end)
    b.node(.repeat, "member", parent: hh) { $0.repeatCount = count; $0.repeatCapacity = 5 }          // 9
    b.node(.text, "m_name", parent: 9)                                                               // 10
    b.node(.group, "violence") { $0.flags = 0x03 }                                                   // 11
    b.node(.selectOne, "hit", parent: 11) { $0.choiceList = yesNo }                                  // 12
    b.node(.calculate, "adult") { n, b in n.calculate = b.expr(Asm.node(3) + Asm.num(18) + Asm.op(.greaterOrEqual) + Asm.end) } // 13
    b.node(.preloadUID, "instanceID")                                                                // 14
    return b
}

@Suite struct InstrumentDecoderTests {
    @Test func decodesEveryField() throws {
        var b = sampleBuilder()
        let bytes = b.build()
        let instrument = try Instrument(bytes: bytes)
        #expect(instrument.nodeCount == 15)
        #expect(instrument.languageCount == 2)
        #expect(instrument.languageName(1).string == "Français (fr)")
        #expect(instrument.string(instrument.formID).string == "test_form")
        #expect(instrument.string(instrument.formVersion).string == "2024010101")
        #expect(instrument.string(instrument.title).string == "Test form")
        #expect(instrument.byteCount == bytes.count)

        let name = instrument.nodes[1]
        #expect(name.kind == .text)
        #expect(instrument.string(name.name).string == "name")
        #expect(instrument.text(name.label, language: 0).string == "Name")
        #expect(name.relevant == 0)
        #expect(name.parent == InstrumentRef.noNode)
        #expect(instrument.text(instrument.nodes[2].label, language: 1).string == "Bonjour \u{01}1\u{02} !")

        let member = instrument.nodes[9]
        #expect(member.kind == .repeat && member.repeatCapacity == 5 && member.parent == 7)
        #expect(instrument.nodes[11].isSensitive && instrument.nodes[11].postponesWhenNotPrivate)

        let districts = Int(instrument.nodes[6].choiceList)
        #expect(instrument.choiceLists[districts].itemCount == 3)
        #expect(instrument.choiceLists[districts].extraColumnCount == 1)
        #expect(instrument.choiceValue(list: districts, item: 1).string == "d2")
        #expect(instrument.choiceLabel(list: districts, item: 2, language: 0).string == "East")
        #expect(instrument.choiceColumn(list: districts, item: 1, column: 2, language: 0).string == "r2")
        #expect(instrument.columnName(list: districts, column: 0).string == "region")

        let expression = try #require(instrument.expression(instrument.nodes[13].calculate))
        #expect(expression.maxStack == 8)
        #expect(expression.code.last == Opcode.end.rawValue)
        #expect(instrument.expression(InstrumentRef.none) == nil)
    }

    @Test func refusesEveryTruncation() throws {
        var b = sampleBuilder()
        let bytes = b.build()
        for length in 0..<bytes.count {
            #expect(throws: InstrumentError.self) { _ = try Instrument(bytes: Array(bytes[0..<length])) }
        }
        // Truncated and re-sealed (length and CRC made consistent): the
        // section table or a section now runs past the end.
        for length in stride(from: 32, to: bytes.count, by: 7) {
            let cut = InstrumentBuilder.seal(Array(bytes[0..<length]))
            #expect(throws: InstrumentError.self) { _ = try Instrument(bytes: cut) }
        }
        #expect(throws: InstrumentError.truncated(section: .header, offset: 0)) { _ = try Instrument(bytes: []) }
        #expect(throws: InstrumentError.truncated(section: .header, offset: 20)) {
            _ = try Instrument(bytes: Array(bytes[0..<20]))
        }
        #expect(throws: InstrumentError.lengthMismatch(declared: UInt32(bytes.count), actual: bytes.count - 1)) {
            _ = try Instrument(bytes: Array(bytes.dropLast()))
        }
    }

    @Test func refusesBadHeader() throws {
        var b = sampleBuilder()
        let good = b.build()
        var magic = good
        magic[3] = UInt8(ascii: "X")
        #expect(throws: InstrumentError.badMagic) { _ = try Instrument(bytes: magic) }
        #expect(throws: InstrumentError.badMagic) { _ = try Instrument(bytes: Array("<?xml version=".utf8)) }
        var version = good
        version[8] = 2
        #expect(throws: InstrumentError.unsupportedVersion(2)) { _ = try Instrument(bytes: version) }
        var corrupt = good
        corrupt[good.count - 3] ^= 0x10
        #expect {
            _ = try Instrument(bytes: corrupt)
        } throws: { error in
            if case InstrumentError.checksumMismatch = error { return true }
            return false
        }
        var reserved = good
        reserved[25] = 1
        #expect(throws: InstrumentError.invalidField(section: .header, offset: 25)) {
            _ = try Instrument(bytes: reserved)
        }
    }

    @Test func refusesBadSectionTables() throws {
        var b = sampleBuilder()
        let good = b.build()
        // Entry i of the table is at 32 + 12 i; entry 1 is STRINGS.
        var unknown = good
        unknown[32 + 12] = 9
        #expect(throws: InstrumentError.unknownSection(kind: 9, offset: 44)) {
            _ = try Instrument(bytes: InstrumentBuilder.seal(unknown))
        }
        var duplicate = good
        duplicate[32 + 12] = 1  // STRINGS entry now says META
        #expect(throws: InstrumentError.duplicateSection(.meta, offset: 44)) {
            _ = try Instrument(bytes: InstrumentBuilder.seal(duplicate))
        }
        var overlap = good
        // Point LANGUAGES (entry 2) at STRINGS' offset.
        for i in 0..<4 { overlap[32 + 24 + 4 + i] = good[32 + 12 + 4 + i] }
        #expect {
            _ = try Instrument(bytes: InstrumentBuilder.seal(overlap))
        } throws: { error in
            if case InstrumentError.overlappingSections = error { return true }
            return false
        }
        var intoTable = good
        intoTable[32 + 4] = 40  // META at offset 40: inside the section table
        intoTable[32 + 5] = 0
        #expect(throws: InstrumentError.overlappingSections(.header, .meta)) {
            _ = try Instrument(bytes: InstrumentBuilder.seal(intoTable))
        }
        var past = good
        past[32 + 8 + 3] = 0x7F  // META length huge
        #expect(throws: InstrumentError.truncated(section: .meta, offset: 36)) {
            _ = try Instrument(bytes: InstrumentBuilder.seal(past))
        }
        var missing = good
        missing[10] = 6  // only six sections listed
        #expect(throws: InstrumentError.missingSection(.nodes)) {
            _ = try Instrument(bytes: InstrumentBuilder.seal(missing))
        }
    }

    @Test func refusesBadStrings() throws {
        var b = InstrumentBuilder()
        b.node(.text, "q", label: "Straße")
        let good = b.build()
        let blob = b.sectionOffsets[.strings]! + 4 + 8 * b.strings.count
        let sharpS = blob + Array("Stra".utf8).count + Array("".utf8).count
            + b.strings.prefix { $0 != "Straße" }.reduce(0) { $0 + $1.utf8.count }
        var bad = good
        bad[sharpS + 1] = 0x41  // ß (C3 9F) loses its continuation byte
        #expect(throws: InstrumentError.invalidUTF8(offset: sharpS)) {
            _ = try Instrument(bytes: InstrumentBuilder.seal(bad))
        }
        // A string cut inside ß.
        var cut = good
        let entry = b.sectionOffsets[.strings]! + 4 + 8 * Int(b.string("Straße"))
        cut[entry + 4] = 5
        #expect(throws: InstrumentError.invalidUTF8(offset: entry + 4)) {
            _ = try Instrument(bytes: InstrumentBuilder.seal(cut))
        }
        var outside = good
        outside[entry + 3] = 0x10
        #expect(throws: InstrumentError.outOfRange(section: .strings, offset: entry)) {
            _ = try Instrument(bytes: InstrumentBuilder.seal(outside))
        }
    }

    @Test func refusesBadOutputMarkers() throws {
        var b = InstrumentBuilder()
        _ = b.expr(Asm.yes + Asm.end)
        b.node(.note, "n", label: "Value: \u{01}7\u{02}")  // expression 7 does not exist
        #expect {
            _ = try Instrument(bytes: b.build())
        } throws: { error in
            if case InstrumentError.badOutput = error { return true }
            return false
        }
        var c = InstrumentBuilder()
        c.node(.note, "n", label: "broken \u{01}0 marker")
        _ = c.expr(Asm.yes + Asm.end)
        #expect {
            _ = try Instrument(bytes: c.build())
        } throws: { error in
            if case InstrumentError.badOutput = error { return true }
            return false
        }
    }

    @Test func refusesBadNodeReferences() throws {
        var b = sampleBuilder()
        let good = b.build()
        let name = b.nodeOffset(1)
        func patch(_ at: Int, _ value: UInt32, _ base: [UInt8] = good) -> [UInt8] {
            var bytes = base
            for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
            return InstrumentBuilder.seal(bytes)
        }
        #expect(throws: InstrumentError.outOfRange(section: .nodes, offset: name + 8)) {
            _ = try Instrument(bytes: patch(name + 8, 9999))  // label text ref
        }
        #expect(throws: InstrumentError.outOfRange(section: .nodes, offset: name + 4)) {
            _ = try Instrument(bytes: patch(name + 4, 99999))  // name string ref
        }
        #expect(throws: InstrumentError.outOfRange(section: .nodes, offset: name + 24)) {
            _ = try Instrument(bytes: patch(name + 24, 500))  // relevant expr ref
        }
        #expect(throws: InstrumentError.invalidField(section: .nodes, offset: name + 48)) {
            _ = try Instrument(bytes: patch(name + 48, 0))  // choice list on a text question
        }
        #expect(throws: InstrumentError.outOfRange(section: .nodes, offset: b.nodeOffset(0) + 48)) {
            _ = try Instrument(bytes: patch(b.nodeOffset(0) + 48, 7))  // no list 7
        }
        #expect(throws: InstrumentError.invalidField(section: .nodes, offset: b.nodeOffset(7) + 40)) {
            _ = try Instrument(bytes: patch(b.nodeOffset(7) + 40, 0))  // calculate on a group
        }
        _ = try Instrument(bytes: patch(name + 40, 0))  // a text question with a calculation is fine
        var kind = good
        kind[name] = 12
        #expect(throws: InstrumentError.invalidField(section: .nodes, offset: name)) {
            _ = try Instrument(bytes: InstrumentBuilder.seal(kind))
        }
        var flags = good
        flags[name + 1] = 0x01  // sensitive on a question
        #expect(throws: InstrumentError.invalidField(section: .nodes, offset: name + 1)) {
            _ = try Instrument(bytes: InstrumentBuilder.seal(flags))
        }
        let repeatNode = b.nodeOffset(9)
        var capacity = good
        capacity[repeatNode + 56] = 0
        #expect(throws: InstrumentError.invalidField(section: .nodes, offset: repeatNode + 56)) {
            _ = try Instrument(bytes: InstrumentBuilder.seal(capacity))
        }
        var meta = good
        meta[b.sectionOffsets[.meta]! + 16] = 3  // node count disagrees
        #expect(throws: InstrumentError.invalidField(section: .meta, offset: b.sectionOffsets[.meta]! + 16)) {
            _ = try Instrument(bytes: InstrumentBuilder.seal(meta))
        }
    }

    @Test func refusesBadParents() throws {
        var b = sampleBuilder()
        let good = b.build()
        func parent(_ node: Int, _ value: UInt16) -> [UInt8] {
            var bytes = good
            bytes[b.nodeOffset(node) + 2] = UInt8(value & 0xFF)
            bytes[b.nodeOffset(node) + 3] = UInt8(value >> 8)
            return InstrumentBuilder.seal(bytes)
        }
        let at = b.nodeOffset(8) + 2
        #expect(throws: InstrumentError.badParent(offset: at)) { _ = try Instrument(bytes: parent(8, 8)) }   // itself
        #expect(throws: InstrumentError.badParent(offset: at)) { _ = try Instrument(bytes: parent(8, 11)) }  // forward
        #expect(throws: InstrumentError.badParent(offset: at)) { _ = try Instrument(bytes: parent(8, 3)) }   // a question
        // Node 12 ("hit") under group 7, whose subtree ended at 10: not document order.
        #expect(throws: InstrumentError.badParent(offset: b.nodeOffset(12) + 2)) {
            _ = try Instrument(bytes: parent(12, 7))
        }
    }

    @Test func refusesDeepRepeatsAndBadDefaults() throws {
        var b = InstrumentBuilder()
        var parent: UInt16? = nil
        for i in 0..<5 { parent = b.node(.repeat, "r\(i)", parent: parent) }
        let deep = b.build()
        #expect(throws: InstrumentError.repeatTooDeep(offset: b.nodeOffset(4))) { _ = try Instrument(bytes: deep) }

        var d = InstrumentBuilder()
        d.node(.integer, "n") { n, b in n.defaultValue = b.string("twelve") }
        _ = d.build()
        #expect(throws: InstrumentError.badDefault(offset: d.nodeOffset(0) + 44)) { _ = try Instrument(bytes: d.build()) }
        var s = InstrumentBuilder()
        let list = s.list([("a", "A")])
        s.node(.selectOne, "s") { n, b in n.choiceList = list; n.defaultValue = b.string("b") }
        _ = s.build()
        #expect(throws: InstrumentError.badDefault(offset: s.nodeOffset(0) + 44)) { _ = try Instrument(bytes: s.build()) }
        var t = InstrumentBuilder()
        t.node(.date, "d") { n, b in n.defaultValue = b.string("2023-02-29") }
        _ = t.build()
        #expect(throws: InstrumentError.badDefault(offset: t.nodeOffset(0) + 44)) { _ = try Instrument(bytes: t.build()) }
    }

    @Test func refusesMalformedChoiceLists() throws {
        var b = sampleBuilder()
        let good = b.build()
        let headers = b.sectionOffsets[.choices]! + 4
        var order = good
        order[headers + 12] = 0  // list 1 claims to start at item 0
        #expect(throws: InstrumentError.invalidField(section: .choices, offset: headers + 12)) {
            _ = try Instrument(bytes: InstrumentBuilder.seal(order))
        }
        var columns = good
        columns[headers + 12 + 6] = 4  // four extra columns, one name exists
        #expect {
            _ = try Instrument(bytes: InstrumentBuilder.seal(columns))
        } throws: { error in
            if case InstrumentError.outOfRange(section: .choices, _) = error { return true }
            return false
        }
    }

    /// Random files and random single-byte mutations of a valid file (with
    /// the CRC fixed so parsing gets past it): never a crash, a typed error
    /// or a valid instrument.
    @Test func survivesRandomInput() throws {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<500 {
            let length = rng.next(below: 300)
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if length >= 8 && rng.next(below: 2) == 0 { bytes.replaceSubrange(0..<8, with: Array("HAVNINST".utf8)) }
            if length >= 32 && rng.next(below: 2) == 0 { bytes = InstrumentBuilder.seal(bytes) }
            do { _ = try Instrument(bytes: bytes) } catch {}
        }
        var b = sampleBuilder()
        let good = b.build()
        var decoded = 0
        for _ in 0..<3000 {
            var bytes = good
            for _ in 0..<(1 + rng.next(below: 3)) {
                let at = 32 + rng.next(below: good.count - 32)
                bytes[at] = rng.next(below: 3) == 0 ? UInt8(truncatingIfNeeded: rng.next()) : bytes[at] ^ (1 << UInt8(rng.next(below: 8)))
            }
            do {
                let instrument = try Instrument(bytes: InstrumentBuilder.seal(bytes))
                decoded += 1
                // Whatever decoded must be safe to run.
                let interview = try? TestInterview(instrument: instrument, clock: testDay, randomSeed: 1)
                _ = interview?.next()
            } catch {}
        }
        #expect(decoded < 3000)
    }
}
