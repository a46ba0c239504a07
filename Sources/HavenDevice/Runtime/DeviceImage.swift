import Glibc
import HavenCore
import HavenSodium

/// The device's persistent parts: the flash image (a file that outlives the
/// process: a restart is a reboot; on a Linux board a raw partition or MTD
/// block device) behind the power switch, and the device secret (default
/// `<image>.secret`; 0600, 32 CSPRNG bytes made at the first start; on
/// hardware a secure element unseals it). Holds an exclusive lock on the
/// secret file so two runtimes never share one image.
///
/// A block device always exists, so "new" cannot mean "the image file was
/// just created": there, a missing secret is refused unless `initialize`
/// is set, which erases the whole partition (0xFF) before the new secret
/// is used — a store written under another secret is never half-reused.
public final class DeviceImage {
    public let path: String
    public let board: BoardProfile
    /// The whole part, behind the power switch.
    public let flash: PowerCutFlash
    /// The log store's partition: every block but the last 2k.
    public let storeFlash: FlashPartition<PowerCutFlash>
    /// The config area (the last 2k blocks: slots A and B), encrypted at
    /// rest under the device secret (Docs/config-format.md §5).
    public let configArea: ConfigArea<FlashPartition<PowerCutFlash>, Sodium>
    /// The 32-byte device secret, zeroized when the image is closed.
    public let secret: SecretBuffer
    /// The image file did not exist before this start (a new device).
    public let isNew: Bool
    private var lockFD: Int32

    public static let secretSize = 32

    /// The device secret's path.
    public let secretPath: String

    /// `powerCutAt`: tear the Nth flash program/erase and exit (see `PowerCutFlash`).
    /// `secretPath`: default `<path>.secret`. `initialize`: a block device
    /// without a secret is erased and gets a new one (first start of a board).
    public init(path: String, board: BoardProfile, powerCutAt: Int? = nil,
                secretPath: String? = nil, initialize: Bool = false) throws(DeviceRuntimeError) {
        self.path = path
        self.board = board
        let geometry: FlashGeometry
        do { geometry = try board.geometry() } catch { throw .board("\(error)") }
        var info = stat()
        let isBlockDevice = stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFBLK
        let secretPath = secretPath ?? path + ".secret"
        self.secretPath = secretPath
        secret = SecretBuffer(capacity: Self.secretSize)
        let existed = access(secretPath, F_OK) == 0
        if isBlockDevice && !existed && !initialize {
            throw .secret(path: secretPath, reason: "missing for the block device \(path); on the first start of a board "
                + "run haven-device --initialize once (it erases the partition)")
        }
        isNew = isBlockDevice ? !existed : access(path, F_OK) != 0
        lockFD = try Self.openSecretFD(secretPath, into: secret)
        // A secret made now for an image that already existed could never
        // open its store: refuse rather than lock the enumerator out.
        if !existed && !isNew {
            _ = unlink(secretPath)
            _ = close(lockFD)
            throw .secret(path: secretPath, reason: "missing, but the image \(path) exists (its store needs the old secret)")
        }
        let file: FileFlash
        do {
            file = try FileFlash(path: path, geometry: geometry, create: true)
        } catch {
            _ = close(lockFD)
            throw .image("\(error)")
        }
        if isBlockDevice && isNew {
            do throws(FlashError) {
                for block in 0..<geometry.blockCount { try file.erase(block: block) }
            } catch {
                _ = close(lockFD)
                _ = unlink(secretPath)
                throw .image("erasing \(path) for a new device: \(error)")
            }
        }
        var seed: UInt64 = 0
        withUnsafeMutableBytes(of: &seed) { Sodium.randomBytes($0) }
        flash = PowerCutFlash(file, cutAt: powerCutAt, seed: seed)
        let parts: (store: FlashPartition<PowerCutFlash>, config: FlashPartition<PowerCutFlash>)
        do throws(FlashError) { parts = try ConfigLayout.split(flash) } catch {
            _ = close(lockFD)
            throw .image("flash too small for a config area and a store: \(error)")
        }
        storeFlash = parts.store
        do throws(ConfigError) { configArea = try ConfigArea(flash: parts.config, deviceSecret: secret.used) } catch {
            _ = close(lockFD)
            throw .image("config area: \(error)")
        }
    }

    /// The installed config, verified and decrypted (nil: none installed yet).
    public func installedConfig() throws(DeviceRuntimeError) -> InstalledConfig? {
        do throws(ConfigError) { return try configArea.load() } catch { throw .config("\(error)") }
    }

    deinit {
        secret.wipe()
        if lockFD >= 0 { _ = close(lockFD) }
    }

    /// Reads the secret, or creates it (O_EXCL, mode 0600, synced) on first
    /// start. Refuses a secret of the wrong size or readable by others, and a
    /// secret another simulator holds locked.
    static func openSecretFD(_ path: String, into secret: SecretBuffer) throws(DeviceRuntimeError) -> Int32 {
        var fd = open(path, O_RDWR | O_CLOEXEC)
        var created = false
        if fd < 0 && errno == ENOENT {
            fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            created = fd >= 0
        }
        guard fd >= 0 else { throw .secret(path: path, reason: String(cString: strerror(errno))) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            _ = close(fd)
            throw .secret(path: path, reason: "another haven-sim or haven-device is running on this image")
        }
        if created {
            Sodium.randomBytes(secret.bytes)
            secret.count = secretSize
            var done = 0
            while done < secretSize {
                let n = pwrite(fd, secret.bytes.baseAddress! + done, secretSize - done, off_t(done))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    _ = close(fd)
                    _ = unlink(path)
                    throw .secret(path: path, reason: "cannot write: " + String(cString: strerror(errno)))
                }
                done += n
            }
            _ = fsync(fd)
            return fd
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            _ = close(fd)
            throw .secret(path: path, reason: String(cString: strerror(errno)))
        }
        guard info.st_mode & 0o077 == 0 else {
            _ = close(fd)
            throw .secret(path: path, reason: "readable or writable by group or others (chmod 600 it)")
        }
        guard info.st_size == off_t(secretSize) else {
            _ = close(fd)
            throw .secret(path: path, reason: "is \(info.st_size) bytes, expected \(secretSize)")
        }
        var done = 0
        while done < secretSize {
            let n = pread(fd, secret.bytes.baseAddress! + done, secretSize - done, off_t(done))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                _ = close(fd)
                throw .secret(path: path, reason: "cannot read")
            }
            done += n
        }
        secret.count = secretSize
        return fd
    }
}

/// Why the device runtime could not start.
public enum DeviceRuntimeError: Error, Equatable, CustomStringConvertible {
    case board(String)
    case image(String)
    case secret(path: String, reason: String)
    /// A compiled instrument in the setup was refused; `which` is "instrument" or "decoy".
    case instrument(which: String, reason: String)
    case safety(String)
    case provisioning(String)
    /// The config area could not be read (see Docs/config-format.md).
    case config(String)

    public var description: String {
        switch self {
        case .board(let reason): return "board profile: \(reason)"
        case .image(let reason): return reason
        case .secret(let path, let reason): return "device secret \(path): \(reason)"
        case .instrument(let which, let reason): return "\(which): \(reason)"
        case .safety(let reason): return "safety layer: \(reason)"
        case .provisioning(let reason): return "provisioning: \(reason)"
        case .config(let reason): return "installed config: \(reason)"
        }
    }
}
