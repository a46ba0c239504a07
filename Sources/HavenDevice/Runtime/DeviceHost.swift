import HavenCore
import HavenSodium

/// The simulated device from power-on: the image, the clock and — once the
/// device is set up — the `DeviceRuntime`. An image without an installed
/// config (and without a development set-up) boots *unprovisioned*: it
/// shows who it is and waits for a config over the link. Installing one
/// (`installConfig`) reboots the runtime on it, as a device restarts its
/// UI after provisioning.
///
/// Front ends (headless, terminal UI, and the link listener) talk to this,
/// not to the runtime directly, so the runtime can be replaced under them.
public final class DeviceHost {
    public let image: DeviceImage
    public let clock: DeviceClock
    public private(set) var runtime: DeviceRuntime?
    /// Accept `debug-scan` (haven-sim --debug-memory-scan).
    public var allowsMemoryScan = false {
        didSet { runtime?.allowsMemoryScan = allowsMemoryScan }
    }
    /// The device id (Docs/config-format.md: HKDF of the device secret),
    /// 32 lowercase hex characters, shown on the unprovisioned screen.
    public let deviceIDHex: [UInt8]
    private var notice: String?

    /// `setup`: the development set-up, or nil to boot on the installed
    /// config (or unprovisioned when there is none).
    public init(image: DeviceImage, setup: DeviceSetup? = nil, clock: DeviceClock = DeviceClock())
        throws(DeviceRuntimeError) {
        self.image = image
        self.clock = clock
        deviceIDHex = DeviceIdentity<Sodium>.hex(DeviceIdentity<Sodium>.deviceID(secret: image.secret.used))
        if let setup {
            runtime = try DeviceRuntime(image: image, setup: setup, clock: clock)
        } else {
            try reboot()
        }
    }

    /// Whether a config (or a development set-up) is running.
    public var isProvisioned: Bool { runtime != nil }

    /// Rebuilds the runtime from the installed config (none: unprovisioned).
    public func reboot() throws(DeviceRuntimeError) {
        runtime = nil
        guard let installed = try image.installedConfig() else { return }
        let r = try DeviceRuntime(image: image, setup: DeviceSetup(installed: installed), clock: clock)
        r.allowsMemoryScan = allowsMemoryScan
        runtime = r
    }

    /// Installs a config bundle (Docs/config-format.md §6) — what the link's
    /// put-config commit calls — and reboots the runtime on it (the device
    /// is then locked). While the real PIN has the device unlocked, a
    /// bundle with new PINs re-wraps the key slots; locked, it is refused.
    public func installConfig(bundle: UnsafeRawBufferPointer) throws(ConfigError) -> ConfigInstallOutcome {
        let outcome: ConfigInstallOutcome
        if let runtime {
            outcome = try runtime.controller.installConfig(bundle: bundle, area: image.configArea)
        } else {
            outcome = try ConfigInstaller<Sodium>.install(bundle: bundle, area: image.configArea,
                                                          store: image.storeFlash, deviceSecret: image.secret.used)
        }
        // The interview on screen is saved (a checkpoint, keys zeroized)
        // before the runtime it belongs to is replaced.
        runtime?.controller.lock()
        do throws(DeviceRuntimeError) { try reboot() } catch {
            notice = "\(error)"
        }
        return outcome
    }

    // MARK: What the front ends call

    public func apply(_ event: SimEvent) {
        notice = nil
        guard let runtime else {
            if event.kind != .screen && event.kind != .tick { notice = "this device is not set up yet" }
            return
        }
        runtime.apply(event)
    }

    public func reject(_ e: SimEventError) {
        if let runtime { runtime.reject(e) } else { notice = e.description }
    }

    @discardableResult
    public func idleTick() -> QuickExitTrigger? { runtime?.idleTick() }

    public func writeModel(into w: inout JSONLineWriter) {
        if let runtime {
            runtime.writeModel(into: &w)
            return
        }
        w.beginObject()
        w.key("kind")
        w.string(ScreenModel.Kind.unprovisioned.rawValue)
        w.key("deviceId")
        deviceIDHex.withUnsafeBytes { w.string($0) }
        w.key("notice")
        if notice != nil { w.string(ScreenModel.Notice.refused.rawValue) } else { w.null() }
        w.key("error")
        if let notice { w.string(notice) } else { w.null() }
        w.key("buttons")
        w.beginArray()
        w.endArray()
        w.endObject()
        w.newline()
    }
}
