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

    /// corelibs XMLParser trapped in _NSXMLParserStartElementNs on an
    /// element name that is not UTF-8: the importer now refuses non-UTF-8
    /// bytes before the parser sees them.
    @Test func xformInputsAreRefusedWithATypedError() throws {
        let inputs = try Self.inputs("xform")
        #expect(!inputs.isEmpty)
        for input in inputs {
            let error = #expect(throws: FormError.self, "\(input.name)") {
                _ = try FormCompiler.compile(xml: Data(input.bytes), sourceName: input.name,
                                             limits: CompileLimits(repeatCapacity: 8))
            }
            #expect(error?.message.contains("UTF-8") == true, "\(input.name): \(String(describing: error))")
        }
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

    /// Other bytes that are not UTF-8 are refused the same way and say where.
    @Test func nonUTF8XFormSaysWhichLine() throws {
        let xml = Array("<?xml version=\"1.0\"?>\n<h:html>\n<a\u{FF}/>".utf8) + [0xC3, 0x28]
        let error = #expect(throws: FormError.self) {
            _ = try FormCompiler.compile(xml: Data(xml), sourceName: "bad.xml", limits: CompileLimits(repeatCapacity: 8))
        }
        #expect(error?.line == 3)
    }
}
