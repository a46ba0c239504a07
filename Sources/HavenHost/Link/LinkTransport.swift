// LinkTransport: the byte pipe under the link protocol on the host side.

/// A bidirectional byte pipe to one device: a Unix socket to `haven-sim`,
/// or a pair of USB bulk endpoints through libusb-1.0.
///
/// The link protocol (`Docs/link-protocol.md`) is a stream of self-delimiting
/// frames, so a transport moves bytes, not frames: a read may return part of
/// a frame or several frames, and the frame decoder reassembles them. This is
/// what makes USB packet boundaries (512-byte bulk packets, short packets,
/// zero-length packets) and socket segmentation irrelevant to the protocol.
///
/// Implementations are classes (one open device is one shared resource) and
/// are used from one thread at a time.
public protocol LinkTransport: AnyObject {
    /// A human name for messages and tables ("sim:/tmp/haven.sock",
    /// "usb:001/004").
    var name: String { get }

    /// Writes all of `bytes` or throws. `timeoutMilliseconds` bounds the
    /// whole write (0: no limit).
    func write(_ bytes: UnsafeRawBufferPointer, timeoutMilliseconds: Int) throws(TransportError)

    /// Reads at least one byte into `buffer` and returns how many, waiting at
    /// most `timeoutMilliseconds` (0: no limit). Never returns 0: a closed
    /// peer is `.disconnected`, an expired wait is `.timedOut`.
    func read(into buffer: UnsafeMutableRawBufferPointer, timeoutMilliseconds: Int) throws(TransportError) -> Int

    /// Releases the device (interface, socket). Idempotent.
    func close()
}

/// Why a transport failed, with enough to tell the operator what to do.
public enum TransportError: Error, Equatable, Sendable {
    /// Nothing answered at the address (no device plugged in, no simulator
    /// listening on the socket).
    case noDevice(String)
    /// The OS refused access (USB node permissions: the udev rule in
    /// `Hardware/udev/` is missing; socket file mode).
    case permissionDenied(String)
    /// Another program holds the interface or socket.
    case busy(String)
    /// The peer went away (cable pulled, simulator stopped, socket closed).
    case disconnected(String)
    /// No byte moved within the timeout.
    case timedOut(String)
    /// Any other OS or libusb failure, with its text.
    case io(String)
}

extension TransportError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .noDevice(let s): "no device: \(s)"
        case .permissionDenied(let s): "permission denied: \(s)"
        case .busy(let s): "device busy: \(s)"
        case .disconnected(let s): "device disconnected: \(s)"
        case .timedOut(let s): "timed out: \(s)"
        case .io(let s): "I/O error: \(s)"
        }
    }
}
