// DeviceHostLinkBackend: the link protocol's device operations on a
// simulated (or Linux) device whose runtime is replaced by config installs.

import HavenCore
import HavenSodium

/// The `LinkBackend` of a `DeviceHost`. The host outlives its runtimes: an
/// installed config reboots the runtime, and an unprovisioned device has
/// none. Store operations go to a `StoreLinkBackend` on the current
/// runtime's controller (made again when the runtime changes); identity,
/// the pinned key, config install and time are answered here.
public final class DeviceHostLinkBackend: LinkBackend {
    public typealias Crypto = Sodium
    typealias Store = StoreLinkBackend<FlashPartition<PowerCutFlash>, Sodium, DeviceClock>

    public let host: DeviceHost
    let deviceIDBytes: [UInt8]
    let board: [UInt8]
    let firmware: [UInt8]
    var store: Store?
    weak var storeRuntime: DeviceRuntime?
    /// The installed config's version and pinned key, read at start and
    /// after each install (not on every identify: that would read flash).
    var configVersion: UInt64 = 0
    var pinnedKey: [UInt8]?

    public init(host: DeviceHost, firmwareVersion: String) {
        self.host = host
        deviceIDBytes = DeviceIdentity<Sodium>.deviceID(secret: host.image.secret.used)
        board = Array(host.image.board.name.utf8)
        firmware = Array(firmwareVersion.utf8)
        refreshConfig()
    }

    func refreshConfig() {
        let installed = try? host.image.installedConfig()
        configVersion = installed?.version ?? 0
        pinnedKey = installed?.config.provisioningKey
    }

    /// The store backend of the running runtime, made again after a reboot.
    func current() -> Store? {
        guard let runtime = host.runtime else {
            store = nil
            return nil
        }
        if store == nil || storeRuntime !== runtime {
            store = deviceIDBytes.withUnsafeBytes { id in
                board.withUnsafeBytes { b in
                    firmware.withUnsafeBytes { f in
                        Store(controller: runtime.controller, deviceID: id, boardName: b, firmwareVersion: f)
                    }
                }
            }
            storeRuntime = runtime
        }
        return store
    }

    // MARK: LinkBackend

    public func deviceID(into output: UnsafeMutableRawBufferPointer) {
        deviceIDBytes.withUnsafeBytes { output.copyMemory(from: $0) }
    }

    public func boardName(into output: UnsafeMutableRawBufferPointer) -> Int {
        let n = min(board.count, output.count)
        board.withUnsafeBytes { output.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        return n
    }

    public func firmwareVersion(into output: UnsafeMutableRawBufferPointer) -> Int {
        let n = min(firmware.count, output.count)
        firmware.withUnsafeBytes { output.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        return n
    }

    public func deviceStatus() -> LinkDeviceStatus {
        guard let s = current() else {
            return LinkDeviceStatus(configVersion: configVersion, storeState: .locked, freeBytes: 0, recordsWaiting: 0)
        }
        var status = s.deviceStatus()
        status.configVersion = configVersion
        return status
    }

    public func provisioningKey(into output: UnsafeMutableRawBufferPointer) -> Bool {
        guard let key = pinnedKey, key.count == 32, output.count >= 32 else { return false }
        key.withUnsafeBytes { output.copyMemory(from: $0) }
        return true
    }

    public func installConfig(_ bundle: UnsafeRawBufferPointer, sessionKey: UnsafeRawBufferPointer) throws(LinkFailure) -> UInt64 {
        // A host may only install what its own key signed: on a new device
        // the key it authenticated with is the one the config pins.
        if let split = try? ConfigBundle.split(bundle), let config = try? DeviceConfig.decode(split.config) {
            guard config.provisioningKey.count == sessionKey.count,
                  config.provisioningKey.withUnsafeBytes({ Sodium.constantTimeEqual($0, sessionKey) }) else {
                throw LinkFailure(.configRefused, detail: ConfigRefusal.notTheSessionKey.rawValue)
            }
        }
        do throws(ConfigError) {
            _ = try host.installConfig(bundle: bundle)
        } catch {
            throw LinkFailure(.configRefused, detail: ConfigRefusal(error).rawValue)
        }
        store = nil
        refreshConfig()
        return configVersion
    }

    public func listRecords(after: UInt64, into list: inout RecordListWriter) throws(LinkFailure) {
        guard let s = current() else { throw LinkFailure(.locked) }
        try s.listRecords(after: after, into: &list)
    }

    public func readRecord(_ number: UInt64, offset: UInt32, into output: UnsafeMutableRawBufferPointer)
        throws(LinkFailure) -> (total: UInt32, count: Int) {
        guard let s = current() else { throw LinkFailure(.locked) }
        return try s.readRecord(number, offset: offset, into: output)
    }

    public func acknowledge(_ records: LinkRecordNumbers) throws(LinkFailure) -> Int {
        guard let s = current() else { throw LinkFailure(.locked) }
        return try s.acknowledge(records)
    }

    public func setTime(_ time: LinkCivilTime) throws(LinkFailure) {
        let days = CivilDate.days(year: Int(time.year), month: Int(time.month), day: Int(time.day))
        host.clock.setToday(Int32(days))
    }

    public func cryptoErase() throws(LinkFailure) {
        guard let s = current() else { return }  // nothing stored yet
        try s.cryptoErase()
    }
}
