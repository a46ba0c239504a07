import Glibc
import HavenCore

/// The simulator's power switch: the flash under the store, wrapped so the
/// Nth program or erase since start-up is torn the way real power loss tears
/// it (`FaultInjectingFlash`: a prefix of the units written, one unit
/// partly programmed; an erase not begun, done, or half done) and then the
/// process ends at once with `exitCode`, as a device would stop. Without a
/// cut configured it only passes operations through.
public final class PowerCutFlash: Flash {
    /// Exit status of a simulated power cut (distinct from crashes and errors).
    public static let exitCode: Int32 = 99

    /// Run just before the simulated power cut ends the process: the
    /// terminal UI restores the host's terminal (not the device's business,
    /// but a developer's shell should survive a simulated power cut).
    nonisolated(unsafe) public static var beforePowerOff: (@convention(c) () -> Void)?

    public let file: FileFlash
    let fault: FaultInjectingFlash<FileFlash>

    public var geometry: FlashGeometry { file.geometry }

    /// Program and erase operations so far.
    public var operations: Int { fault.operations }

    /// `cutAt`: the 1-based operation that is torn (nil: never).
    public init(_ file: FileFlash, cutAt: Int?, seed: UInt64) {
        self.file = file
        fault = FaultInjectingFlash(file, powerCutAt: cutAt, seed: seed)
    }

    public func read(block: Int, offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(FlashError) {
        try fault.read(block: block, offset: offset, into: buffer)
    }

    public func program(block: Int, offset: Int, from data: UnsafeRawBufferPointer) throws(FlashError) {
        do throws(FlashError) { try fault.program(block: block, offset: offset, from: data) } catch {
            if fault.powerIsLost { powerOff() }
            throw error
        }
    }

    public func erase(block: Int) throws(FlashError) {
        do throws(FlashError) { try fault.erase(block: block) } catch {
            if fault.powerIsLost { powerOff() }
            throw error
        }
    }

    public func sync() throws(FlashError) {
        try fault.sync()
    }

    /// The torn operation is in the file (the page cache survives the
    /// process); nothing after it runs: no flush of anything else, no
    /// atexit handlers, no terminal restore.
    private func powerOff() -> Never {
        if let hook = PowerCutFlash.beforePowerOff { hook() }
        _exit(Self.exitCode)
    }
}
