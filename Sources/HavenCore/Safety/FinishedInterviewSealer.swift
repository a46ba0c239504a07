/// The one place the safety layer seals a finished interview's answer
/// record to the research team (Docs/safety.md §5, Docs/sealed-record.md):
/// the store record is `u8 type = 1 ‖ age v1 file`. The age file is opened
/// only with the team's identity; the device keeps no key for it.
enum FinishedInterviewSealer<C: CryptoSuite> {
    /// Store record bytes for an answer record of `plaintextCount` bytes.
    static func recordSize(plaintextCount: Int, recipientCount: Int) -> Int {
        1 + AgeSealer<C>.sealedSize(plaintextCount: plaintextCount, recipientCount: recipientCount)
    }

    /// Writes the type byte and the sealed file into `output`; returns the
    /// length. Allocates nothing.
    static func seal(_ plaintext: UnsafeRawBufferPointer, recipients: UnsafeRawBufferPointer,
                     into output: UnsafeMutableRawBufferPointer) throws(SafetyError) -> Int {
        guard output.count >= 1 else { throw .seal(.bufferTooSmall(needed: 1)) }
        output[0] = SafetyRecordType.sealedInterview.rawValue
        do throws(SealError) {
            return 1 + (try AgeSealer<C>.seal(plaintext: plaintext, recipients: recipients,
                                              output: output.slice(1, output.count - 1)))
        } catch {
            output[0] = 0
            throw .seal(error)
        }
    }
}
