import Foundation
import HavenHost
import Testing

/// The XForm fixtures (`Tests/Fixtures/forms`, rebuilt by Tools/regenerate-fixtures).
enum FormFixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("forms")

    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(name))
    }

    static func text(_ name: String) throws -> String {
        String(decoding: try data(name), as: UTF8.self)
    }

    static func read(_ name: String) throws -> FormModel {
        try XFormReader.read(xml: data(name), sourceName: name)
    }

    /// The error reading `name` throws (nil, and a test failure, when it reads).
    static func refusal(_ name: String) throws -> FormError? {
        let data = try data(name)
        do {
            _ = try XFormReader.read(xml: data, sourceName: name)
            Issue.record("\(name) was accepted")
            return nil
        } catch {
            return error
        }
    }
}

/// 1-based line of the first line of `text` containing `needle` (0 when none),
/// so line expectations follow the fixture rather than hard-coded numbers.
func lineOf(_ needle: String, in text: String) -> Int {
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
    where line.contains(needle) {
        return index + 1
    }
    return 0
}

extension FormModel {
    /// The node at `path` (components below the root joined with `/`).
    func node(_ path: String) -> FormNode? {
        nodes.first { $0.path.joined(separator: "/") == path }
    }

    func index(_ path: String) -> Int? {
        nodes.firstIndex { $0.path.joined(separator: "/") == path }
    }
}

extension LocalizedText {
    /// Text `i` with outputs written as `{expr}`.
    func flat(_ language: Int) -> String {
        translations[language].map { segment in
            switch segment {
            case .literal(let s): return s
            case .output(let e): return "{\(e)}"
            }
        }.joined()
    }
}

/// A small hand-written XForm in pyxform's shape (one element per line), for
/// the constructs the fixtures do not cover.
enum MiniForm {
    static func xml(instance: String, binds: String = "", body: String = "", model: String = "", itext: String = "",
                    head: String = "", rootAttributes: String = "") -> String {
        """
        <?xml version="1.0"?>
        <h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" \
        xmlns:jr="http://openrosa.org/javarosa" xmlns:odk="http://www.opendatakit.org/xforms" \
        xmlns:haven="urn:haven:xforms">
          <h:head>
            <h:title>Mini</h:title>\(head)
            <model odk:xforms-version="1.0.0">
        \(itext)
              <instance>
                <data id="mini" version="7"\(rootAttributes)>
        \(instance)
                  <meta>
                    <instanceID/>
                  </meta>
                </data>
              </instance>
        \(model)
        \(binds)
              <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
            </model>
          </h:head>
          <h:body>
        \(body)
          </h:body>
        </h:html>
        """
    }

    static func read(_ xml: String) throws(FormError) -> FormModel {
        try XFormReader.read(xml: Data(xml.utf8), sourceName: "mini.xml")
    }

    static func refusal(_ xml: String) -> FormError? {
        do {
            _ = try read(xml)
            Issue.record("the form was accepted")
            return nil
        } catch {
            return error
        }
    }
}
