import Foundation
import HavenHost
import Testing

/// Accepted constructs the fixtures do not exercise, in small hand-written forms.
@Suite struct XFormReaderConstructTests {
    /// A whole model compared field by field: the contract, end to end.
    @Test func smallFormReadsToTheExpectedModel() throws {
        let xml = MiniForm.xml(
            instance: """
            <g>
              <s>b</s>
            </g>
            <c/>
            """,
            binds: """
            <bind nodeset="/data/g" relevant="true()" haven:sensitive="true()"/>
            <bind nodeset="/data/g/s" type="string" required="true()" jr:requiredMsg="Pick one"/>
            <bind nodeset="/data/c" type="string" calculate="concat( /data/g/s , 'x')"/>
            """,
            body: """
            <group ref="/data/g">
              <label>Group</label>
              <select1 ref="/data/g/s">
                <label>Choose <output value=" /data/c "/></label>
                <hint>One only</hint>
                <item>
                  <label>Apple</label>
                  <value>a</value>
                </item>
                <item>
                  <label>Banana</label>
                  <value> b </value>
                </item>
              </select1>
            </group>
            """)
        let line = { (needle: String) in lineOf(needle, in: xml) }
        let expected = FormModel(
            formID: "mini", version: "7", title: "Mini", rootName: "data", languages: ["default"], defaultLanguage: 0,
            nodes: [
                FormNode(kind: .group, name: "g", parent: nil, path: ["g"], label: .plain("Group", languageCount: 1),
                         relevant: "true()", sensitive: true, notPrivate: .skip, line: line("<group ref")),
                FormNode(kind: .selectOne, name: "s", parent: 0, path: ["g", "s"],
                         label: LocalizedText(translations: [[.literal("Choose "), .output(" /data/c ")]]),
                         hint: .plain("One only", languageCount: 1),
                         requiredMessage: .plain("Pick one", languageCount: 1), required: "true()",
                         defaultValue: "b", choiceList: 0, line: line("<select1")),
                FormNode(kind: .calculate, name: "c", parent: nil, path: ["c"], calculate: "concat( /data/g/s , 'x')",
                         line: line(#"<bind nodeset="/data/c""#)),
                FormNode(kind: .group, name: "meta", parent: nil, path: ["meta"], line: line("<meta>")),
                FormNode(kind: .preloadUID, name: "instanceID", parent: 3, path: ["meta", "instanceID"],
                         readonly: "true()", line: line(#"jr:preload="uid""#)),
            ],
            choiceLists: [
                ChoiceList(instanceID: nil, extraColumns: [], items: [
                    .init(value: "a", label: .plain("Apple", languageCount: 1)),
                    .init(value: "b", label: .plain("Banana", languageCount: 1)),
                ]),
            ])
        #expect(try MiniForm.read(xml) == expected)
    }

    @Test func translationsFallBackToTheDefaultLanguage() throws {
        let xml = MiniForm.xml(
            instance: "<q/>", binds: #"<bind nodeset="/data/q" type="string" jr:constraintMsg="jr:itext('m')" constraint=". != ''"/>"#,
            body: #"<input ref="/data/q"><label ref="jr:itext('q')"/><hint ref="jr:itext(&quot;h&quot;)"/></input>"#,
            itext: """
            <itext>
              <translation lang="French (fr)"><text id="q"><value>Nom</value></text></translation>
              <translation lang="English (en)" default="true()">
                <text id="q"><value>Name</value><value form="markdown">Name</value></text>
                <text id="h"><value>Given name</value></text>
                <text id="m"><value>Required</value></text>
              </translation>
              <translation lang="Kinyarwanda (rw)"><text id="q"><value>Izina</value></text></translation>
            </itext>
            """)
        let form = try MiniForm.read(xml)
        #expect(form.languages == ["French (fr)", "English (en)", "Kinyarwanda (rw)"])
        #expect(form.defaultLanguage == 1)
        let q = try #require(form.node("q"))
        #expect(q.label == LocalizedText(translations: [[.literal("Nom")], [.literal("Name")], [.literal("Izina")]]))
        #expect(q.hint == LocalizedText(translations: Array(repeating: [.literal("Given name")], count: 3)))
        #expect(q.constraintMessage == LocalizedText(translations: Array(repeating: [.literal("Required")], count: 3)))
    }

    @Test func withoutADefaultMarkTheFirstLanguageIsTheDefault() throws {
        let xml = MiniForm.xml(
            instance: "<q/>", binds: #"<bind nodeset="/data/q" type="string"/>"#,
            body: #"<input ref="/data/q"><label ref="jr:itext('q')"/></input>"#,
            itext: """
            <itext>
              <translation lang="b"><text id="q"><value>B</value></text></translation>
              <translation lang="a"><text id="q"><value>A</value></text></translation>
            </itext>
            """)
        let form = try MiniForm.read(xml)
        #expect(form.languages == ["b", "a"])
        #expect(form.defaultLanguage == 0)
    }

    @Test func constantRepeatCountsBecomeLimits() throws {
        // pyxform writes repeat_count = 3 as a calculate sibling and a relative jr:count
        let xml = MiniForm.xml(
            instance: """
            <outer jr:template="">
              <kids_count/>
              <kids jr:template=""><k/></kids>
            </outer>
            <fixed jr:template=""><f/></fixed>
            """,
            binds: """
            <bind nodeset="/data/outer/kids_count" type="string" readonly="true()" calculate="3"/>
            <bind nodeset="/data/outer/kids/k" type="string"/>
            <bind nodeset="/data/fixed/f" type="string"/>
            """,
            body: """
            <group ref="/data/outer"><label>Outer</label>
              <repeat nodeset="/data/outer">
                <group ref="/data/outer/kids"><label>Kids</label>
                  <repeat nodeset="/data/outer/kids" jr:count=" ../kids_count ">
                    <input ref="/data/outer/kids/k"><label>K</label></input>
                  </repeat>
                </group>
              </repeat>
            </group>
            <repeat nodeset="/data/fixed" jr:count="4" jr:noAddRemove="true()">
              <label>Fixed</label>
              <input ref="f"><label>F</label></input>
            </repeat>
            """)
        let form = try MiniForm.read(xml)
        let kids = try #require(form.node("outer/kids"))
        #expect(kids.kind == .repeat)
        #expect(kids.repeatCount == " ../kids_count ")
        #expect(kids.repeatLimit == 3)
        #expect(kids.parent == form.index("outer"))
        #expect(form.node("outer")?.repeatCount == nil)
        let fixed = try #require(form.node("fixed"))
        #expect(fixed.repeatCount == "4")
        #expect(fixed.repeatLimit == 4)
        #expect(fixed.label == .plain("Fixed", languageCount: 1))  // a repeat's own label
        #expect(form.node("fixed/f")?.kind == .text)  // relative ref resolved against the repeat
    }

    @Test func readonlyInputs() throws {
        let xml = MiniForm.xml(
            instance: "<n/><shown/><kept>k</kept><number/>",
            binds: """
            <bind nodeset="/data/n" readonly="true()" type="string"/>
            <bind nodeset="/data/shown" readonly="true()" type="string" calculate="'x'"/>
            <bind nodeset="/data/kept" readonly="true()" type="string"/>
            <bind nodeset="/data/number" readonly="true()" type="int" calculate="2"/>
            """,
            body: """
            <input ref="/data/n"><label>Note</label></input>
            <input ref="/data/shown"><label>Shown</label></input>
            <input ref="/data/kept"><label>Kept</label></input>
            <input ref="/data/number"><label>Number</label></input>
            """)
        let form = try MiniForm.read(xml)
        #expect(form.nodes.prefix(4).map(\.kind) == [.note, .text, .text, .integer])
        #expect(form.node("shown")?.calculate == "'x'")
        #expect(form.node("number")?.calculate == "2")
    }

    @Test func typesAndDecimal() throws {
        let xml = MiniForm.xml(
            instance: "<a/><b/><c/><d/><e/>",
            binds: """
            <bind nodeset="/data/a" type="xsd:string"/>
            <bind nodeset="/data/b" type="decimal"/>
            <bind nodeset="/data/c" type="integer"/>
            <bind nodeset="/data/e" type="select"/>
            """,
            body: """
            <input ref="/data/a"><label>A</label></input>
            <input ref="/data/b"><label>B</label></input>
            <input ref="/data/c"><label>C</label></input>
            <input ref="/data/d"><label>D (no bind: a string)</label></input>
            <select ref="/data/e"><label>E</label><item><label>X</label><value>x</value></item></select>
            """)
        let form = try MiniForm.read(xml)
        #expect(form.nodes.prefix(5).map(\.kind) == [.text, .decimal, .integer, .text, .selectMultiple])
    }

    @Test func displayAppearancesAreAccepted() throws {
        for appearance in ["minimal", "horizontal-compact", "columns-3", "w2", "quick", "likert", "no-calendar",
                           "field-list", "table-list", "minimal w3", "columns-pack", "autocomplete"] {
            let xml = MiniForm.xml(
                instance: "<s/>", binds: #"<bind nodeset="/data/s" type="string"/>"#,
                body: """
                <select1 ref="/data/s" appearance="\(appearance)"><label>S</label>
                <item><label>A</label><value>a</value></item></select1>
                """)
            #expect(throws: Never.self, "\(appearance)") { try MiniForm.read(xml) }
        }
        #expect(XFormReader.displayAppearances.contains("minimal"))
        #expect(!XFormReader.displayAppearances.contains("map"))
    }

    @Test func anotherPrefixForTheHavenNamespace() throws {
        let xml = MiniForm.xml(
            instance: "<g><q/></g>",
            binds: """
            <bind xmlns:hv="urn:haven:xforms" nodeset="/data/g" hv:sensitive="true()" hv:not-private="skip"/>
            <bind nodeset="/data/g/q" type="string"/>
            """,
            body: #"<group ref="/data/g"><input ref="/data/g/q"><label>Q</label></input></group>"#)
        let form = try MiniForm.read(xml)
        #expect(form.node("g")?.sensitive == true)
        #expect(form.node("g")?.notPrivate == .skip)
    }

    /// `and`, `or`, `div`, `mod` after an operand are operators, not calls.
    @Test func operatorsBeforeParenthesesAreNotFunctions() throws {
        let xml = MiniForm.xml(
            instance: "<a/><b/>",
            binds: """
            <bind nodeset="/data/a" type="int"/>
            <bind nodeset="/data/b" type="int" relevant=" /data/a  = 1 and ( /data/a  div (2) > 0 or ( /data/a  mod (3)) = 1)" \
            constraint="jr:choice-name( /data/a , ' /data/a ') != '' and string-length(.) &lt; 3"/>
            """,
            body: #"<input ref="/data/a"><label>A</label></input><input ref="/data/b"><label>B</label></input>"#)
        let form = try MiniForm.read(xml)
        #expect(form.node("b")?.relevant == " /data/a  = 1 and ( /data/a  div (2) > 0 or ( /data/a  mod (3)) = 1)")
        #expect(form.node("b")?.constraint == "jr:choice-name( /data/a , ' /data/a ') != '' and string-length(.) < 3")
    }

    @Test func functionNamesInsideStringsAreText() throws {
        let xml = MiniForm.xml(
            instance: "<a/>",
            binds: #"<bind nodeset="/data/a" type="string" constraint="regex(., 'pulldata([a-z]+)[0-9]')"/>"#,
            body: #"<input ref="/data/a"><label>A</label></input>"#)
        #expect(try MiniForm.read(xml).node("a")?.constraint == "regex(., 'pulldata([a-z]+)[0-9]')")
    }

    @Test func cdataAndEntitiesInLabels() throws {
        let xml = MiniForm.xml(
            instance: "<a/>", binds: #"<bind nodeset="/data/a" type="string"/>"#,
            body: #"<input ref="/data/a"><label>Tom &amp; Jerry &lt;3 <![CDATA[<b>]]></label></input>"#)
        #expect(try MiniForm.read(xml).node("a")?.label == .plain("Tom & Jerry <3 <b>", languageCount: 1))
    }

    @Test func supportedFunctionsMatchTheInstrumentFormat() {
        // Docs/instrument-format.md §3 function table, plus the opcodes of their own
        let table: Set<String> = ["if", "selected", "count-selected", "string-length", "concat", "substr", "regex",
                                  "coalesce", "int", "number", "string", "round", "today", "random", "boolean",
                                  "true", "false"]
        #expect(table.isSubset(of: XFormReader.supportedFunctions))
        #expect(XFormReader.supportedFunctions.subtracting(table)
            == ["not", "count", "position", "once", "jr:choice-name"])
    }
}
