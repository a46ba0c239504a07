// Embedded self-test of sealing: base64 known answers (RFC 4648 §10), then
// a small answer record sealed with AgeSealer<ExternSodium> to a recipient
// derived here from a fixed identity scalar. Checks the header prefix and
// the exact size, then opens the file again with core primitives only
// (stanza unwrap, header MAC, the one payload chunk) — the sealer
// specialised and run in Embedded mode — and refuses bad recipient lists.

fileprivate typealias SelfTestSealer = AgeSealer<ExternSodium>

fileprivate func b64Matches(_ plain: StaticString, _ encoded: StaticString) -> Bool {
    var out = [UInt8](repeating: 0, count: 16)
    var back = [UInt8](repeating: 0, count: 16)
    let input = UnsafeRawBufferPointer(start: plain.utf8Start, count: plain.utf8CodeUnitCount)
    let n = out.withUnsafeMutableBytes { Base64.encode(input, into: $0) }
    guard n == encoded.utf8CodeUnitCount else { return false }
    var i = 0
    while i < n {
        if out[i] != encoded.utf8Start[i] { return false }
        i += 1
    }
    let m = back.withUnsafeMutableBytes { o -> Int in
        do throws(Base64Error) {
            return try Base64.decode(UnsafeRawBufferPointer(start: encoded.utf8Start, count: encoded.utf8CodeUnitCount),
                                     into: o)
        } catch {
            return -1
        }
    }
    guard m == plain.utf8CodeUnitCount else { return false }
    i = 0
    while i < m {
        if back[i] != plain.utf8Start[i] { return false }
        i += 1
    }
    return true
}

fileprivate func b64Refuses(_ encoded: StaticString) -> Bool {
    var back = [UInt8](repeating: 0, count: 16)
    return back.withUnsafeMutableBytes { o -> Bool in
        do throws(Base64Error) {
            _ = try Base64.decode(UnsafeRawBufferPointer(start: encoded.utf8Start, count: encoded.utf8CodeUnitCount),
                                  into: o)
            return false
        } catch {
            return true
        }
    }
}

fileprivate func startsWith(_ bytes: [UInt8], at offset: Int, _ text: StaticString) -> Bool {
    guard offset + text.utf8CodeUnitCount <= bytes.count else { return false }
    var i = 0
    while i < text.utf8CodeUnitCount {
        if bytes[offset + i] != text.utf8Start[i] { return false }
        i += 1
    }
    return true
}

fileprivate func seal(_ plaintext: [UInt8], _ recipients: [UInt8], capacity: Int) -> (bytes: [UInt8], error: SealError?) {
    var out = [UInt8](repeating: 0, count: capacity)
    var failure: SealError? = nil
    var written = 0
    plaintext.withUnsafeBytes { p in
        recipients.withUnsafeBytes { r in
            out.withUnsafeMutableBytes { o in
                do throws(SealError) {
                    written = try SelfTestSealer.seal(plaintext: p, recipients: r, output: o)
                } catch {
                    failure = error
                }
            }
        }
    }
    if failure != nil { return ([], failure) }
    return (Array(out[0..<written]), nil)
}

/// Decodes the 43 base64 characters at `offset` into 32 bytes.
fileprivate func decode32(_ file: [UInt8], at offset: Int, into out: inout [UInt8]) -> Bool {
    file.withUnsafeBytes { f in
        out.withUnsafeMutableBytes { o in
            do throws(Base64Error) {
                return try Base64.decode(f.slice(offset, AgeV1.base64Of32), into: o) == 32
            } catch {
                return false
            }
        }
    }
}

/// Opens a one-stanza, one-chunk sealed file with `identity`: unwraps the
/// file key, checks the MAC, decrypts the chunk. Nil when anything fails.
fileprivate func open(_ file: [UInt8], identity: [UInt8], recipient: [UInt8], plaintextCount: Int) -> [UInt8]? {
    let stanzaAt = AgeV1.versionLine.utf8CodeUnitCount
    let shareAt = stanzaAt + AgeV1.x25519StanzaPrefix.utf8CodeUnitCount
    let bodyAt = shareAt + AgeV1.base64Of32 + 1
    let macLineAt = stanzaAt + AgeV1.x25519StanzaSize
    let payloadAt = macLineAt + AgeV1.macLineSize
    var share = [UInt8](repeating: 0, count: 32)
    var body = [UInt8](repeating: 0, count: 32)
    var mac = [UInt8](repeating: 0, count: 32)
    var ok = decode32(file, at: shareAt, into: &share) && decode32(file, at: bodyAt, into: &body)
        && decode32(file, at: macLineAt + 4, into: &mac)
    guard ok else { return nil }

    var shared = [UInt8](repeating: 0, count: 32)
    identity.withUnsafeBytes { s in
        share.withUnsafeBytes { p in
            shared.withUnsafeMutableBytes { o in
                do throws(CryptoError) { try ExternSodium.x25519(scalar: s, point: p, output: o) } catch { ok = false }
            }
        }
    }
    guard ok else { return nil }
    let salt = share + recipient
    let zeroNonce = [UInt8](repeating: 0, count: 12)
    let none: [UInt8] = []
    var wrapKey = [UInt8](repeating: 0, count: 32)
    var fileKey = [UInt8](repeating: 0, count: 16)
    var macKey = [UInt8](repeating: 0, count: 32)
    var expectedMAC = [UInt8](repeating: 0, count: 32)
    var payloadKey = [UInt8](repeating: 0, count: 32)
    var chunkNonce = [UInt8](repeating: 0, count: 12)
    var plaintext = [UInt8](repeating: 0, count: plaintextCount)
    salt.withUnsafeBytes { s in
        shared.withUnsafeBytes { i in
            wrapKey.withUnsafeMutableBytes { o in
                HKDF<ExternSodium>.derive(salt: s, inputKeyMaterial: i,
                                          info: UnsafeRawBufferPointer(start: AgeV1.x25519Info.utf8Start,
                                                                       count: AgeV1.x25519Info.utf8CodeUnitCount),
                                          output: o)
            }
        }
    }
    wrapKey.withUnsafeBytes { k in
        zeroNonce.withUnsafeBytes { n in
            none.withUnsafeBytes { a in
                body.withUnsafeBytes { c in
                    fileKey.withUnsafeMutableBytes { o in
                        ok = ExternSodium.chachaPolyOpen(key: k, nonce: n, associatedData: a, ciphertext: c, output: o)
                    }
                }
            }
        }
    }
    guard ok else { return nil }
    fileKey.withUnsafeBytes { fk in
        none.withUnsafeBytes { e in
            macKey.withUnsafeMutableBytes { o in
                HKDF<ExternSodium>.derive(salt: e, inputKeyMaterial: fk,
                                          info: UnsafeRawBufferPointer(start: AgeV1.headerInfo.utf8Start,
                                                                       count: AgeV1.headerInfo.utf8CodeUnitCount),
                                          output: o)
            }
        }
        file.withUnsafeBytes { f in
            macKey.withUnsafeBytes { k in
                expectedMAC.withUnsafeMutableBytes { o in
                    ExternSodium.hmacSHA256(key: k, message: f.slice(0, macLineAt + 3), output: o)
                }
            }
            payloadKey.withUnsafeMutableBytes { o in
                HKDF<ExternSodium>.derive(salt: f.slice(payloadAt, 16), inputKeyMaterial: fk,
                                          info: UnsafeRawBufferPointer(start: AgeV1.payloadInfo.utf8Start,
                                                                       count: AgeV1.payloadInfo.utf8CodeUnitCount),
                                          output: o)
            }
        }
    }
    guard expectedMAC == mac else { return nil }
    chunkNonce.withUnsafeMutableBytes { AgeV1.chunkNonce(index: 0, last: true, into: $0) }
    file.withUnsafeBytes { f in
        payloadKey.withUnsafeBytes { k in
            chunkNonce.withUnsafeBytes { n in
                none.withUnsafeBytes { a in
                    plaintext.withUnsafeMutableBytes { o in
                        ok = ExternSodium.chachaPolyOpen(key: k, nonce: n, associatedData: a,
                                                         ciphertext: f.slice(payloadAt + 16, plaintextCount + 16), output: o)
                    }
                }
            }
        }
    }
    return ok ? plaintext : nil
}

func sealChecks(_ t: inout Checker) {
    t.check(b64Matches("", "") && b64Matches("f", "Zg") && b64Matches("fo", "Zm8") && b64Matches("foo", "Zm9v")
                && b64Matches("foob", "Zm9vYg") && b64Matches("fooba", "Zm9vYmE") && b64Matches("foobar", "Zm9vYmFy"),
            "base64: RFC 4648 section 10 vectors (unpadded)")
    t.check(b64Refuses("Zg==") && b64Refuses("Zh") && b64Refuses("Zm9") && b64Refuses("Z") && b64Refuses("Zm-_"),
            "base64: padding, non-canonical bits, bad length and foreign characters refused")

    // The research team's identity, fixed here; its recipient derived.
    var identity = [UInt8](repeating: 0, count: 32)
    var i = 0
    while i < 32 {
        identity[i] = UInt8(truncatingIfNeeded: i &* 29 &+ 3)
        i += 1
    }
    var recipient = [UInt8](repeating: 0, count: 32)
    identity.withUnsafeBytes { s in recipient.withUnsafeMutableBytes { ExternSodium.x25519Base(scalar: s, output: $0) } }

    // A small answer record (Docs/instrument-format.md §4): magic, version 1.
    var record: [UInt8] = [0x48, 0x56, 0x4E, 0x41, 0x01, 0x00]
    i = 0
    while i < 40 {
        record.append(UInt8(truncatingIfNeeded: i))
        i += 1
    }
    let size = SelfTestSealer.sealedSize(plaintextCount: record.count, recipientCount: 1)
    t.check(size == 22 + 98 + 48 + 16 + record.count + 16, "seal: sealedSize of a one-chunk record")
    let sealed = seal(record, recipient, capacity: size)
    t.check(sealed.error == nil && sealed.bytes.count == size, "seal: writes exactly sealedSize bytes")
    t.check(startsWith(sealed.bytes, at: 0, "age-encryption.org/v1\n-> X25519 "), "seal: age v1 header prefix")
    t.check(startsWith(sealed.bytes, at: 22 + 98, "--- ") && sealed.bytes.count > 22 + 98 + 47
                && sealed.bytes[22 + 98 + 47] == 0x0A, "seal: MAC line in place")
    t.check(open(sealed.bytes, identity: identity, recipient: recipient, plaintextCount: record.count) == record,
            "seal: opens again (unwrap, MAC, final chunk)")
    var wrongIdentity = identity
    wrongIdentity[0] ^= 0x40
    t.check(open(sealed.bytes, identity: wrongIdentity, recipient: recipient, plaintextCount: record.count) == nil,
            "seal: another identity cannot open it")

    let second = seal(record, recipient, capacity: size)
    t.check(second.error == nil && second.bytes != sealed.bytes, "seal: fresh file key, share and nonce each time")

    t.check(seal(record, [], capacity: size).error == .noRecipients, "seal: no recipients refused")
    t.check(seal(record, recipient, capacity: size - 1).error == .bufferTooSmall(needed: size),
            "seal: short buffer refused with the size needed")
    let lowOrder = [UInt8](repeating: 0, count: 32)
    t.check(seal(record, recipient + lowOrder, capacity: 4096).error == .invalidRecipient(index: 1),
            "seal: low-order recipient refused")
}
