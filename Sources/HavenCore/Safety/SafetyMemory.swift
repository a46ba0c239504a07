/// Every buffer the safety layer holds secrets or plaintext in, allocated
/// once when the controller is made and zeroized (with the suite's
/// `zeroize`, which the optimiser may not drop) as soon as each use ends.
///
/// Layout of `keys` (192 bytes): data key [0, 32), checkpoint wrap key
/// [32, 64), interview key [64, 96), scratch for a PIN attempt [96, 192).
/// The first three live exactly as long as the device is unlocked with the
/// real instrument; lock and every quick exit zeroize them.
final class SafetyMemory<C: CryptoSuite> {
    let keys: UnsafeMutableRawBufferPointer
    let deviceSecret: UnsafeMutableRawBufferPointer
    /// A store record being built or read: a checkpoint (state sealed in
    /// place) or a finished interview's sealed record.
    let record: UnsafeMutableRawBufferPointer
    /// A finished interview's answer record before sealing.
    let plain: UnsafeMutableRawBufferPointer

    init(deviceSecret secret: UnsafeRawBufferPointer, recordCapacity: Int, plainCapacity: Int) {
        keys = .allocate(byteCount: 192, alignment: 16)
        keys.fill(0)
        deviceSecret = .allocate(byteCount: max(secret.count, 1), alignment: 16)
        deviceSecret.fill(0)
        deviceSecret.copy(secret, to: 0)
        record = .allocate(byteCount: max(recordCapacity, 1), alignment: 16)
        record.fill(0)
        plain = .allocate(byteCount: max(plainCapacity, 1), alignment: 16)
        plain.fill(0)
    }

    deinit {
        C.zeroize(keys)
        C.zeroize(deviceSecret)
        C.zeroize(record)
        C.zeroize(plain)
        keys.deallocate()
        deviceSecret.deallocate()
        record.deallocate()
        plain.deallocate()
    }

    var dataKey: UnsafeMutableRawBufferPointer { keys.slice(0, 32) }
    var wrapKey: UnsafeMutableRawBufferPointer { keys.slice(32, 32) }
    var interviewKey: UnsafeMutableRawBufferPointer { keys.slice(64, 32) }
    var scratch: UnsafeMutableRawBufferPointer { keys.slice(96, 96) }
    var secret: UnsafeRawBufferPointer { UnsafeRawBufferPointer(deviceSecret) }

    /// Data key, wrap key, interview key and scratch: lock, quick exit.
    func zeroizeSessionKeys() {
        C.zeroize(keys)
    }
}
