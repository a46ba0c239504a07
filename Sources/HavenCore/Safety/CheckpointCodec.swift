/// The first byte of every record the safety layer appends to the store
/// (Docs/safety.md §5).
public enum SafetyRecordType: UInt8, Sendable {
    /// A finished interview: the answer record sealed to the research team
    /// (age v1) follows. The device holds no key that opens it.
    case sealedInterview = 1
    /// An interview in progress, under its own interview key.
    case checkpoint = 2
}

/// Checkpoint records: an interview in progress, encrypted under its own
/// interview key, with that key wrapped by a key derived from the data key
/// and the superblock's checkpoint epoch (Docs/safety.md §5):
///
///     0   u8      type = 2
///     1   24      wrap nonce
///     25  48      XChaCha20-Poly1305(wrap key, wrap nonce, ad = "HVNw" ‖ 0x02, interview key)
///     73  24      state nonce
///     97  n + 16  XChaCha20-Poly1305(interview key, state nonce, ad = bytes 0‥96, Interview.save())
///
/// wrap key = HKDF-SHA256(salt = epoch (16 bytes), ikm = data key,
/// info = "haven checkpoint wrap v1").
///
/// The state is sealed in place: the engine saves straight into the record
/// buffer at offset 97, so the plaintext never exists anywhere else.
enum CheckpointCodec<C: CryptoSuite> {
    static var headerSize: Int { 97 }
    static var overhead: Int { headerSize + CryptoSizes.tag }

    /// Where the engine writes the state before `seal`.
    static func statePlaintext(_ record: UnsafeMutableRawBufferPointer) -> UnsafeMutableRawBufferPointer {
        record.slice(headerSize, record.count - overhead)
    }

    static func deriveWrapKey(dataKey: UnsafeRawBufferPointer, epoch: CheckpointEpoch,
                              into out: UnsafeMutableRawBufferPointer) {
        epoch.withBytes { salt in
            label("haven checkpoint wrap v1") { info in
                HKDF<C>.derive(salt: salt, inputKeyMaterial: dataKey, info: info, output: out)
            }
        }
    }

    /// Seals the `stateLength` bytes at offset 97 of `record` in place and
    /// fills the header; returns the record's length.
    static func seal(_ record: UnsafeMutableRawBufferPointer, stateLength: Int, interviewKey: UnsafeRawBufferPointer,
                     wrapKey: UnsafeRawBufferPointer) -> Int {
        record[0] = SafetyRecordType.checkpoint.rawValue
        C.randomBytes(record.slice(1, 24))
        withWrapAD { ad in
            C.aeadSeal(key: wrapKey, nonce: UnsafeRawBufferPointer(record.slice(1, 24)), associatedData: ad,
                       plaintext: interviewKey, output: record.slice(25, 48))
        }
        C.randomBytes(record.slice(73, 24))
        let state = record.slice(headerSize, stateLength)
        C.aeadSeal(key: interviewKey, nonce: UnsafeRawBufferPointer(record.slice(73, 24)),
                   associatedData: UnsafeRawBufferPointer(record.slice(0, headerSize)),
                   plaintext: UnsafeRawBufferPointer(state), output: record.slice(headerSize, stateLength + CryptoSizes.tag))
        return headerSize + stateLength + CryptoSizes.tag
    }

    /// Opens a checkpoint of `length` bytes in `record` in place: the
    /// interview key goes to `interviewKey`, and the state plaintext is
    /// returned (inside `record`). Nil (and nothing left behind) when it does
    /// not authenticate: another epoch, damage, or not a checkpoint.
    static func open(_ record: UnsafeMutableRawBufferPointer, length: Int, wrapKey: UnsafeRawBufferPointer,
                     interviewKey: UnsafeMutableRawBufferPointer) -> UnsafeMutableRawBufferPointer? {
        guard length >= overhead, record[0] == SafetyRecordType.checkpoint.rawValue else { return nil }
        let unwrapped = withWrapAD { ad in
            C.aeadOpen(key: wrapKey, nonce: UnsafeRawBufferPointer(record.slice(1, 24)), associatedData: ad,
                       ciphertext: UnsafeRawBufferPointer(record.slice(25, 48)), output: interviewKey)
        }
        guard unwrapped else { return nil }
        let n = length - overhead
        let ok = C.aeadOpen(key: UnsafeRawBufferPointer(interviewKey), nonce: UnsafeRawBufferPointer(record.slice(73, 24)),
                            associatedData: UnsafeRawBufferPointer(record.slice(0, headerSize)),
                            ciphertext: UnsafeRawBufferPointer(record.slice(headerSize, n + CryptoSizes.tag)),
                            output: record.slice(headerSize, n))
        guard ok else {
            C.zeroize(interviewKey)
            return nil
        }
        return record.slice(headerSize, n)
    }

    private static func withWrapAD<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeTemporaryAllocation(byteCount: 5, alignment: 1) { ad in
            ad[0] = 0x48; ad[1] = 0x56; ad[2] = 0x4E; ad[3] = 0x77  // "HVNw"
            ad[4] = SafetyRecordType.checkpoint.rawValue
            return body(UnsafeRawBufferPointer(ad))
        }
    }
}
