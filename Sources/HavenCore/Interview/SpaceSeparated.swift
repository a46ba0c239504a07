/// Tokens of a space-separated list (a select_multiple value), skipping
/// runs of spaces.
struct SpaceSeparated {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func next() -> UnsafeRawBufferPointer? {
        while position < bytes.count && bytes[position] == 32 { position += 1 }
        guard position < bytes.count else { return nil }
        let start = position
        while position < bytes.count && bytes[position] != 32 { position += 1 }
        return bytes.slice(start, position - start)
    }
}
