/// The one place the safety layer seals a finished interview's answer
/// record to the research team (Docs/safety.md §5): `u8 type = 1 ‖ age v1
/// file`. Kept to one call site so the sealer can be swapped (the age v1
/// sealer of issue 4 is written in parallel).
enum FinishedInterviewSealer<C: CryptoSuite> {
    /// Store record bytes for an answer record of `plaintextCount` bytes.
    static func recordSize(plaintextCount: Int, recipientCount: Int) -> Int {
        // Placeholder until AgeSealer lands: header + payload bound.
        1 + 64 + recipientCount * 98 + 48 + 16 + plaintextCount + (plaintextCount / 65536 + 1) * 16
    }

    /// Writes the type byte and the sealed file into `output`; returns the length.
    static func seal(_ plaintext: UnsafeRawBufferPointer, recipients: UnsafeRawBufferPointer,
                     into output: UnsafeMutableRawBufferPointer) throws(SafetyError) -> Int {
        throw .seal
    }
}
