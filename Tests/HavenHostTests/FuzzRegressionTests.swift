import Foundation
import HavenCore
@testable import HavenHost
import Testing

/// Replays every input the fuzzers once crashed on (Tools/fuzzing/regressions/
/// <target>/) through the same decoder the target drives, without libFuzzer:
/// `swift test` catches a regression. Each input must now be refused with a
/// typed error (or accepted, where the target allows it) — a crash fails
/// the whole test run, which is the point.
@Suite struct FuzzRegressionTests {
    static let regressions = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tools/fuzzing/regressions")

    static func inputs(_ target: String) throws -> [(name: String, bytes: [UInt8])] {
        let dir = regressions.appendingPathComponent(target)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        return try names.map { ($0, [UInt8](try Data(contentsOf: dir.appendingPathComponent($0)))) }
    }

    /// What each kept XForm input must now give: the construct of its FormError.
    /// - invalid-utf8-element-name: corelibs XMLParser trapped in
    ///   _NSXMLParserStartElementNs on a non-UTF-8 element name; the importer
    ///   refuses non-UTF-8 bytes before the parser sees them.
    /// - default-not-a-valid-answer: a select default naming no choice
    ///   compiled, and the core refused the instrument (`badDefault`); the
    ///   compiler now decodes its output with the core's reader.
    /// - processing-instruction-without-data: corelibs XMLParser called
    ///   strlen on a null pointer for `<?target?>`; processing instructions
    ///   other than the XML declaration are refused before parsing.
    static let xformExpectations = ["invalid-utf8-element-name.xml": "XML", "default-not-a-valid-answer.xml": "default value",
                                    "processing-instruction-without-data.xml": "<?…?>"]

    @Test func xformInputsAreRefusedWithATypedError() throws {
        let inputs = try Self.inputs("xform")
        #expect(Set(inputs.map(\.name)) == Set(Self.xformExpectations.keys))
        for input in inputs {
            let error = #expect(throws: FormError.self, "\(input.name)") {
                _ = try FormCompiler.compile(xml: Data(input.bytes), sourceName: input.name,
                                             limits: CompileLimits(repeatCapacity: 8))
            }
            #expect(error?.construct == Self.xformExpectations[input.name], "\(input.name): \(String(describing: error))")
        }
    }

    /// A default that is not a valid answer of its question's type is
    /// refused at compile time, naming the question.
    @Test func invalidDefaultsNameTheQuestion() throws {
        let fixture = Self.regressions.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tests/Fixtures/forms/decoy_savings.xml")
        let xml = try String(contentsOf: fixture, encoding: .utf8)
        for (from, to, question) in [("<members>5</members>", "<members>5x</members>", "/data/members"),
                                     ("<saves>yes</saves>", "<saves>maybe</saves>", "/data/saves")] {
            #expect(xml.contains(from))
            let error = #expect(throws: FormError.self) {
                _ = try FormCompiler.compile(xml: Data(xml.replacingOccurrences(of: from, with: to).utf8),
                                             sourceName: "decoy.xml", limits: CompileLimits(repeatCapacity: 8))
            }
            #expect(error?.construct == "default value")
            #expect(error?.question == question)
        }
        // Its valid defaults still compile.
        _ = try FormCompiler.compile(xml: Data(xml.utf8), sourceName: "decoy.xml", limits: CompileLimits(repeatCapacity: 8))
    }

    /// A device listed a record of almost 4 GiB and the client reserved
    /// that much before reading a byte: the reservation is now capped, and
    /// the session (as the link-client target runs it) ends in a typed error.
    @Test func linkClientInputsEndInATypedError() throws {
        let inputs = try Self.inputs("link-client")
        #expect(!inputs.isEmpty)
        for input in inputs {
            var stream = Array(input.bytes.dropFirst())
            if input.bytes.first.map({ $0 & 1 == 1 }) ?? false { Self.reseal(&stream) }
            let client = LinkClient(transport: ScriptedTransport(stream), timeoutMilliseconds: 0)
            #expect(throws: LinkClientError.self, "\(input.name)") {
                _ = try client.identify()
                let (records, _) = try client.listRecords()
                for record in records.prefix(3) where !record.corrupt { _ = try client.fetchRecord(record, window: 2) }
                _ = try client.acknowledge(records.prefix(4).map(\.number))
            }
        }
        #expect(LinkClient.reservation(UInt32.max) == 1 << 20)
        #expect(LinkClient.reservation(300) == 300)
    }

    /// Tools/fuzzing/support/FuzzSuite.swift `fuzzResealFrames`: every "HL"
    /// frame gets its length clamped and its check byte and CRC recomputed.
    static func reseal(_ bytes: inout [UInt8]) {
        let crc = CRC32Table()
        var i = 0
        bytes.withUnsafeMutableBytes { b in
            while i + LinkFrame.headerSize <= b.count {
                guard b[i] == LinkFrame.magic0, b[i + 1] == LinkFrame.magic1 else { i += 1; continue }
                let announced = Int(b[i + 8]) | Int(b[i + 9]) << 8 | Int(b[i + 10]) << 16 | Int(b[i + 11]) << 24
                let length = min(announced, LinkFrame.maxPayload, b.count - i - LinkFrame.headerSize)
                let header = FrameHeader(version: b[i + 2], type: b[i + 3], seq: UInt16(b[i + 4]) | UInt16(b[i + 5]) << 8,
                                         flags: b[i + 6], length: UInt32(length))
                i += FrameCodec.seal(header, frame: UnsafeMutableRawBufferPointer(rebasing: b[i..<(i + LinkFrame.headerSize + length)]), crc: crc)
            }
        }
    }

    /// Processing instructions are refused wherever they are, but the XML
    /// declaration and `<?` inside comments and CDATA are not.
    @Test func processingInstructionsAreRefusedButNotTheDeclaration() throws {
        let fixture = Self.regressions.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tests/Fixtures/forms/decoy_savings.xml")
        let xml = try String(contentsOf: fixture, encoding: .utf8)
        #expect(xml.hasPrefix("<?xml "))
        let limits = CompileLimits(repeatCapacity: 8)
        _ = try FormCompiler.compile(xml: Data(xml.replacingOccurrences(of: "<h:head>", with: "<h:head><!-- a <?pi?> --><![CDATA[<?x?>]]>").utf8),
                                     sourceName: "ok.xml", limits: limits)
        for pi in ["<?target?>", "<?haven:sensitive data?>", "<?xml-stylesheet href=\"a\"?>"] {
            let error = #expect(throws: FormError.self, "\(pi)") {
                _ = try FormCompiler.compile(xml: Data(xml.replacingOccurrences(of: "<h:head>", with: "<h:head>\n" + pi).utf8),
                                             sourceName: "pi.xml", limits: limits)
            }
            #expect(error?.construct == "<?…?>")
        }
    }

    /// Other bytes that are not UTF-8 are refused the same way and say where.
    @Test func nonUTF8XFormSaysWhichLine() throws {
        let xml = Array("<?xml version=\"1.0\"?>\n<h:html>\n<a\u{FF}/>".utf8) + [0xC3, 0x28]
        let error = #expect(throws: FormError.self) {
            _ = try FormCompiler.compile(xml: Data(xml), sourceName: "bad.xml", limits: CompileLimits(repeatCapacity: 8))
        }
        #expect(error?.line == 3)
    }
}
