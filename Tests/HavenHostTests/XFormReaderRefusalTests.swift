import Foundation
import HavenHost
import Testing

/// One construct the reader must refuse: the form, and what the error names.
struct Refusal: Sendable, CustomTestStringConvertible {
    let name: String
    let xml: String
    let construct: String
    let question: String?
    /// A piece of the XML on the line the error must point at.
    let lineMarker: String

    var testDescription: String { name }

    init(_ name: String, construct: String, question: String?, at lineMarker: String, instance: String,
         binds: String = "", body: String = "", model: String = "", itext: String = "") {
        self.name = name
        self.xml = MiniForm.xml(instance: instance, binds: binds, body: body, model: model, itext: itext)
        self.construct = construct
        self.question = question
        self.lineMarker = lineMarker
    }
}

@Suite struct XFormReaderRefusalTests {
    // MARK: - Refused fixtures

    @Test func pulldataIsRefused() throws {
        let error = try #require(try FormFixtures.refusal("refused_pulldata.xml"))
        let xml = try FormFixtures.text("refused_pulldata.xml")
        #expect(error.construct == "function 'pulldata'")
        #expect(error.question == "/data/price")
        #expect(error.line == lineOf("<bind nodeset=\"/data/price\"", in: xml))
        #expect(error.message.contains("pulldata('fruits', 'price', 'name',  /data/fruit )"))
        #expect(error.description.hasPrefix("line \(error.line): question /data/price, function 'pulldata': "))
        // diagnose also names the CSV instance pulldata() reads from
        let all = XFormReader.diagnose(xml: try FormFixtures.data("refused_pulldata.xml"), sourceName: "f")
        #expect(all.map(\.construct) == ["function 'pulldata'", "external instance 'fruits'"])
    }

    @Test func geopointIsRefused() throws {
        let error = try #require(try FormFixtures.refusal("refused_geopoint.xml"))
        let xml = try FormFixtures.text("refused_geopoint.xml")
        #expect(error.construct == "question type 'geopoint'")
        #expect(error.question == "/data/location")
        #expect(error.line == lineOf("<input ref=\"/data/location\">", in: xml))
    }

    @Test func monthYearAppearanceIsRefused() throws {
        let error = try #require(try FormFixtures.refusal("refused_appearance.xml"))
        let xml = try FormFixtures.text("refused_appearance.xml")
        #expect(error.construct == "appearance 'month-year'")
        #expect(error.question == "/data/married_since")
        #expect(error.line == lineOf("appearance=\"month-year\"", in: xml))
    }

    @Test func indexedRepeatIsRefused() throws {
        let error = try #require(try FormFixtures.refusal("refused_indexed_repeat.xml"))
        let xml = try FormFixtures.text("refused_indexed_repeat.xml")
        #expect(error.construct == "function 'indexed-repeat'")
        #expect(error.question == "/data/first_child")
        #expect(error.line == lineOf("<bind nodeset=\"/data/first_child\"", in: xml))
    }

    // MARK: - Constructs refused in hand-written forms

    static let refusals: [Refusal] = [
        Refusal("dynamic default (setvalue)", construct: "<setvalue>", question: "/data/d", at: "<setvalue",
                instance: "<d/>", binds: #"<bind nodeset="/data/d" type="date"/>"#,
                body: #"<input ref="/data/d"><label>D</label></input>"#,
                model: #"<setvalue ref="/data/d" event="odk-instance-first-load" value="today()"/>"#),
        Refusal("setvalue in a repeat body", construct: "<setvalue>", question: "/data/r/d", at: "<setvalue",
                instance: #"<r jr:template=""><d/></r>"#, binds: #"<bind nodeset="/data/r/d" type="date"/>"#,
                body: """
                <group ref="/data/r"><label>R</label>
                <repeat nodeset="/data/r">
                <input ref="/data/r/d"><label>D</label></input>
                <setvalue ref="/data/r/d" event="odk-new-repeat" value="today()"/>
                </repeat></group>
                """),
        Refusal("acknowledge (trigger)", construct: "question type 'acknowledge'", question: "/data/ok",
                at: "<trigger", instance: "<ok/>", binds: #"<bind nodeset="/data/ok" type="string"/>"#,
                body: #"<trigger ref="/data/ok"><label>OK</label></trigger>"#),
        Refusal("image (upload)", construct: "question type 'image'", question: "/data/photo", at: "<upload",
                instance: "<photo/>", binds: #"<bind nodeset="/data/photo" type="binary"/>"#,
                body: #"<upload ref="/data/photo" mediatype="image/*"><label>Photo</label></upload>"#),
        Refusal("range", construct: "question type 'range'", question: "/data/pain", at: "<range",
                instance: "<pain/>", binds: #"<bind nodeset="/data/pain" type="int"/>"#,
                body: #"<range ref="/data/pain" start="0" end="10" step="1"><label>Pain</label></range>"#),
        Refusal("rank", construct: "question type 'rank'", question: "/data/order", at: "<odk:rank",
                instance: "<order/>", binds: #"<bind nodeset="/data/order" type="odk:rank"/>"#,
                body: #"<odk:rank ref="/data/order"><label>Order</label></odk:rank>"#),
        Refusal("time", construct: "question type 'time'", question: "/data/t", at: "<input",
                instance: "<t/>", binds: #"<bind nodeset="/data/t" type="time"/>"#,
                body: #"<input ref="/data/t"><label>T</label></input>"#),
        Refusal("datetime", construct: "question type 'datetime'", question: "/data/t", at: "<input",
                instance: "<t/>", binds: #"<bind nodeset="/data/t" type="dateTime"/>"#,
                body: #"<input ref="/data/t"><label>T</label></input>"#),
        Refusal("start timestamp", construct: #"jr:preload="timestamp" jr:preloadParams="start""#,
                question: "/data/start", at: #"<bind nodeset="/data/start""#, instance: "<start/>",
                binds: #"<bind nodeset="/data/start" jr:preload="timestamp" type="dateTime" jr:preloadParams="start"/>"#),
        Refusal("device id", construct: #"jr:preload="property" jr:preloadParams="deviceid""#,
                question: "/data/deviceid", at: #"<bind nodeset="/data/deviceid""#, instance: "<deviceid/>",
                binds: #"<bind nodeset="/data/deviceid" jr:preload="property" type="string" jr:preloadParams="deviceid"/>"#),
        Refusal("hidden (no control, no calculation)", construct: "question without a control",
                question: "/data/h", at: #"<bind nodeset="/data/h""#, instance: "<h/>",
                binds: #"<bind nodeset="/data/h" type="string"/>"#),
        Refusal("guidance hint", construct: "guidance_hint", question: "/data/q", at: #"form="guidance""#,
                instance: "<q/>", binds: #"<bind nodeset="/data/q" type="string"/>"#,
                body: #"<input ref="/data/q"><label>Q</label><hint ref="jr:itext('/data/q:hint')"/></input>"#,
                itext: """
                <itext><translation lang="default" default="true()"><text id="/data/q:hint">
                <value>Ask gently</value>
                <value form="guidance">Read slowly</value>
                </text></translation></itext>
                """),
        Refusal("image in a label", construct: "media form 'image'", question: "/data/q", at: #"form="image""#,
                instance: "<q/>", binds: #"<bind nodeset="/data/q" type="string"/>"#,
                body: #"<input ref="/data/q"><label ref="jr:itext('/data/q:label')"/></input>"#,
                itext: """
                <itext><translation lang="English (en)"><text id="/data/q:label">
                <value>Q</value>
                <value form="image">jr://images/q.png</value>
                </text></translation></itext>
                """),
        Refusal("misspelt haven attribute", construct: "bind attribute 'haven:sensitve'", question: "/data/g",
                at: #"<bind nodeset="/data/g""#, instance: "<g><q/></g>",
                binds: #"<bind nodeset="/data/g" haven:sensitve="true()"/><bind nodeset="/data/q" type="string"/>"#
                    .replacingOccurrences(of: "/data/q", with: "/data/g/q"),
                body: #"<group ref="/data/g"><input ref="/data/g/q"><label>Q</label></input></group>"#),
        Refusal("unknown bind attribute", construct: "bind attribute 'odk:length'", question: "/data/q",
                at: #"<bind nodeset="/data/q""#, instance: "<q/>",
                binds: #"<bind nodeset="/data/q" type="string" odk:length="5"/>"#,
                body: #"<input ref="/data/q"><label>Q</label></input>"#),
        Refusal("sensitive question", construct: "haven:sensitive", question: "/data/q",
                at: #"<bind nodeset="/data/q""#, instance: "<q/>",
                binds: #"<bind nodeset="/data/q" type="string" haven:sensitive="true()"/>"#,
                body: #"<input ref="/data/q"><label>Q</label></input>"#),
        Refusal("sensitivity depending on answers", construct: #"haven:sensitive=" /data/a  = 'yes'""#,
                question: "/data/g", at: #"<bind nodeset="/data/g""#, instance: "<a/><g><q/></g>",
                binds: """
                <bind nodeset="/data/a" type="string"/>
                <bind nodeset="/data/g" haven:sensitive=" /data/a  = 'yes'"/>
                <bind nodeset="/data/g/q" type="string"/>
                """,
                body: """
                <input ref="/data/a"><label>A</label></input>
                <group ref="/data/g"><input ref="/data/g/q"><label>Q</label></input></group>
                """),
        Refusal("not-private without sensitive", construct: "haven:not-private", question: "/data/g",
                at: #"<bind nodeset="/data/g""#, instance: "<g><q/></g>",
                binds: #"<bind nodeset="/data/g" haven:not-private="postpone"/><bind nodeset="/data/g/q" type="string"/>"#,
                body: #"<group ref="/data/g"><input ref="/data/g/q"><label>Q</label></input></group>"#),
        Refusal("unknown not-private action", construct: #"haven:not-private="later""#, question: "/data/g",
                at: #"<bind nodeset="/data/g""#, instance: "<g><q/></g>",
                binds: #"<bind nodeset="/data/g" haven:sensitive="true()" haven:not-private="later"/>"#
                    + #"<bind nodeset="/data/g/q" type="string"/>"#,
                body: #"<group ref="/data/g"><input ref="/data/g/q"><label>Q</label></input></group>"#),
        Refusal("choices from a CSV file", construct: "external instance 'villages'", question: "/data/v",
                at: "<itemset", instance: "<v/>", binds: #"<bind nodeset="/data/v" type="string"/>"#,
                body: """
                <select1 ref="/data/v"><label>Village</label>
                <itemset nodeset="instance('villages')/root/item"><value ref="name"/><label ref="label"/></itemset>
                </select1>
                """,
                model: #"<instance id="villages" src="jr://file-csv/villages.csv"/>"#),
        Refusal("instance() in a calculation", construct: "function 'instance'", question: "/data/c",
                at: #"<bind nodeset="/data/c""#, instance: "<c/>",
                binds: #"<bind nodeset="/data/c" type="string" calculate="instance('l')/root/item[name='a']/label"/>"#),
        Refusal("path predicate", construct: "path predicate '[…]'", question: "/data/c",
                at: #"<bind nodeset="/data/c""#, instance: "<r jr:template=\"\"><x/></r><c/>",
                binds: #"<bind nodeset="/data/r/x" type="int"/><bind nodeset="/data/c" type="string" calculate="count( /data/r [x > 15])"/>"#,
                body: #"<group ref="/data/r"><repeat nodeset="/data/r"><input ref="/data/r/x"><label>X</label></input></repeat></group>"#),
        Refusal("current() outside a filter", construct: "function 'current'", question: "/data/q",
                at: #"<bind nodeset="/data/q""#, instance: "<q/>",
                binds: #"<bind nodeset="/data/q" type="string" relevant="current()/../x = 1"/>"#,
                body: #"<input ref="/data/q"><label>Q</label></input>"#),
        Refusal("unknown function in a label output", construct: "function 'format-date'", question: "/data/n",
                at: "<output", instance: "<d/><n/>",
                binds: #"<bind nodeset="/data/d" type="date"/><bind nodeset="/data/n" readonly="true()" type="string"/>"#,
                body: """
                <input ref="/data/d"><label>D</label></input>
                <input ref="/data/n">
                <label> On <output value="format-date( /data/d , '%d')"/> </label>
                </input>
                """),
        Refusal("unknown function in a choice filter", construct: "function 'pulldata'", question: "/data/s",
                at: "<itemset", instance: "<s/>", binds: #"<bind nodeset="/data/s" type="string"/>"#,
                body: """
                <select1 ref="/data/s"><label>S</label>
                <itemset nodeset="instance('l')/root/item[pulldata('x', 'y', 'z', name) = 1]">
                <value ref="name"/><label ref="label"/></itemset>
                </select1>
                """,
                model: #"<instance id="l"><root><item><name>a</name><label>A</label></item></root></instance>"#),
        Refusal("randomized choices", construct: "function 'randomize'",
                question: "/data/s", at: "<itemset", instance: "<s/>", binds: #"<bind nodeset="/data/s" type="string"/>"#,
                body: """
                <select1 ref="/data/s"><label>S</label>
                <itemset nodeset="randomize(instance('l')/root/item)"><value ref="name"/><label ref="label"/></itemset>
                </select1>
                """,
                model: #"<instance id="l"><root><item><name>a</name><label>A</label></item></root></instance>"#),
        Refusal("unknown function in jr:count", construct: "function 'max'", question: "/data/r",
                at: "<repeat", instance: "<n/><r jr:template=\"\"><x/></r>",
                binds: #"<bind nodeset="/data/n" type="int"/><bind nodeset="/data/r/x" type="string"/>"#,
                body: """
                <input ref="/data/n"><label>N</label></input>
                <group ref="/data/r"><label>R</label>
                <repeat nodeset="/data/r" jr:count="max( /data/n , 1)">
                <input ref="/data/r/x"><label>X</label></input>
                </repeat></group>
                """),
        Refusal("fixed repeat instances", construct: "jr:noAddRemove", question: "/data/r", at: "<repeat",
                instance: "<r jr:template=\"\"><x/></r>", binds: #"<bind nodeset="/data/r/x" type="string"/>"#,
                body: """
                <group ref="/data/r"><label>R</label>
                <repeat nodeset="/data/r" jr:noAddRemove="true()">
                <input ref="/data/r/x"><label>X</label></input>
                </repeat></group>
                """),
        Refusal("map appearance", construct: "appearance 'map'", question: "/data/s", at: "<select1",
                instance: "<s/>", binds: #"<bind nodeset="/data/s" type="string"/>"#,
                body: """
                <select1 ref="/data/s" appearance="quick map"><label>S</label>
                <item><label>A</label><value>a</value></item>
                </select1>
                """),
        Refusal("search() appearance", construct: "appearance 'search('villages')'", question: "/data/s",
                at: "<select1", instance: "<s/>", binds: #"<bind nodeset="/data/s" type="string"/>"#,
                body: """
                <select1 ref="/data/s" appearance="search('villages')"><label>S</label>
                <item><label>A</label><value>a</value></item>
                </select1>
                """),
        Refusal("Ethiopian calendar", construct: "appearance 'ethiopian'", question: "/data/d", at: "<input",
                instance: "<d/>", binds: #"<bind nodeset="/data/d" type="date"/>"#,
                body: #"<input ref="/data/d" appearance="ethiopian"><label>D</label></input>"#),
        Refusal("submission settings", construct: "<submission>", question: nil, at: "<submission",
                instance: "<q/>", binds: #"<bind nodeset="/data/q" type="string"/>"#,
                body: #"<input ref="/data/q"><label>Q</label></input>"#,
                model: #"<submission action="https://example.org" method="post" base64RsaPublicKey="AAAA"/>"#),
        Refusal("bind for no node", construct: "<bind>", question: "/data/gone", at: #"<bind nodeset="/data/gone""#,
                instance: "<q/>",
                binds: #"<bind nodeset="/data/q" type="string"/><bind nodeset="/data/gone" type="string"/>"#
                    .replacingOccurrences(of: "/><bind", with: "/>\n<bind"),
                body: #"<input ref="/data/q"><label>Q</label></input>"#),
        Refusal("control for no node", construct: "<input>", question: "/data/gone", at: #"<input ref="/data/gone""#,
                instance: "<q/>", binds: #"<bind nodeset="/data/q" type="string"/>"#,
                body: """
                <input ref="/data/q"><label>Q</label></input>
                <input ref="/data/gone"><label>Gone</label></input>
                """),
        Refusal("two binds for one node", construct: "<bind>", question: "/data/q", at: "required",
                instance: "<q/>",
                binds: """
                <bind nodeset="/data/q" type="string"/>
                <bind nodeset="/data/q" required="true()"/>
                """,
                body: #"<input ref="/data/q"><label>Q</label></input>"#),
        Refusal("missing itext", construct: "jr:itext('/data/q:label')", question: "/data/q", at: "<label ref",
                instance: "<q/>", binds: #"<bind nodeset="/data/q" type="string"/>"#,
                body: """
                <input ref="/data/q">
                <label ref="jr:itext('/data/q:label')"/>
                </input>
                """,
                itext: #"<itext><translation lang="en"><text id="other"><value>x</value></text></translation></itext>"#),
        Refusal("markup in a label", construct: "<b> in <label>", question: "/data/q", at: "<b>",
                instance: "<q/>", binds: #"<bind nodeset="/data/q" type="string"/>"#,
                body: """
                <input ref="/data/q"><label>
                Very <b>bold</b></label></input>
                """),
        Refusal("help text", construct: "<help> in <input>", question: "/data/q", at: "<help>",
                instance: "<q/>", binds: #"<bind nodeset="/data/q" type="string"/>"#,
                body: """
                <input ref="/data/q"><label>Q</label>
                <help>More</help></input>
                """),
        Refusal("attribute on a body control", construct: "attribute 'autoplay' on <input>", question: "/data/q",
                at: "<input", instance: "<q/>", binds: #"<bind nodeset="/data/q" type="string"/>"#,
                body: #"<input ref="/data/q" autoplay="audio"><label>Q</label></input>"#),
        Refusal("group without ref", construct: "<group> without ref", question: nil, at: "<group>",
                instance: "<q/>", binds: #"<bind nodeset="/data/q" type="string"/>"#,
                body: """
                <group>
                <input ref="/data/q"><label>Q</label></input></group>
                """),
        Refusal("attribute on an instance node", construct: "instance attribute 'odk:x'", question: "/data/q",
                at: "<q odk:x", instance: #"<q odk:x="1"/>"#, binds: #"<bind nodeset="/data/q" type="string"/>"#,
                body: #"<input ref="/data/q"><label>Q</label></input>"#),
        Refusal("select with a number type", construct: "type 'int' on <select1>", question: "/data/s",
                at: #"<bind nodeset="/data/s""#, instance: "<s/>", binds: #"<bind nodeset="/data/s" type="int"/>"#,
                body: #"<select1 ref="/data/s"><label>S</label><item><label>A</label><value>1</value></item></select1>"#),
        Refusal("select without choices", construct: "<select1>", question: "/data/s", at: "<select1",
                instance: "<s/>", binds: #"<bind nodeset="/data/s" type="string"/>"#,
                body: #"<select1 ref="/data/s"><label>S</label></select1>"#),
        Refusal("itemset from a nested path", construct: "itemset nodeset \"instance('l')/root/group/item\"",
                question: "/data/s", at: "<itemset", instance: "<s/>", binds: #"<bind nodeset="/data/s" type="string"/>"#,
                body: """
                <select1 ref="/data/s"><label>S</label>
                <itemset nodeset="instance('l')/root/group/item"><value ref="name"/><label ref="label"/></itemset>
                </select1>
                """,
                model: #"<instance id="l"><root><item><name>a</name><label>A</label></item></root></instance>"#),
    ]

    @Test(arguments: refusals)
    func refused(_ case_: Refusal) throws {
        let error = try #require(MiniForm.refusal(case_.xml))
        #expect(error.construct == case_.construct, "\(error)")
        #expect(error.question == case_.question, "\(error)")
        #expect(error.line == lineOf(case_.lineMarker, in: case_.xml), "\(error)")
        #expect(!error.message.isEmpty)
        // diagnose agrees with read on the first problem
        #expect(XFormReader.diagnose(xml: Data(case_.xml.utf8), sourceName: "mini.xml").first == error)
    }

    /// diagnose reports every refused node; a refused group hides what is inside it.
    @Test func diagnoseListsEveryProblem() throws {
        let xml = MiniForm.xml(
            instance: "<a/><g><b/></g><c/>",
            binds: """
            <bind nodeset="/data/a" type="geopoint"/>
            <bind nodeset="/data/g" haven:sensitive="maybe"/>
            <bind nodeset="/data/g/b" type="string" calculate="pulldata('x')"/>
            <bind nodeset="/data/c" type="string" calculate="now()"/>
            """,
            body: #"<input ref="/data/a"><label>A</label></input><group ref="/data/g"><label>G</label></group>"#)
        let errors = XFormReader.diagnose(xml: Data(xml.utf8), sourceName: "mini.xml")
        #expect(errors.map(\.construct) == ["question type 'geopoint'", "haven:sensitive=\"maybe\"", "function 'now'"])
        #expect(errors.map(\.question) == ["/data/a", "/data/g", "/data/c"])
    }
}

/// Input that is not an XForm at all: always a `FormError`, never a crash.
@Suite struct XFormReaderMalformedTests {
    private func refusal(_ bytes: Data) -> FormError? {
        do {
            _ = try XFormReader.read(xml: bytes, sourceName: "broken.xml")
            return nil
        } catch {
            #expect(XFormReader.diagnose(xml: bytes, sourceName: "broken.xml").first == error)
            return error
        }
    }

    @Test func emptyInput() throws {
        let error = try #require(refusal(Data()))
        #expect(error.construct == "XML")
        #expect(error.message.contains("broken.xml is empty"))
    }

    @Test(arguments: ["hello, world", "{\"survey\": []}", "<", "<a", "<a></b>", "<a/><b/>", "\u{FEFF}", "  \n  "])
    func notXML(_ text: String) throws {
        let error = try #require(refusal(Data(text.utf8)))
        #expect(error.question == nil)
        #expect(error.line >= 1)
    }

    @Test func randomBytes() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let bytes = Data((0..<Int.random(in: 1...300, using: &generator)).map { _ in UInt8.random(in: 0...255) })
            #expect(refusal(bytes) != nil)
        }
    }

    @Test func wellFormedButNotAnXForm() throws {
        let notHTML = try #require(refusal(Data("<survey><q/></survey>".utf8)))
        #expect(notHTML.construct == "<survey>")
        let html = #"<h:html xmlns:h="http://www.w3.org/1999/xhtml""#
        let noHead = try #require(refusal(Data("\(html)><h:body/></h:html>".utf8)))
        #expect(noHead.construct == "<h:head>")
        let noModel = try #require(refusal(Data("\(html)><h:head><h:title>T</h:title></h:head><h:body/></h:html>".utf8)))
        #expect(noModel.construct == "<model>")
        #expect(noModel.message.contains("no <model>"))
        let wrongNamespace = try #require(refusal(Data("<h:html xmlns:h=\"urn:other\"><h:head/></h:html>".utf8)))
        #expect(wrongNamespace.construct == "<h:html>")
        let noInstance = try #require(refusal(Data("""
            \(html) xmlns="http://www.w3.org/2002/xforms"><h:head><model/></h:head><h:body/></h:html>
            """.utf8)))
        #expect(noInstance.construct == "<instance>")
        let noID = try #require(refusal(Data(MiniForm.xml(instance: "").replacingOccurrences(of: #" id="mini""#, with: "").utf8)))
        #expect(noID.construct == "<data> id")
    }

    @Test func undeclaredPrefix() throws {
        let xml = MiniForm.xml(instance: "<q/>", binds: #"<bind nodeset="/data/q" type="string" xx:y="1"/>"#)
        let error = try #require(refusal(Data(xml.utf8)))
        #expect(error.construct == "attribute 'xx:y'")
        #expect(error.line == lineOf("xx:y", in: xml))
    }

    @Test func documentTypeDeclarationsAreRefused() throws {
        let xml = """
            <?xml version="1.0"?>
            <!DOCTYPE h:html [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
            <h:html xmlns:h="http://www.w3.org/1999/xhtml">&b;</h:html>
            """
        let error = try #require(refusal(Data(xml.utf8)))
        #expect(error.construct == "<!DOCTYPE>")
        #expect(error.line == 2)
    }

    /// The reader walks the tree recursively: a hostile nesting depth is
    /// refused while parsing, not allowed to exhaust the stack.
    @Test func deepNestingIsRefused() throws {
        for depth in [250, 20_000] {
            let xml = MiniForm.xml(instance: String(repeating: "<g>", count: depth) + String(repeating: "</g>", count: depth))
            let error = try #require(refusal(Data(xml.utf8)))
            #expect(error.construct == "XML")
            #expect(error.message.contains("nested deeper than"))
        }
    }

    /// Every prefix of a real form is refused with a FormError (the parser
    /// must not hand back half a form).
    @Test func truncatedFormsAreRefused() throws {
        let data = try FormFixtures.data("dv_module.xml")
        var cut = 0
        while cut < data.count - 12 {  // the last bytes are "</h:html>\n"
            let error = try #require(refusal(data.prefix(cut)), "prefix \(cut)")
            #expect(error.line >= 1)
            cut += 61
        }
        let truncated = try #require(refusal(data.prefix(data.count / 2)))
        #expect(truncated.construct == "XML")
        #expect(truncated.message.contains("not well-formed"))
    }
}
