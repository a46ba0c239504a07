/// Seals a finished interview's answer record to the research team's X25519
/// recipients as an age v1 file (C2SP age spec; `Docs/sealed-record.md`),
/// so that only the holders of the matching identities can read it — a PIN
/// coerced out of the enumerator opens the device, not the sealed records.
///
/// The output is exactly what `age -r age1… -o record.age` would produce in
/// structure (binary, not armored):
///
///     age-encryption.org/v1
///     -> X25519 <base64 ephemeral share>          one stanza per recipient
///     <base64 wrapped file key>
///     --- <base64 header MAC>
///     <16-byte nonce><64 KiB chunks, ChaCha20-Poly1305, last flagged>
///
/// Sealing allocates nothing: the caller provides the output buffer
/// (`sealedSize`), and the file key, ephemeral scalars, shared secrets and
/// derived keys live in one stack buffer that is zeroized before returning,
/// on success and on error. Plaintext is encrypted straight from the
/// caller's buffer into the output, never copied.
public enum AgeSealer<C: CryptoSuite> {
    /// The exact size of a sealed file: header plus payload.
    public static func sealedSize(plaintextCount: Int, recipientCount: Int) -> Int {
        precondition(plaintextCount >= 0 && recipientCount >= 0, "negative size")
        return AgeV1.headerSize(recipientCount: recipientCount) + AgeV1.payloadSize(plaintextCount: plaintextCount)
    }

    // Scratch layout (one stack buffer, zeroized on exit).
    private static var fileKeyAt: Int { 0 }       // 16
    private static var zeroNonceAt: Int { 16 }    // 12
    private static var scalarAt: Int { 32 }       // 32, ephemeral secret
    private static var saltAt: Int { 64 }         // 64 = share (32) ‖ recipient (32)
    private static var sharedAt: Int { 128 }      // 32
    private static var wrapKeyAt: Int { 160 }     // 32
    private static var bodyAt: Int { 192 }        // 32, wrapped file key ‖ tag
    private static var macKeyAt: Int { 224 }      // 32
    private static var macAt: Int { 256 }         // 32
    private static var payloadKeyAt: Int { 288 }  // 32
    private static var chunkNonceAt: Int { 320 }  // 12
    private static var scratchSize: Int { 336 }

    /// Seals `plaintext` to `recipients` (n × 32-byte X25519 public keys,
    /// back to back) into the start of `output`, and returns the number of
    /// bytes written (`sealedSize(plaintextCount:recipientCount:)`).
    ///
    /// `output` must not overlap `plaintext` or `recipients`. Throws
    /// `.noRecipients` for an empty list, `.invalidRecipient(index:)` for a
    /// list that is not a whole number of keys (the index of the partial
    /// one) or for a low-order key (the shared secret would be all zeros),
    /// and `.bufferTooSmall(needed:)` before writing anything. On error the
    /// part of `output` already written is cleared.
    public static func seal(
        plaintext: UnsafeRawBufferPointer,
        recipients: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) throws(SealError) -> Int {
        guard recipients.count > 0 else { throw .noRecipients }
        guard recipients.count % CryptoSizes.x25519 == 0 else {
            throw .invalidRecipient(index: recipients.count / CryptoSizes.x25519)
        }
        let recipientCount = recipients.count / CryptoSizes.x25519
        let needed = sealedSize(plaintextCount: plaintext.count, recipientCount: recipientCount)
        guard output.count >= needed else { throw .bufferTooSmall(needed: needed) }
        precondition(disjoint(UnsafeRawBufferPointer(output), plaintext)
                         && disjoint(UnsafeRawBufferPointer(output), recipients),
                     "AgeSealer output overlaps its input")

        return try withUnsafeTemporaryAllocation(byteCount: scratchSize, alignment: 16) {
            (scratch) throws(SealError) -> Int in
            defer { C.zeroize(scratch) }
            scratch.fill(0)
            let fileKey = scratch.slice(fileKeyAt, AgeV1.fileKeySize)
            C.randomBytes(fileKey)

            var position = 0
            AgeV1.put(AgeV1.versionLine, output, &position)

            var index = 0
            while index < recipientCount {
                let recipient = recipients.slice(index * CryptoSizes.x25519, CryptoSizes.x25519)
                guard wrap(fileKey: UnsafeRawBufferPointer(fileKey), recipient: recipient, scratch: scratch) else {
                    output.slice(0, position).fill(0)
                    throw .invalidRecipient(index: index)
                }
                AgeV1.put(AgeV1.x25519StanzaPrefix, output, &position)
                position += Base64.encode(UnsafeRawBufferPointer(scratch.slice(saltAt, 32)),
                                          into: output.slice(position, AgeV1.base64Of32))
                AgeV1.put(0x0A, output, &position)
                position += Base64.encode(UnsafeRawBufferPointer(scratch.slice(bodyAt, 32)),
                                          into: output.slice(position, AgeV1.base64Of32))
                AgeV1.put(0x0A, output, &position)
                index += 1
            }

            // The MAC covers the header up to and including "---".
            AgeV1.put(0x2D, output, &position)
            AgeV1.put(0x2D, output, &position)
            AgeV1.put(0x2D, output, &position)
            let macKey = scratch.slice(macKeyAt, 32)
            let mac = scratch.slice(macAt, 32)
            let empty = UnsafeRawBufferPointer(scratch.slice(0, 0))
            label(AgeV1.headerInfo) { info in
                HKDF<C>.derive(salt: empty, inputKeyMaterial: UnsafeRawBufferPointer(fileKey), info: info,
                               output: macKey)
            }
            C.hmacSHA256(key: UnsafeRawBufferPointer(macKey),
                         message: UnsafeRawBufferPointer(output.slice(0, position)), output: mac)
            AgeV1.put(0x20, output, &position)
            position += Base64.encode(UnsafeRawBufferPointer(mac), into: output.slice(position, AgeV1.base64Of32))
            AgeV1.put(0x0A, output, &position)

            // Payload: nonce, then STREAM chunks under the payload key.
            let nonce = output.slice(position, AgeV1.payloadNonceSize)
            C.randomBytes(nonce)
            position += AgeV1.payloadNonceSize
            let payloadKey = scratch.slice(payloadKeyAt, 32)
            label(AgeV1.payloadInfo) { info in
                HKDF<C>.derive(salt: UnsafeRawBufferPointer(nonce), inputKeyMaterial: UnsafeRawBufferPointer(fileKey),
                               info: info, output: payloadKey)
            }
            let chunkNonce = scratch.slice(chunkNonceAt, CryptoSizes.ietfNonce)
            let chunks = AgeV1.chunkCount(plaintextCount: plaintext.count)
            var chunk = 0
            var consumed = 0
            while chunk < chunks {
                let length = min(AgeV1.chunkSize, plaintext.count - consumed)
                AgeV1.chunkNonce(index: UInt64(chunk), last: chunk == chunks - 1, into: chunkNonce)
                C.chachaPolySeal(key: UnsafeRawBufferPointer(payloadKey), nonce: UnsafeRawBufferPointer(chunkNonce),
                                 associatedData: empty,
                                 plaintext: UnsafeRawBufferPointer(rebasing: plaintext[consumed..<(consumed + length)]),
                                 output: output.slice(position, length + AgeV1.tagSize))
                position += length + AgeV1.tagSize
                consumed += length
                chunk += 1
            }
            precondition(position == needed, "sealedSize disagrees with the sealer")
            return position
        }
    }

    /// One X25519 stanza's secrets: a fresh ephemeral scalar, its share
    /// (left at `saltAt`, followed by the recipient, which is the HKDF salt),
    /// the shared secret, the wrap key, and the wrapped file key (left at
    /// `bodyAt`). The scalar, shared secret and wrap key are zeroized here.
    /// False for a low-order recipient (all-zero shared secret).
    private static func wrap(fileKey: UnsafeRawBufferPointer, recipient: UnsafeRawBufferPointer,
                             scratch: UnsafeMutableRawBufferPointer) -> Bool {
        let scalar = scratch.slice(scalarAt, 32)
        let share = scratch.slice(saltAt, 32)
        let salt = scratch.slice(saltAt, 64)
        let shared = scratch.slice(sharedAt, 32)
        let wrapKey = scratch.slice(wrapKeyAt, 32)
        defer {
            C.zeroize(scalar)
            C.zeroize(shared)
            C.zeroize(wrapKey)
        }
        C.randomBytes(scalar)
        C.x25519Base(scalar: UnsafeRawBufferPointer(scalar), output: share)
        do throws(CryptoError) {
            try C.x25519(scalar: UnsafeRawBufferPointer(scalar), point: recipient, output: shared)
        } catch {
            return false
        }
        salt.copy(recipient, to: 32)
        label(AgeV1.x25519Info) { info in
            HKDF<C>.derive(salt: UnsafeRawBufferPointer(salt), inputKeyMaterial: UnsafeRawBufferPointer(shared),
                           info: info, output: wrapKey)
        }
        C.chachaPolySeal(key: UnsafeRawBufferPointer(wrapKey),
                         nonce: UnsafeRawBufferPointer(scratch.slice(zeroNonceAt, CryptoSizes.ietfNonce)),
                         associatedData: UnsafeRawBufferPointer(scratch.slice(0, 0)),
                         plaintext: fileKey, output: scratch.slice(bodyAt, 32))
        return true
    }

    /// True when the two buffers share no byte.
    private static func disjoint(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard let aBase = a.baseAddress, let bBase = b.baseAddress, a.count > 0, b.count > 0 else { return true }
        let aStart = UInt(bitPattern: aBase), bStart = UInt(bitPattern: bBase)
        return aStart + UInt(a.count) <= bStart || bStart + UInt(b.count) <= aStart
    }
}

/// Why a record could not be sealed.
public enum SealError: Error, Equatable, Sendable {
    /// `output` is smaller than the sealed file; `needed` is its exact size.
    case bufferTooSmall(needed: Int)
    /// The recipient list is empty: nobody could ever open the record.
    case noRecipients
    /// Recipient `index` is not a usable X25519 public key (a low-order
    /// point, or a trailing partial key in the list).
    case invalidRecipient(index: Int)
}
