// Fuzz target: the answer-record reader (AnswerRecord(bytes:), the
// plaintext inside a sealed interview, Docs/export-format.md). A record it
// accepts is re-read from its own bytes with a byte appended and one
// removed: both must be refused (trailing bytes, truncation).
import HavenCore
import HavenHost

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAnswerRecord(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    guard (try? AnswerRecord(bytes: bytes)) != nil else { return 0 }
    if (try? AnswerRecord(bytes: bytes + [0])) != nil { fatalError("a record with a trailing byte was accepted") }
    if (try? AnswerRecord(bytes: Array(bytes.dropLast()))) != nil { fatalError("a truncated record was accepted") }
    return 0
}
