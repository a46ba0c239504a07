// ProcessHardening: what the device runtime does to its own process before
// it touches a key: no core dumps, not dumpable/ptrace-able, memory locked.

import Glibc

/// The outcome of `ProcessHardening.apply`, with a warning per measure that
/// could not be taken (the runtime prints them; they never contain secrets).
public struct HardeningReport: Equatable, Sendable {
    /// RLIMIT_CORE is 0 (soft and hard): no core file with key material.
    public var coreDumpsDisabled: Bool
    /// PR_SET_DUMPABLE 0: no core even via a core_pattern pipe, no ptrace
    /// attach by same-uid processes, /proc/PID/mem root-only.
    public var notDumpable: Bool
    /// mlockall(MCL_CURRENT | MCL_FUTURE) succeeded: keys never reach swap.
    public var memoryLocked: Bool
    public var warnings: [String]
}

/// Process-wide hardening of the device runtime (issue 7: core dumps off,
/// no swap of key material).
public enum ProcessHardening {
    static let prSetDumpable: Int32 = 4
    static let prGetDumpable: Int32 = 3
    static let coreResource = __rlimit_resource_t(RLIMIT_CORE.rawValue)

    /// Applies every measure. `lockMemory: false` skips mlockall (tests
    /// running inside a shared process).
    public static func apply(lockMemory: Bool = true) -> HardeningReport {
        var warnings: [String] = []
        var limit = rlimit(rlim_cur: 0, rlim_max: 0)
        let coreOff = setrlimit(coreResource, &limit) == 0
        if !coreOff { warnings.append("setrlimit(RLIMIT_CORE, 0) failed: " + errorText(errno)) }

        let dumpableOff = prctl(prSetDumpable, 0) == 0
        if !dumpableOff { warnings.append("prctl(PR_SET_DUMPABLE, 0) failed: " + errorText(errno)) }

        var locked = false
        if lockMemory {
            locked = mlockall(MCL_CURRENT | MCL_FUTURE) == 0
            if !locked {
                let code = errno
                let why = code == ENOMEM || code == EPERM
                    ? "RLIMIT_MEMLOCK is too low or the process lacks CAP_IPC_LOCK; set LimitMEMLOCK=infinity in haven-device.service"
                    : "unexpected"
                warnings.append(
                    "WARNING: mlockall failed (" + errorText(code) + "): " + why
                        + "; key material may be written to swap. Run without swap or fix the limit.")
            }
        }
        return HardeningReport(coreDumpsDisabled: coreOff, notDumpable: dumpableOff, memoryLocked: locked, warnings: warnings)
    }

    /// RLIMIT_CORE now (soft, hard).
    public static func coreLimit() -> (soft: UInt64, hard: UInt64) {
        var limit = rlimit()
        _ = getrlimit(coreResource, &limit)
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }

    /// PR_GET_DUMPABLE now (0: not dumpable), nil when prctl is unavailable.
    public static func dumpable() -> Int32? {
        let value = prctl(prGetDumpable, 0)
        return value < 0 ? nil : value
    }

    /// The `VmLck` line of /proc/self/status in KiB (locked memory), nil
    /// when unreadable.
    public static func lockedKiB() -> Int? {
        guard let file = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("VmLck:") {
                return Int(text.dropFirst(6).filter { $0.isNumber })
            }
        }
        return nil
    }

    /// glibc's prctl is variadic, which Swift cannot call; it is looked up
    /// and called with a fixed five-word signature, which is how the Linux
    /// ABIs (x86-64, AArch64, ARM EABI) pass its integer arguments anyway.
    private static func prctl(_ option: Int32, _ argument: UInt) -> Int32 {
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        guard let symbol = dlsym(nil, "prctl") else {
            errno = ENOSYS
            return -1
        }
        return unsafeBitCast(symbol, to: Prctl.self)(option, argument, 0, 0, 0)
    }
}
