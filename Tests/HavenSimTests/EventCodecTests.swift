import Foundation
import HavenDevice
import Testing

/// The event reader and the JSON line writer in process: hostile lines get
/// typed refusals (never a crash), and whatever bytes a screen text holds,
/// the line written is valid JSON that reads back to the same text.
@Suite struct EventCodecTests {
    func read(_ line: String) -> Result<SimEvent, SimEventError> {
        let reader = SimEventReader()
        var bytes = Array(line.utf8)
        return bytes.withUnsafeMutableBytes { b in
            do throws(SimEventError) { return .success(try reader.read(UnsafeRawBufferPointer(b))) } catch {
                return .failure(error)
            }
        }
    }

    @Test func readsEveryFieldAndUnescapesStrings() throws {
        let reader = SimEventReader()
        let line = Array(#"{"ignored":{"a":[1,true,null,"x"]},"type":"answer","value":"a\"b\\c\u00e9\ud83d\ude00","down":false,"index":-3}"#.utf8)
        let e = try line.withUnsafeBytes { try reader.read($0) }
        #expect(e.kind == .answer)
        #expect(String(decoding: try #require(e.value), as: UTF8.self) == "a\"b\\cé😀")
        #expect(e.down == false)
        #expect(e.index == -3)
        reader.wipe()
        #expect(reader.scratch.bytes.allSatisfy { $0 == 0 })
    }

    @Test func needlesAreDecodedMasked() throws {
        let reader = SimEventReader()
        let line = Array(#"{"type":"debug-scan","needlesHex":["4142"]}"#.utf8)
        let e = try line.withUnsafeBytes { try reader.read($0) }
        #expect(e.maskedNeedles.count == 1)
        #expect(Array(e.maskedNeedles[0]) == [0x41 ^ SimEvent.needleMask, 0x42 ^ SimEvent.needleMask])
    }

    @Test func hostileLinesAreRefusedWithAReason() {
        let cases: [(String, SimEventError)] = [
            ("", .malformed(at: 0, what: "expected '{'")),
            ("{}", .missingType),
            (#"{"type":"fly"}"#, .unknownType),
            (#"{"type":"next"} x"#, .malformed(at: 16, what: "text after the object")),
            (#"{"type":"select","index":"2"}"#, .badField("index")),
            (#"{"type":"select","index":99999999999999999999}"#, .badField("index")),
            (#"{"type":"answer","value":"\ud800"}"#, .malformed(at: 32, what: "lone surrogate")),
        ]
        for (line, expected) in cases {
            guard case .failure(let error) = read(line) else {
                Issue.record("accepted: \(line)")
                continue
            }
            #expect(error == expected, "\(line)")
        }
    }

    @Test func randomAndMutatedLinesNeverCrash() {
        var rng = SystemRandomNumberGenerator()
        let seeds = [#"{"type":"answer","value":"abc"}"#, #"{"type":"key","code":29,"down":true}"#,
                     #"{"type":"debug-scan","needlesHex":["00ff"]}"#]
        for _ in 0..<5_000 {
            var bytes = Array(seeds.randomElement(using: &rng)!.utf8)
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[i] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.remove(at: i)
                default: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: i)
                }
                if bytes.isEmpty { bytes = [0x7B] }
            }
            _ = read(String(decoding: bytes, as: UTF8.self))
            let reader = SimEventReader()
            _ = bytes.withUnsafeBytes { b -> Bool in
                do throws(SimEventError) { _ = try reader.read(b); return true } catch { return false }
            }
        }
    }

    @Test func writtenLinesAreValidJSONForAnyBytes() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let bytes = (0..<Int.random(in: 0...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let buffer = SecretBuffer(capacity: 4096)
            var w = JSONLineWriter(buffer: buffer)
            w.beginObject()
            w.key("t")
            bytes.withUnsafeBytes { w.string($0) }
            w.key("d")
            w.double(Double.random(in: -1e9...1e9, using: &rng))
            w.endObject()
            w.newline()
            let line = Data(buffer.used)
            let object = try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any])
            let text = try #require(object["t"] as? String)
            if String(validating: bytes, as: UTF8.self) != nil, !bytes.contains(0) {
                #expect(text == String(decoding: bytes, as: UTF8.self))
            }
        }
    }
}
