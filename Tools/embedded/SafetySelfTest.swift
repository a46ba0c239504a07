// Embedded self-test of the safety layer: SafetyController specialised on
// RAM flash, the @_extern(c) suite and a manual clock, run in Embedded mode.
// A wrong PIN counted on flash before the check; the right PIN; an answer
// typed, then quick exit to the decoy with the answer gone from every
// buffer and the keys zeroized; lock and resume; finish and seal (age v1)
// into the store; the duress PIN erasing the store.

/// Written by the test suite's SafetyDevice.realInstrument() and
/// decoyInstrument() (InstrumentBuilder): five questions; four with defaults.
fileprivate let realHex: StaticString = "4841564e494e535401000700670300004bb6affb000000000000000000000000010000007400000018000000020000008c0000004301000003000000cf0100000800000004000000d70100002000000005000000f70100000400000006000000fb010000280000000700000023020000440100000f00000010000000110000000000000005000000000000001300000000000000000000000000000004000000040000000f00000013000000090000001c0000000f0000002b00000005000000300000001500000045000000070000004c000000070000005300000005000000580000000c0000006400000003000000670000000b000000720000000500000077000000050000007c00000008000000840000000a0000008e00000012000000a0000000070000006e616d65526573706f6e64656e74206e616d65696e636964656e7473486f77206d616e792074696d65733f73746f727954656c6c206d6520776861742068617070656e6564706172746e6572506172746e65726f74686572536f6d656f6e6520656c736577686f57686f206469642069743f6e6f7465734e6f7465736970765f636f72653230323430313031303146616d696c79206c696665206d6f64756c6564656661756c74010000001200000007000000020000000400000006000000080000000a0000000c0000000e0000000000000001000000000000000200000000000000000000000200000007000000030000000900000004000000050000000400ffff0100000000000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000ffffffffffffffff00000000ffffffff0500ffff0300000001000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000ffffffffffffffff00000000ffffffff0400ffff0500000002000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000ffffffffffffffff00000000ffffffff0800ffff0b00000005000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff0000000000000000ffffffff00000000ffffffff0400ffff0d00000006000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000ffffffffffffffff00000000ffffffff"
fileprivate let decoyHex: StaticString = "4841564e494e53540100070057030000366022be000000000000000000000000010000007400000018000000020000008c00000077010000030000000302000008000000040000000b0200001c000000050000002702000004000000060000002b020000280000000700000053020000040100000f00000010000000110000000000000004000000000000001300000000000000000000000000000001000000010000000700000008000000270000002f0000000300000032000000030000003500000002000000370000000200000039000000050000003e0000001e0000005c0000000d00000069000000050000006e0000001700000085000000060000008b0000001d000000a800000011000000b90000000a000000c300000011000000d400000007000000356d656d62657273486f77206d616e792070656f706c65206c69766520696e207468697320686f757365686f6c643f7965735965736e6f4e6f7361766573446f65732074686520686f757365686f6c642073617665206d6f6e65793f736176696e67732067726f7570776865726557686572652061726520736176696e6773206b6570743f616d6f756e74416d6f756e74207361766564206c617374206d6f6e7468202852574629686f757365686f6c645f736176696e677332303234303130313031486f757365686f6c6420736176696e677364656661756c74010000001200000006000000030000000500000007000000090000000c0000000e0000000000000001000000000000000200000000000000000000000200000004000000010000000600000002000000040000000500ffff0200000000000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff01000000ffffffffffffffff00000000ffffffff0800ffff0800000003000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff0400000000000000ffffffff00000000ffffffff0400ffff0b00000004000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff0a000000ffffffffffffffff00000000ffffffff0500ffff0d00000005000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000ffffffffffffffff00000000ffffffff"

fileprivate func hexBytes(_ text: StaticString) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(text.utf8CodeUnitCount / 2)
    var i = 0
    while i + 1 < text.utf8CodeUnitCount {
        let hi = text.utf8Start[i], lo = text.utf8Start[i + 1]
        out.append((hi <= 57 ? hi - 48 : hi - 87) << 4 | (lo <= 57 ? lo - 48 : lo - 87))
        i += 2
    }
    return out
}

fileprivate final class SelfTestClock: SafetyClock {
    var now: UInt64 = 1_000
    func monotonicMilliseconds() -> UInt64 { now }
    func today() -> Int32 { 19_884 }
}

fileprivate typealias Controller = SafetyController<RAMFlash, ExternSodium, SelfTestClock>

fileprivate func unlock(_ c: Controller, _ pin: StaticString) -> UnlockResult? {
    do throws(SafetyError) {
        return try c.attemptUnlock(pin: UnsafeRawBufferPointer(start: pin.utf8Start, count: pin.utf8CodeUnitCount))
    } catch {
        return nil
    }
}

fileprivate func holds(_ c: Controller, _ needle: StaticString) -> Bool {
    var found = false
    let n = needle.utf8CodeUnitCount
    c.forEachBuffer { b in
        guard b.count >= n else { return }
        var i = 0
        while i <= b.count - n {
            var j = 0
            while j < n && b[i + j] == needle.utf8Start[j] { j += 1 }
            if j == n { found = true }
            i += 1
        }
    }
    return found
}

fileprivate func allZero(_ b: UnsafeRawBufferPointer) -> Bool {
    var i = 0
    while i < b.count {
        if b[i] != 0 { return false }
        i += 1
    }
    return true
}

func safetyChecks(_ t: inout Checker) {
    let real: Instrument, decoy: Instrument
    let geometry: FlashGeometry
    do throws(InstrumentError) {
        real = try Instrument(bytes: hexBytes(realHex))
        decoy = try Instrument(bytes: hexBytes(decoyHex))
    } catch {
        t.check(false, "safety: instruments decode")
        return
    }
    do throws(FlashError) { geometry = try FlashGeometry(programUnit: 16, eraseBlockSize: 4096, blockCount: 16) } catch {
        t.check(false, "safety: geometry")
        return
    }
    let flash = RAMFlash(geometry: geometry)
    let salt = [UInt8](repeating: 0x5A, count: 16)
    let secret = [UInt8](repeating: 0x42, count: 32)
    var dataKey = [UInt8](repeating: 0, count: 32)
    dataKey.withUnsafeMutableBytes { ExternSodium.randomBytes($0) }
    var kek = [UInt8](repeating: 0, count: 32)
    let pin: StaticString = "2468"
    let duressPIN: StaticString = "1357"
    var ok = true
    salt.withUnsafeBytes { s in secret.withUnsafeBytes { d in kek.withUnsafeMutableBytes { k in
        do throws(CryptoError) {
            try KeySlots<ExternSodium>.pinKEK(pin: UnsafeRawBufferPointer(start: pin.utf8Start, count: 4), salt: s,
                                              iterations: 1, memoryKiB: 8, deviceSecret: d, kek: k)
        } catch { ok = false }
    } } }
    let slot = dataKey.withUnsafeBytes { dk in kek.withUnsafeBytes { k in
        KeySlots<ExternSodium>.wrap(dataKey: dk, kek: k, index: 0, kind: .pin, kdfIterations: 1, kdfMemoryKiB: 8, salt: salt)
    } }
    dataKey.withUnsafeBytes { dk in
        do throws(StoreError) { try Superblock<RAMFlash, ExternSodium>.format(flash, dataKey: dk, slots: [slot]) } catch {
            ok = false
        }
    }
    var duress: DuressVerifier?
    do throws(CryptoError) {
        duress = try DuressVerifier.make(ExternSodium.self, pin: UnsafeRawBufferPointer(start: duressPIN.utf8Start, count: 4),
                                         salt: salt, iterations: 1, memoryKiB: 8)
    } catch { ok = false }
    // A recipient: X25519 of a fixed scalar.
    var recipient = [UInt8](repeating: 0, count: 32)
    let scalar = [UInt8](repeating: 7, count: 32)
    scalar.withUnsafeBytes { s in recipient.withUnsafeMutableBytes { ExternSodium.x25519Base(scalar: s, output: $0) } }
    t.check(ok, "safety: provisioned")

    let policy = SafetyPolicy(maxFailures: 5, backoffMilliseconds: [0, 0, 1_000], duress: duress,
                              quickExitButton: ButtonTrigger(button: 1, presses: 3, windowMilliseconds: 1_000),
                              quickExitChord: [10, 11], quickExitAction: .hide, checkpointEveryAnswers: 2,
                              decoyScreensIn: 2, recipients: recipient)
    let clock = SelfTestClock()
    let made: Controller? = secret.withUnsafeBytes { d -> Controller? in
        do throws(SafetyError) {
            return try Controller(flash: flash, policy: policy, deviceSecret: d, instrument: real, decoy: decoy,
                                  limits: EngineLimits(answerSlots: 64, textArenaBytes: 2048),
                                  decoyLimits: EngineLimits(answerSlots: 64, textArenaBytes: 1024), clock: clock)
        } catch {
            return nil
        }
    }
    guard let c = made else {
        t.check(false, "safety: controller")
        return
    }
    t.check(c.state == .locked, "safety: starts locked")
    t.check(unlock(c, "0000") == .wrongPIN(attemptsLeft: nil), "safety: wrong PIN")
    var failures: UInt32 = 99
    do throws(StoreError) { failures = try Superblock<RAMFlash, ExternSodium>.inspect(flash).pinGuard.failures } catch {}
    t.check(failures == 1, "safety: failure counted on flash")
    t.check(unlock(c, "2468") == .unlocked && c.state == .unlocked, "safety: right PIN")

    do throws(SafetyError) {
        try c.startInterview()
        try c.withInterview { iv throws(InterviewError) in
            let text: StaticString = "SECRET-ABC"
            try iv.answer(text: UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }
    } catch {
        t.check(false, "safety: answer")
    }
    t.check(holds(c, "SECRET-ABC"), "safety: answer in memory before quick exit")
    var fired: QuickExitTrigger?
    var k = 0
    while k < 3 {
        fired = c.handle(InputEvent(.button(1, pressed: true), at: clock.now))
        clock.now += 100
        k += 1
    }
    t.check(fired == .buttonPresses && c.state == .hidden, "safety: three presses hide")
    t.check(!holds(c, "SECRET-ABC"), "safety: answer gone from every buffer")
    t.check(allZero(c.sessionKeyMaterial) && !c.isStoreMounted, "safety: keys zeroized, store closed")
    if case .interview(let s) = c.screen { t.check(s.node == 2, "safety: decoy two screens in") } else {
        t.check(false, "safety: decoy on screen")
    }

    c.lock()
    t.check(unlock(c, "2468") == .unlocked && holds(c, "SECRET-ABC"), "safety: PIN resumes the interview")
    var id: UInt64? = nil
    do throws(SafetyError) {
        var moves = 0
        while moves < 10 {
            let moved = try c.withInterview { iv -> Bool in iv.next() == .moved }
            if !moved { break }
            moves += 1
        }
        id = try c.finalizeInterview()
    } catch {
        t.check(false, "safety: finalize")
    }
    var sealedType: UInt8 = 0
    if let id, let store = c.mountedStore {
        var buffer = [UInt8](repeating: 0, count: 1024)
        buffer.withUnsafeMutableBytes { b in
            do throws(StoreError) { _ = try store.read(id, into: b) } catch {}
        }
        sealedType = buffer[0]
    }
    t.check(sealedType == 1, "safety: finished interview sealed into the store")
    linkChecks(&t, c)

    c.lock()
    t.check(unlock(c, "1357") == .unlocked && c.state == .decoyOnly, "safety: duress PIN opens the decoy")
    var erased = false
    do throws(StoreError) { _ = try Superblock<RAMFlash, ExternSodium>.inspect(flash) } catch { erased = error == .notFormatted }
    t.check(erased, "safety: duress erased the store")
}
