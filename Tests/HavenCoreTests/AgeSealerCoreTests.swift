import CAllocCounter
import HavenCore
import HavenSodium
import Testing

/// The device side of sealing: sizes, structure, errors and the no-heap
/// rule. Round trips through the host decryptor and the `age` CLI are in
/// HavenHostTests (AgeSealerRoundTripTests, AgeCLITests).
@Suite struct AgeSealerCoreTests {
    typealias Sealer = AgeSealer<Sodium>

    static func recipients(_ n: Int) -> [UInt8] {
        var keys: [UInt8] = []
        for _ in 0..<n { keys += Sodium.x25519KeyPair().publicKey }
        return keys
    }

    static func seal(_ plaintext: [UInt8], _ keys: [UInt8], capacity: Int? = nil) -> Result<[UInt8], SealError> {
        var out = [UInt8](repeating: 0xAA, count: capacity ?? Sealer.sealedSize(
            plaintextCount: plaintext.count, recipientCount: keys.count / 32))
        let r: Result<Int, SealError> = plaintext.withUnsafeBytes { p in
            keys.withUnsafeBytes { k in
                out.withUnsafeMutableBytes { o in
                    Result { () throws(SealError) -> Int in try Sealer.seal(plaintext: p, recipients: k, output: o) }
                }
            }
        }
        return r.map { Array(out[0..<$0]) }
    }

    @Test func sealedSizeIsTheFormula() {
        // 22 version line + 98 per stanza + 48 MAC line + 16 nonce + data + 16 per chunk.
        #expect(Sealer.sealedSize(plaintextCount: 0, recipientCount: 1) == 22 + 98 + 48 + 16 + 16)
        #expect(Sealer.sealedSize(plaintextCount: 1, recipientCount: 3) == 22 + 3 * 98 + 48 + 16 + 1 + 16)
        #expect(Sealer.sealedSize(plaintextCount: 65536, recipientCount: 1) == 168 + 16 + 65536 + 16)
        #expect(Sealer.sealedSize(plaintextCount: 65537, recipientCount: 1) == 168 + 16 + 65537 + 32)
        #expect(Sealer.sealedSize(plaintextCount: 2 * 65536, recipientCount: 1) == 168 + 16 + 2 * 65536 + 32)
        #expect(AgeV1.chunkCount(plaintextCount: 0) == 1)
        #expect(AgeV1.chunkCount(plaintextCount: 65536) == 1)
        #expect(AgeV1.chunkCount(plaintextCount: 65537) == 2)
    }

    @Test(arguments: [0, 1, 1000, 65536, 65537, 2 * 65536, 200_000])
    func sealedSizeIsExactAndTheHeaderIsWellFormed(_ size: Int) throws {
        let keys = Self.recipients(3)
        let plaintext = [UInt8](repeating: 0x42, count: size)
        let sealed = try Self.seal(plaintext, keys).get()
        #expect(sealed.count == Sealer.sealedSize(plaintextCount: size, recipientCount: 3))
        // A bigger buffer: same byte count written.
        let roomy = try Self.seal(plaintext, keys, capacity: sealed.count + 100).get()
        #expect(roomy.count == sealed.count)

        let headerEnd = AgeV1.headerSize(recipientCount: 3)
        let lines = sealed[0..<headerEnd].split(separator: 0x0A, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        #expect(lines.count == 1 + 3 * 2 + 1 + 1)  // last is the empty tail after the MAC line's LF
        #expect(lines[0] == "age-encryption.org/v1")
        for i in 0..<3 {
            #expect(lines[1 + 2 * i].hasPrefix("-> X25519 ") && lines[1 + 2 * i].count == 10 + 43)
            #expect(lines[2 + 2 * i].count == 43)
        }
        #expect(lines[7].hasPrefix("--- ") && lines[7].count == 47)
        // A fresh ephemeral share per stanza.
        #expect(Set([lines[1], lines[3], lines[5]]).count == 3)
        // The plaintext never appears in the clear (well, not 16 bytes of it).
        if size >= 16 {
            #expect(!sealed.indices.dropLast(15).contains { sealed[$0..<($0 + 16)].allSatisfy { $0 == 0x42 } })
        }
    }

    @Test func twoSealsOfTheSameRecordDiffer() throws {
        let keys = Self.recipients(1)
        let a = try Self.seal([1, 2, 3], keys).get(), b = try Self.seal([1, 2, 3], keys).get()
        #expect(a.count == b.count && a != b)
    }

    @Test func errors() {
        let one = Self.recipients(1)
        #expect(throws: SealError.noRecipients) { try Self.seal([1], []).get() }
        let needed = Sealer.sealedSize(plaintextCount: 10, recipientCount: 1)
        #expect(throws: SealError.bufferTooSmall(needed: needed)) {
            try Self.seal([UInt8](repeating: 1, count: 10), one, capacity: needed - 1).get()
        }
        // A list that is not a whole number of keys: index of the partial key.
        #expect(throws: SealError.invalidRecipient(index: 1)) { try Self.seal([1], one + [7, 7, 7]).get() }
        // Low-order points give an all-zero shared secret: all zeros, and
        // the order-8 point from RFC 7748's list.
        let zero = [UInt8](repeating: 0, count: 32)
        #expect(throws: SealError.invalidRecipient(index: 0)) { try Self.seal([1], zero).get() }
        var order8: [UInt8] = [0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f,
                               0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16,
                               0x5f, 0x49, 0xb8, 0x00]
        #expect(throws: SealError.invalidRecipient(index: 2)) { try Self.seal([1], one + one + order8).get() }
        order8[0] ^= 1
        #expect((try? Self.seal([1], order8).get()) != nil)  // no longer low order
    }

    @Test func aFailedSealLeavesNoHeaderBehind() {
        let keys = Self.recipients(1) + [UInt8](repeating: 0, count: 32)
        var out = [UInt8](repeating: 0xAA, count: Sealer.sealedSize(plaintextCount: 5, recipientCount: 2))
        let plaintext: [UInt8] = [1, 2, 3, 4, 5]
        let r: Result<Int, SealError> = plaintext.withUnsafeBytes { p in
            keys.withUnsafeBytes { k in
                out.withUnsafeMutableBytes { o in
                    Result { () throws(SealError) -> Int in try Sealer.seal(plaintext: p, recipients: k, output: o) }
                }
            }
        }
        #expect(throws: SealError.invalidRecipient(index: 1)) { try r.get() }
        let written = 22 + 98  // version line and the first stanza
        #expect(out[0..<written].allSatisfy { $0 == 0 })
        #expect(out[written...].allSatisfy { $0 == 0xAA })
    }

    /// Sealing runs on the device after every finished interview: no heap.
    @Test func sealingAllocatesNothing() throws {
        let keys = Self.recipients(3)
        let plaintext = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var out = [UInt8](repeating: 0, count: Sealer.sealedSize(plaintextCount: plaintext.count, recipientCount: 3))
        var small = [UInt8](repeating: 0, count: Sealer.sealedSize(plaintextCount: 0, recipientCount: 3))
        var counts: [UInt64] = []
        counts.reserveCapacity(4)
        var failures = 0
        plaintext.withUnsafeBytes { p in
            keys.withUnsafeBytes { k in
                out.withUnsafeMutableBytes { o in
                    small.withUnsafeMutableBytes { s in
                        // Warm up (sodium_init, lazy globals, type metadata).
                        let empty = UnsafeRawBufferPointer(rebasing: p[0..<0])
                        do throws(SealError) {
                            _ = try Sealer.seal(plaintext: p, recipients: k, output: o)
                            _ = try Sealer.seal(plaintext: empty, recipients: k, output: s)
                        } catch {
                            failures += 1
                        }
                        let before = haven_thread_allocations()
                        var round = 0
                        while round < 3 {
                            do throws(SealError) { _ = try Sealer.seal(plaintext: p, recipients: k, output: o) } catch {
                                failures += 1
                            }
                            round += 1
                        }
                        let afterLarge = haven_thread_allocations()
                        do throws(SealError) { _ = try Sealer.seal(plaintext: empty, recipients: k, output: s) } catch {
                            failures += 1
                        }
                        let afterEmpty = haven_thread_allocations()
                        counts.append(afterLarge - before)
                        counts.append(afterEmpty - afterLarge)
                        // (Error paths are not counted: any typed throw allocates in this test
                        // process, where Swift Testing hooks swift_willThrow.)
                    }
                }
            }
        }
        #expect(failures == 0)
        #expect(counts == [0, 0], "allocations while sealing: \(counts)")
    }
}
