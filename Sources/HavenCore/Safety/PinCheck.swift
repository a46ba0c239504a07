/// What a PIN opened.
enum PinVerdict: Equatable {
    /// The data key is in the output buffer.
    case real
    case duress
    case wrong
}

/// One PIN attempt's cryptography (Docs/safety.md §3).
///
/// For every distinct Argon2id input (salt, iterations, memory) among the
/// PIN slots and the duress verifier — provisioning gives them all the same
/// one, so normally one — it runs Argon2id once, derives the slot KEK from
/// the result with the device secret and tries **every** PIN slot of that
/// input, and derives the duress tag from the same result and compares it in
/// constant time (through the device binding first when the verifier is
/// bound, whatever the PIN). Nothing stops early: the work depends on the slots and the
/// policy, never on the PIN entered, so the time an attempt takes does not
/// tell the duress PIN, a real one and a wrong one apart.
enum PinCheck<C: CryptoSuite> {
    /// `scratch` is 96 bytes the caller zeroizes after; `dataKey` receives
    /// the data key on `.real` and is zeroed otherwise.
    static func check(pin: UnsafeRawBufferPointer, slots: [KeySlot], duress: DuressVerifier?,
                      deviceSecret: UnsafeRawBufferPointer, dataKey: UnsafeMutableRawBufferPointer,
                      scratch: UnsafeMutableRawBufferPointer) throws(CryptoError) -> PinVerdict {
        precondition(scratch.count >= 96 && dataKey.count == CryptoSizes.key, "pin check buffers")
        let stretched = scratch.slice(0, 32)
        let kek = scratch.slice(32, 32)
        let candidate = scratch.slice(64, 32)
        defer { C.zeroize(scratch.slice(0, 96)) }
        dataKey.fill(0)
        var real = false
        var duressMatch = false
        // Candidates 0..<slots.count are slots; index slots.count is the verifier.
        let total = slots.count + 1
        var c = 0
        while c < total {
            if isKDFInput(c, slots, duress), !sameInputEarlier(c, slots, duress) {
                let (salt, iterations, memory) = kdfInput(c, slots, duress)
                try DuressVerifier.argon2id(C.self, pin: pin, salt: salt, iterations: iterations, memoryKiB: memory,
                                            into: stretched)
                let stretch = UnsafeRawBufferPointer(stretched)
                KeySlots<C>.pinKEK(stretched: stretch, deviceSecret: deviceSecret, kek: kek)
                var j = c
                while j < total {
                    if isKDFInput(j, slots, duress), sameInput(j, c, slots, duress) {
                        if j < slots.count {
                            // Every slot is tried even after a match.
                            let opened = tryUnwrap(slots[j], index: j, kek: UnsafeRawBufferPointer(kek),
                                                   into: candidate)
                            if opened && !real {
                                dataKey.copy(UnsafeRawBufferPointer(candidate), to: 0)
                                real = true
                            }
                        } else if let d = duress {
                            DuressVerifier.tag(C.self, stretched: stretch, into: candidate)
                            var compared = candidate
                            if d.boundToDevice {
                                // The verifier is last in its group: the KEK and the
                                // Argon2id output are no longer needed here.
                                DuressVerifier.bindKey(C.self, deviceSecret: deviceSecret, into: kek)
                                C.hmacSHA256(key: UnsafeRawBufferPointer(kek), message: UnsafeRawBufferPointer(candidate),
                                             output: stretched)
                                compared = stretched
                            }
                            let equal = d.tag.withUnsafeBytes { C.constantTimeEqual(UnsafeRawBufferPointer(compared), $0) }
                            duressMatch = duressMatch || equal
                        }
                    }
                    j += 1
                }
            }
            c += 1
        }
        // The duress PIN wins if a config ever made it equal to the real one:
        // erasing by mistake is recoverable from the research copy; unlocking
        // under coercion is not.
        if duressMatch {
            dataKey.fill(0)
            return .duress
        }
        return real ? .real : .wrong
    }

    private static func tryUnwrap(_ slot: KeySlot, index: Int, kek: UnsafeRawBufferPointer,
                                  into out: UnsafeMutableRawBufferPointer) -> Bool {
        do throws(StoreError) {
            try KeySlots<C>.unwrap(slot, index: index, kek: kek, dataKey: out)
            return true
        } catch {
            return false
        }
    }

    /// PIN slots and the verifier take part; empty and raw-key slots do not.
    private static func isKDFInput(_ i: Int, _ slots: [KeySlot], _ duress: DuressVerifier?) -> Bool {
        i < slots.count ? slots[i].kind == .pin : duress != nil
    }

    private static func kdfInput(_ i: Int, _ slots: [KeySlot],
                                 _ duress: DuressVerifier?) -> ([UInt8], UInt32, UInt32) {
        if i < slots.count { return (slots[i].salt, slots[i].kdfIterations, slots[i].kdfMemoryKiB) }
        let d = duress!
        return (d.salt, d.iterations, d.memoryKiB)
    }

    private static func sameInput(_ a: Int, _ b: Int, _ slots: [KeySlot], _ duress: DuressVerifier?) -> Bool {
        let x = kdfInput(a, slots, duress), y = kdfInput(b, slots, duress)
        return x.1 == y.1 && x.2 == y.2 && x.0 == y.0
    }

    private static func sameInputEarlier(_ c: Int, _ slots: [KeySlot], _ duress: DuressVerifier?) -> Bool {
        var i = 0
        while i < c {
            if isKDFInput(i, slots, duress), sameInput(i, c, slots, duress) { return true }
            i += 1
        }
        return false
    }
}
