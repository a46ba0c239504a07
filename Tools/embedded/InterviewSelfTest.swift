// Embedded self-test of the interview engine: decode an instrument, run an
// interview through every screen kind (questions, a repeat prompt, a
// privacy check, the end), finalize, and refuse a truncated instrument —
// the engine specialised and run in Embedded mode.

fileprivate typealias SelfTestInterview = Interview<FixedClock>

/// Written by the test suite's InstrumentBuilder: text name, integer age
/// (constraint true), select_one ok, add-another repeat child (capacity 3)
/// with a text, sensitive group s with an integer, preload uid; languages
/// en and fr.
fileprivate let instrumentHex: StaticString = "4841564e494e535401000700490400008145e34e000000000000000000000000010000007400000018000000020000008c0000002b01000003000000b70100000c00000004000000c30100004c000000050000000f0200000e000000060000001d0200002800000007000000450200000402000014000000150000001600000000000000080000000000000019000000000000000000000000000000030000000300000003000000060000000200000008000000020000000a000000040000000e000000040000001200000003000000150000000300000018000000020000001a000000030000001d0000000500000022000000050000002700000001000000280000000a0000003200000001000000330000000100000034000000010000003500000001000000360000000a0000004000000008000000480000000a00000052000000090000005b000000020000005d000000020000007965735965736e6f4e6f6e616d654e616d656167654167656f6b4f4b3f6368696c644368696c64634368696c64206e616d6573537151696e7374616e6365494473656c6674657374323032343031303130315465737420666f726d656e66720200000017000000180000000900000002000000020000000400000004000000060000000600000008000000080000000a0000000a0000000c0000000c0000000e0000000e0000001000000010000000120000001200000001000000000000000200080003ff01000000000000000200000000000000000000000200000001000000000000000300000001000000080000000400ffff0500000002000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000ffffffffffffffff00000000ffffffff0500ffff0700000003000000ffffffffffffffffffffffffffffffff00000000ffffffffffffffffffffffff00000000ffffffffffffffff00000000ffffffff0800ffff0900000004000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff0000000000000000ffffffff00000000ffffffff0200ffff0b00000005000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000ffffffffffffffff03000000ffffffff040003000d00000006000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000ffffffffffffffff00000000ffffffff0101ffff0f00000007000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000ffffffffffffffff00000000ffffffff050005001100000008000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000ffffffffffffffff00000000ffffffff0b00ffff13000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000ffffffffffffffff00000000ffffffff"

fileprivate func bytes(fromHex text: StaticString) -> [UInt8] {
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

fileprivate func answerText(_ iv: SelfTestInterview, _ text: StaticString) -> Bool {
    do throws(InterviewError) {
        try iv.answer(text: UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        return true
    } catch {
        return false
    }
}

func interviewChecks(_ t: inout Checker) {
    let file = bytes(fromHex: instrumentHex)
    var instrument: Instrument
    do throws(InstrumentError) {
        instrument = try Instrument(bytes: file)
    } catch {
        t.check(false, "interview: instrument decodes")
        return
    }
    t.check(instrument.nodeCount == 8 && instrument.languageCount == 2, "interview: instrument fields")

    var truncatedRefused = true
    var length = 0
    while length < file.count {
        do throws(InstrumentError) {
            _ = try Instrument(bytes: Array(file[0..<length]))
            truncatedRefused = false
        } catch {}
        length += 1
    }
    t.check(truncatedRefused, "interview: every truncation refused")

    let iv: SelfTestInterview
    do throws(InterviewError) {
        iv = try SelfTestInterview(instrument: instrument, clock: FixedClock(year: 2024, month: 1, day: 1),
                                   randomSeed: 7)
    } catch {
        t.check(false, "interview: starts")
        return
    }
    t.check(iv.position == .question(node: 0, instance: .root), "interview: first question")
    t.check(iv.instanceID.count == 41, "interview: instance id")
    t.check(answerText(iv, "Ana"), "interview: text answer")
    t.check(iv.next() == .moved, "interview: next")
    var ok = true
    do throws(InterviewError) {
        try iv.answer(integer: 33)
        _ = iv.next()
        try iv.answer(choiceAt: 0)
        _ = iv.next()
    } catch {
        ok = false
    }
    t.check(ok && iv.position == .question(node: 4, instance: InstancePath().appending(0)), "interview: into the repeat")
    t.check(answerText(iv, "Kid"), "interview: repeat answer")
    _ = iv.next()
    t.check(iv.screen.kind == .repeatPrompt, "interview: repeat prompt")
    do throws(InterviewError) {
        _ = try iv.choose(yes: false)
    } catch {
        ok = false
    }
    t.check(ok && iv.screen.kind == .privacyCheck && !iv.isInSensitiveSection, "interview: privacy check")
    do throws(InterviewError) {
        _ = try iv.choose(yes: true)
        try iv.answer(integer: 1)
    } catch {
        ok = false
    }
    t.check(ok && iv.isInSensitiveSection, "interview: sensitive section")
    _ = iv.next()
    t.check(iv.screen.kind == .end, "interview: end")
    do throws(InterviewError) {
        let record = try iv.finalize()
        t.check(record.count > 60 && record[0] == 72 && record[1] == 86 && record[2] == 78 && record[3] == 65,
                "interview: record")
    } catch {
        t.check(false, "interview: finalize")
    }
    iv.wipe()
    t.check(iv.isClosed && iv.next() == .atBoundary, "interview: wiped")
}
