import Foundation
import HavenCore
import HavenHost
import Testing

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures/forms")

private func compile(_ name: String, repeatCapacity: Int = 50) throws -> [UInt8] {
    let xml = try Data(contentsOf: fixtures.appendingPathComponent(name + ".xml"))
    return try FormCompiler.compile(xml: xml, sourceName: name + ".xml",
                                    limits: CompileLimits(repeatCapacity: repeatCapacity))
}

private func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
    UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
}

@Suite struct InstrumentEncoderTests {
    @Test(arguments: ["dv_module", "household_roster", "large_500"])
    func acceptedFormsCompileToAFramedInstrument(_ name: String) throws {
        let bytes = try compile(name)
        #expect(Array(bytes[0..<8]) == Array("HAVNINST".utf8))
        #expect(bytes[8] == 1 && bytes[9] == 0)
        #expect(u32(bytes, 12) == UInt32(bytes.count))
        #expect(u32(bytes, 16) == bytes[32...].withUnsafeBytes { CRC32.checksum($0) })
        // Seven sections, inside the file, not overlapping.
        let count = Int(bytes[10]) | Int(bytes[11]) << 8
        #expect(count == 7)
        var ranges: [Range<Int>] = []
        for i in 0..<count {
            let entry = 32 + 12 * i
            let kind = Int(bytes[entry]) | Int(bytes[entry + 1]) << 8
            #expect((1...7).contains(kind))
            let offset = Int(u32(bytes, entry + 4)), length = Int(u32(bytes, entry + 8))
            #expect(offset >= 32 + 12 * count && offset + length <= bytes.count)
            ranges.append(offset..<(offset + length))
        }
        for (i, a) in ranges.enumerated() { for b in ranges[(i + 1)...] { #expect(!a.overlaps(b)) } }
        // The same form always compiles to the same bytes.
        #expect(try compile(name) == bytes)
    }

    @Test(arguments: [("refused_pulldata", "function 'pulldata'"), ("refused_geopoint", "question type 'geopoint'"),
                      ("refused_indexed_repeat", "function 'indexed-repeat'")])
    func refusedFormsNameTheConstruct(_ name: String, _ construct: String) throws {
        #expect {
            try compile(name)
        } throws: { error in
            guard let e = error as? FormError else { return false }
            return e.construct == construct && e.line > 1 && e.question != nil
        }
    }

    @Test func repeatCapacityComesFromTheBoard() throws {
        // A smaller board gives a different (smaller-capacity) instrument.
        #expect(try compile("household_roster", repeatCapacity: 5) != (try compile("household_roster", repeatCapacity: 50)))
    }
}

@Suite struct CompiledInstrumentCorruptionTests {
    /// A real compiled form, cut at every length and with bytes flipped, is
    /// refused by the device's decoder with a typed error, never a crash.
    @Test func truncatedAndCorruptedInstrumentsAreRefused() throws {
        let xml = try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/forms/dv_module.xml"))
        let bytes = try FormCompiler.compile(xml: xml, sourceName: "dv_module.xml", limits: CompileLimits(repeatCapacity: 50))
        _ = try Instrument(bytes: bytes)
        var refused = 0
        for length in 0..<bytes.count {
            do { _ = try Instrument(bytes: Array(bytes[0..<length])); Issue.record("accepted a \(length)-byte prefix") }
            catch { refused += 1 }
        }
        #expect(refused == bytes.count)
        var rng = SplitMix64(seed: 3)
        for _ in 0..<2000 {
            var copy = bytes
            copy[rng.next(below: copy.count)] ^= UInt8(1 + rng.next(below: 255))
            #expect(throws: InstrumentError.self) { try Instrument(bytes: copy) }
        }
    }
}
