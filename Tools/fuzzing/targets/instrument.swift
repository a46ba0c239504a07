// Fuzz target: the compiled-instrument decoder (`Instrument(bytes:)`, which
// runs BytecodeValidator on every expression). Each input is decoded twice:
// as given, and with the header CRC (offset 16, over bytes 32…) recomputed,
// so mutations reach the section parsers instead of stopping at the CRC.
// A decoded instrument is walked through its public accessors.
import HavenCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInstrument(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var bytes = fuzzBytes(data, size)
    decodeAndWalk(bytes)
    if bytes.count >= 32 {
        let crc = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[32...])) }
        for i in 0..<4 { bytes[16 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        decodeAndWalk(bytes)
    }
    return 0
}

func decodeAndWalk(_ bytes: [UInt8]) {
    guard let instrument = try? Instrument(bytes: bytes) else { return }
    var sum = 0
    for ref in 0..<min(instrument.stringCount, 4096) { sum &+= instrument.string(ref).count }
    for language in 0..<min(instrument.languageCount, 16) {
        sum &+= instrument.languageName(language).count
        for ref in 0..<min(instrument.textCount, 4096) { sum &+= instrument.text(ref, language: language).count }
    }
    for ref in 0..<min(instrument.expressionCount, 4096) { sum &+= instrument.expression(ref)?.code.count ?? 0 }
    for (list, info) in instrument.choiceLists.enumerated().prefix(256) {
        for item in 0..<min(info.itemCount, 256) {
            sum &+= instrument.choiceValue(list: list, item: item).count
            sum &+= instrument.choiceLabel(list: list, item: item, language: 0).count
            for column in 0..<min(info.extraColumnCount, 8) {
                sum &+= instrument.choiceColumn(list: list, item: item, column: column, language: 0).count
            }
        }
        for column in 0..<min(info.extraColumnCount, 8) { sum &+= instrument.columnName(list: list, column: column).count }
    }
    _ = sum &+ instrument.nodeCount &+ Int(instrument.title) &+ instrument.defaultLanguage
}
