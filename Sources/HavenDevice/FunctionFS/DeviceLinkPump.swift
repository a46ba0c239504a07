// DeviceLinkPump: what the USB transport feeds (the link server, or echo).

/// The consumer of the host's bytes on the device: the link server
/// (HavenCore/Link `LinkServer` wrapped by the device runtime) or, for
/// diagnostics, `EchoPump`.
///
/// The transport moves bytes, not frames; the pump reassembles frames and
/// answers through `send`. Generic use only (`FunctionFSDeviceLoop.run`).
public protocol DeviceLinkPump: AnyObject {
    /// Consumes `received` (any part of the stream) and writes response
    /// bytes, if any, with `send` (which blocks until the host took them).
    func pump(
        _ received: UnsafeRawBufferPointer,
        send: (UnsafeRawBufferPointer) throws(FunctionFSError) -> Void
    ) throws(FunctionFSError)

    /// The host session ended (cable pulled, host reset, unbind): drop
    /// partial frames and the session's authentication; the next bytes
    /// start a new session.
    func reset()
}

/// Sends every byte back: the kernel-path check of `haven-device --echo`
/// against `haven usb-probe --echo-bytes N`.
public final class EchoPump: DeviceLinkPump {
    /// Bytes echoed since start and sessions reset, for diagnostics.
    public private(set) var echoed = 0
    public private(set) var resets = 0

    public init() {}

    public func pump(
        _ received: UnsafeRawBufferPointer,
        send: (UnsafeRawBufferPointer) throws(FunctionFSError) -> Void
    ) throws(FunctionFSError) {
        try send(received)
        echoed += received.count
    }

    public func reset() { resets += 1 }
}
