import Foundation
import HavenHost
import Testing

/// The accepted fixtures, read from the pyxform 4.5 output committed beside
/// their XLSForms.
@Suite struct XFormReaderFixtureTests {
    typealias Kind = FormNode.Kind

    // MARK: - dv_module (bilingual, sensitive section)

    @Test func dvModuleMetadataAndLanguages() throws {
        let form = try FormFixtures.read("dv_module.xml")
        #expect(form.formID == "dv_module")
        #expect(form.version == "2024061001")
        #expect(form.title == "Domestic violence module (Haven fixture)")
        #expect(form.rootName == "data")
        #expect(form.languages == ["English (en)", "Kinyarwanda (rw)"])
        #expect(form.defaultLanguage == 0)
    }

    @Test func dvModuleNodesInDocumentOrder() throws {
        let form = try FormFixtures.read("dv_module.xml")
        let expected: [(Kind, String)] = [
            (.note, "intro"), (.selectOne, "consent"), (.group, "main"), (.text, "main/round"),
            (.integer, "main/age"), (.note, "main/age_note"), (.calculate, "main/age_group"),
            (.selectOne, "main/marital"), (.integer, "main/children"), (.text, "main/resp_code"),
            (.date, "main/interview_date"), (.group, "main/violence"), (.selectOne, "main/violence/ever_hurt"),
            (.selectMultiple, "main/violence/acts"), (.integer, "main/violence/slap_freq"),
            (.selectOne, "main/violence/injured"), (.note, "main/violence/support"), (.note, "thanks"),
            (.group, "meta"), (.preloadUID, "meta/instanceID"),
        ]
        #expect(form.nodes.map(\.kind) == expected.map(\.0))
        #expect(form.nodes.map { $0.path.joined(separator: "/") } == expected.map(\.1))
        #expect(form.nodes.map(\.name) == expected.map { String($0.1.split(separator: "/").last!) })
    }

    @Test func dvModuleParents() throws {
        let form = try FormFixtures.read("dv_module.xml")
        let main = try #require(form.index("main"))
        let violence = try #require(form.index("main/violence"))
        let meta = try #require(form.index("meta"))
        for (index, node) in form.nodes.enumerated() {
            let expected: Int?
            switch node.path.count {
            case 1: expected = nil
            case 2: expected = node.path[0] == "main" ? main : meta
            default: expected = violence
            }
            #expect(node.parent == expected, "\(node.path)")
            if let parent = node.parent {
                #expect(parent < index)
                #expect([.group, .repeat].contains(form.nodes[parent].kind))
            }
        }
    }

    @Test func dvModuleLabelsHintsAndMessagesInBothLanguages() throws {
        let form = try FormFixtures.read("dv_module.xml")
        let age = try #require(form.node("main/age"))
        #expect(age.label == LocalizedText(translations: [[.literal("How old are you?")],
                                                          [.literal("Ufite imyaka ingahe?")]]))
        #expect(age.hint == LocalizedText(translations: [[.literal("Age in completed years")],
                                                         [.literal("Imyaka yuzuye")]]))
        #expect(age.constraintMessage == LocalizedText(translations: [
            [.literal("Age must be between 15 and 49.")], [.literal("Imyaka igomba kuba hagati ya 15 na 49.")]]))
        #expect(age.requiredMessage == LocalizedText(translations: [
            [.literal("Please enter the respondent's age.")], [.literal("Andika imyaka y'ubazwa.")]]))

        let consent = try #require(form.node("consent"))
        #expect(consent.label?.flat(0) == "Do you agree to take part in this interview?")
        #expect(consent.label?.flat(1) == "Wemeye kugira uruhare muri iki kiganiro?")
        #expect(consent.hint == nil && consent.constraintMessage == nil && consent.requiredMessage == nil)

        let violence = try #require(form.node("main/violence"))
        #expect(violence.label?.flat(0) == "Experiences with your husband or partner")
        #expect(violence.label?.flat(1) == "Ibyo wahuye na byo ku mugabo wawe cyangwa uwo mubana")

        let acts = try #require(form.node("main/violence/acts"))
        #expect(acts.constraintMessage?.flat(1) == "'Nta na kimwe' ntigishobora guhurizwa hamwe n'ibindi bisubizo.")
    }

    @Test func dvModuleOutputInANoteLabel() throws {
        let form = try FormFixtures.read("dv_module.xml")
        let note = try #require(form.node("main/age_note"))
        #expect(note.kind == .note)
        // pyxform turns ${age} into <output value=" /data/main/age "/>, with
        // its spaces; the reader keeps both exactly.
        #expect(note.label == LocalizedText(translations: [
            [.literal(" You said you are "), .output(" /data/main/age "), .literal(" years old. ")],
            [.literal(" Wavuze ko ufite imyaka "), .output(" /data/main/age "), .literal(". ")],
        ]))
    }

    @Test func dvModuleExpressionsExactlyAsInTheXML() throws {
        let form = try FormFixtures.read("dv_module.xml")
        #expect(form.node("main")?.relevant == " /data/consent  = 'yes'")
        #expect(form.node("consent")?.required == "true()")
        let age = try #require(form.node("main/age"))
        #expect(age.constraint == ". >= 15 and . <= 49")
        #expect(age.required == "true()")
        #expect(age.relevant == nil && age.calculate == nil && age.readonly == nil)
        #expect(form.node("main/age_group")?.calculate == "if( /data/main/age  < 18, 'minor', 'adult')")
        #expect(form.node("main/resp_code")?.constraint == "regex(., '^[A-Z]{2}[0-9]{4}$')")
        #expect(form.node("main/interview_date")?.constraint == ". <= today()")
        let acts = try #require(form.node("main/violence/acts"))
        #expect(acts.relevant == " /data/main/violence/ever_hurt  = 'yes'")
        #expect(acts.constraint == "not(selected(., 'none') and count-selected(.) > 1)")
        #expect(form.node("main/violence/slap_freq")?.relevant == "selected( /data/main/violence/acts , 'slap')")
        #expect(form.node("main/violence/injured")?.relevant
            == "selected( /data/main/violence/acts , 'punch') or selected( /data/main/violence/acts , 'kick') "
            + "or selected( /data/main/violence/acts , 'weapon')")
    }

    @Test func dvModuleSensitiveSection() throws {
        let form = try FormFixtures.read("dv_module.xml")
        for node in form.nodes {
            let isSection = node.path == ["main", "violence"]
            #expect(node.sensitive == isSection, "\(node.path)")
            #expect(node.notPrivate == (isSection ? .postpone : .skip), "\(node.path)")
        }
    }

    @Test func dvModuleDefaultsReadonlyAndNotes() throws {
        let form = try FormFixtures.read("dv_module.xml")
        let round = try #require(form.node("main/round"))
        // readonly with a default: a question whose value is recorded, not a note
        #expect(round.kind == .text)
        #expect(round.readonly == "true()")
        #expect(round.defaultValue == "R1")
        #expect(form.node("main/children")?.defaultValue == "0")
        #expect(form.node("main/age")?.defaultValue == nil)
        for path in ["intro", "main/age_note", "main/violence/support", "thanks"] {
            let note = try #require(form.node(path))
            #expect(note.kind == .note)
            #expect(note.readonly == "true()")
            #expect(note.defaultValue == nil)
        }
        let uid = try #require(form.node("meta/instanceID"))
        #expect(uid.kind == .preloadUID)
        #expect(uid.label == nil)
    }

    @Test func dvModuleChoiceLists() throws {
        let form = try FormFixtures.read("dv_module.xml")
        let consent = try #require(form.node("consent"))
        let yesNo = try #require(consent.choiceList)
        // one list per secondary instance, shared by every select using it
        #expect(form.node("main/violence/ever_hurt")?.choiceList == yesNo)
        #expect(form.node("main/violence/injured")?.choiceList == yesNo)
        #expect(form.choiceLists.count == 3)
        #expect(form.choiceLists[yesNo] == ChoiceList(instanceID: "yes_no", extraColumns: [], items: [
            .init(value: "yes", label: LocalizedText(translations: [[.literal("Yes")], [.literal("Yego")]])),
            .init(value: "no", label: LocalizedText(translations: [[.literal("No")], [.literal("Oya")]])),
        ]))
        let acts = try #require(form.choiceLists[try #require(form.node("main/violence/acts")?.choiceList)])
        #expect(acts.instanceID == "acts")
        #expect(acts.items.map(\.value) == ["slap", "push", "punch", "kick", "weapon", "none"])
        #expect(acts.items[0].label.flat(0) == "Slapped you")
        #expect(acts.items[0].label.flat(1) == "Yagukubise urushyi")
        #expect(acts.items[5].label.flat(1) == "Nta na kimwe muri ibi")
        let marital = try #require(form.choiceLists[try #require(form.node("main/marital")?.choiceList)])
        #expect(marital.items.map(\.value) == ["never", "married", "cohabiting", "separated", "widowed"])
        for node in form.nodes where node.kind != .selectOne && node.kind != .selectMultiple {
            #expect(node.choiceList == nil && node.choiceFilter == nil)
        }
        #expect(form.node("main/violence/acts")?.choiceFilter == nil)
    }

    @Test func dvModuleLineNumbers() throws {
        let form = try FormFixtures.read("dv_module.xml")
        let xml = try FormFixtures.text("dv_module.xml")
        // body control lines for questions and groups …
        #expect(form.node("main/age")?.line == lineOf("<input ref=\"/data/main/age\">", in: xml))
        #expect(form.node("main/violence")?.line == lineOf("ref=\"/data/main/violence\">", in: xml))
        #expect(form.node("main/violence/acts")?.line == lineOf("<select ref=\"/data/main/violence/acts\">", in: xml))
        // … bind lines for calculates and the instance ID, the instance line for meta
        #expect(form.node("main/age_group")?.line == lineOf("<bind nodeset=\"/data/main/age_group\"", in: xml))
        #expect(form.node("meta/instanceID")?.line == lineOf("<bind nodeset=\"/data/meta/instanceID\"", in: xml))
        #expect(form.node("meta")?.line == lineOf("<meta>", in: xml))
        #expect(form.nodes.allSatisfy { $0.line > 1 })
    }

    // MARK: - household_roster (one language, repeats, itemset filters)

    @Test func rosterHasOneDefaultLanguageAndLiteralLabels() throws {
        let form = try FormFixtures.read("household_roster.xml")
        #expect(form.formID == "household_roster")
        #expect(form.version == "3")
        #expect(form.languages == ["default"])
        #expect(form.defaultLanguage == 0)
        let size = try #require(form.node("hh_size"))
        #expect(size.label == .plain("How many people usually live in this household?", languageCount: 1))
        #expect(size.constraintMessage == .plain("Between 1 and 30 people.", languageCount: 1))
        #expect(form.node("member/name")?.hint == .plain("First name only", languageCount: 1))
        #expect(form.node("member/sex")?.label == LocalizedText(translations: [
            [.literal(" Is "), .output(" ../name "), .literal(" male or female? ")]]))
    }

    @Test func rosterNodes() throws {
        let form = try FormFixtures.read("household_roster.xml")
        let expected: [(Kind, String)] = [
            (.selectOne, "district"), (.selectOne, "sector"), (.integer, "hh_size"), (.repeat, "member"),
            (.calculate, "member/member_no"), (.text, "member/name"), (.selectOne, "member/sex"),
            (.integer, "member/age"), (.selectOne, "member/relationship"), (.calculate, "member/eligible"),
            (.calculate, "selected_member"), (.note, "selected_note"), (.repeat, "visit"),
            (.date, "visit/visit_date"), (.selectOne, "visit/result"), (.group, "meta"),
            (.preloadUID, "meta/instanceID"),
        ]
        #expect(form.nodes.map(\.kind) == expected.map(\.0))
        #expect(form.nodes.map { $0.path.joined(separator: "/") } == expected.map(\.1))
        let member = try #require(form.index("member"))
        let visit = try #require(form.index("visit"))
        for node in form.nodes where node.path.first == "member" && node.path.count == 2 {
            #expect(node.parent == member)
        }
        #expect(form.node("visit/result")?.parent == visit)
        #expect(form.node("member")?.parent == nil)
    }

    @Test func rosterRepeats() throws {
        let form = try FormFixtures.read("household_roster.xml")
        let xml = try FormFixtures.text("household_roster.xml")
        let member = try #require(form.node("member"))
        #expect(member.repeatCount == " /data/hh_size ")
        #expect(member.repeatLimit == nil)
        #expect(member.label == .plain("Household member", languageCount: 1))  // from pyxform's wrapping group
        #expect(member.line == lineOf("<repeat nodeset=\"/data/member\"", in: xml))
        let visit = try #require(form.node("visit"))
        #expect(visit.repeatCount == nil)  // "add another"
        #expect(visit.repeatLimit == nil)
        #expect(visit.label == .plain("Visit", languageCount: 1))
        #expect(form.node("member/member_no")?.calculate == "position(..)")
        #expect(form.node("member/eligible")?.calculate
            == "if( ../sex  = 'female' and  ../age  >= 15 and  ../age  <= 49, 1, 0)")
        #expect(form.node("selected_member")?.calculate == "if( /data/hh_size  > 0, once(int(random() *  /data/hh_size ) + 1), '')")
        #expect(form.node("visit/visit_date")?.constraint == ". <= today()")
    }

    @Test func rosterCascadingSelectAndFilters() throws {
        let form = try FormFixtures.read("household_roster.xml")
        let district = try #require(form.node("district"))
        #expect(district.choiceFilter == nil)
        #expect(form.choiceLists[try #require(district.choiceList)] == ChoiceList(
            instanceID: "district", extraColumns: [], items: [
                .init(value: "gasabo", label: .plain("Gasabo", languageCount: 1)),
                .init(value: "huye", label: .plain("Huye", languageCount: 1)),
                .init(value: "musanze", label: .plain("Musanze", languageCount: 1)),
            ]))
        let sector = try #require(form.node("sector"))
        #expect(sector.choiceFilter == "district =  /data/district ")
        let sectors = form.choiceLists[try #require(sector.choiceList)]
        #expect(sectors.instanceID == "sector")
        #expect(sectors.extraColumns == ["district"])
        #expect(sectors.items.map(\.value) == ["kimironko", "remera", "ngoma", "tumba", "muhoza"])
        #expect(sectors.items.map(\.extra) == [["gasabo"], ["gasabo"], ["huye"], ["huye"], ["musanze"]])

        let relationship = try #require(form.node("member/relationship"))
        #expect(relationship.choiceFilter
            == "if( current()/../member_no  = 1, name = 'head', name != 'head' and min_age <=  current()/../age )")
        let relationships = form.choiceLists[try #require(relationship.choiceList)]
        #expect(relationships.extraColumns == ["min_age"])
        #expect(relationships.items.map(\.extra) == [["15"], ["15"], ["0"], ["30"], ["0"]])
        #expect(relationships.items[1].label == .plain("Wife or husband", languageCount: 1))
        #expect(form.choiceLists.count == 5)
    }

    @Test func rosterLineNumbers() throws {
        let form = try FormFixtures.read("household_roster.xml")
        let xml = try FormFixtures.text("household_roster.xml")
        #expect(form.node("sector")?.line == lineOf("<select1 ref=\"/data/sector\">", in: xml))
        #expect(form.node("member/relationship")?.line == lineOf("<select1 ref=\"/data/member/relationship\">", in: xml))
        #expect(form.node("member/member_no")?.line == lineOf("<bind nodeset=\"/data/member/member_no\"", in: xml))
        #expect(form.node("visit")?.line == lineOf("<repeat nodeset=\"/data/visit\">", in: xml))
    }

    // MARK: - large_500

    @Test func largeFormReadsAllFiveHundredQuestions() throws {
        let form = try FormFixtures.read("large_500.xml")
        #expect(form.formID == "large_500")
        #expect(form.languages == ["English (en)", "Kinyarwanda (rw)"])
        let sections = form.nodes.filter { ($0.kind == .group || $0.kind == .repeat) && $0.name != "meta" }
        #expect(sections.count == 25)
        let questions = form.nodes.filter { ![.group, .repeat, .preloadUID].contains($0.kind) }
        #expect(questions.count == 500)
        #expect(sections.filter(\.sensitive).map(\.name) == ["s005", "s010", "s015", "s020", "s025"])
        #expect(sections.filter { $0.notPrivate == .postpone }.map(\.name) == ["s010", "s020"])
        let repeats = form.nodes.filter { $0.kind == .repeat }
        #expect(repeats.map(\.name) == ["s003"])
        #expect(repeats.first?.repeatCount == " /data/s001/q0002 ")
        // inside the repeat pyxform writes relative references
        #expect(form.node("s003/q0042")?.relevant == " ../q0041  = 'yes'")
        #expect(form.node("s003/q0049")?.label?.flat(1) == " Icyitonderwa 49: igisubizo ni { ../q0048 }. ")
        #expect(form.choiceLists.map(\.instanceID) == ["yes_no", "often"])
    }

    // MARK: - all accepted fixtures

    @Test(arguments: ["dv_module.xml", "household_roster.xml", "large_500.xml"])
    func acceptedFixturesHaveNoDiagnostics(_ name: String) throws {
        #expect(XFormReader.diagnose(xml: try FormFixtures.data(name), sourceName: name) == [])
    }

    /// pyxform's default output is a single line; it reads to the same
    /// model, every line number 1.
    @Test(arguments: ["dv_module.xml", "household_roster.xml"])
    func collapsedOutputReadsTheSame(_ name: String) throws {
        let pretty = try FormFixtures.read(name)
        let text = try FormFixtures.text(name)
        // What pyxform writes without --pretty_print: no newline or
        // indentation between elements (whitespace inside a line, as in
        // mixed-content labels, stays).
        let collapsed = text.replacingOccurrences(of: #">[ \t]*\n\s*<"#, with: "><", options: .regularExpression)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!collapsed.contains("\n"))
        let form = try XFormReader.read(xml: Data(collapsed.utf8), sourceName: name)
        #expect(form.nodes.allSatisfy { $0.line == 1 })
        var relined = form
        for index in relined.nodes.indices { relined.nodes[index].line = pretty.nodes[index].line }
        #expect(relined == pretty)
    }
}
