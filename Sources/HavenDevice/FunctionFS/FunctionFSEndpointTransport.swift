// FunctionFSEndpointTransport: the device side of the USB link over Linux
// FunctionFS (ep0 events, bulk OUT ep1, bulk IN ep2) as a byte pipe.

import Glibc

/// The host's link session starts or ends (cable plugged/pulled, host reset).
public enum FunctionFSConnectionEvent: Equatable, Sendable {
    /// ENABLE: the host configured the device; bytes may move.
    case connected
    /// DISABLE or UNBIND: the host is gone; the partial session was dropped.
    case disconnected
}

/// How ep0 answered a SETUP request.
public enum FunctionFSSetupAnswer: Equatable, Sendable {
    /// Status stage completed (a zero-length transfer in the request's direction).
    case acknowledged
    /// Protocol stall (a zero-length transfer against the request's direction).
    case stalled
}

/// The files of one FunctionFS mount: ep0 and the two bulk endpoint files.
/// The kernel names those "ep1", "ep2" (in descriptor order) or, with
/// FUNCTIONFS_VIRTUAL_ADDR, by address in hex: "ep01" (bulk OUT 0x01) and
/// "ep81" (bulk IN 0x81).
public struct FunctionFSPaths: Equatable, Sendable {
    public var ep0: String
    public var bulkOut: String
    public var bulkIn: String

    public init(directory: String, descriptors: FunctionFSDescriptors = .haven) {
        ep0 = directory + "/ep0"
        if descriptors.virtualAddresses {
            bulkOut = directory + "/ep" + hex2(descriptors.bulkOutAddress)
            bulkIn = directory + "/ep" + hex2(descriptors.bulkInAddress)
        } else {
            bulkOut = directory + "/ep1"
            bulkIn = directory + "/ep2"
        }
    }
}

private func hex2(_ value: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(value >> 4)], digits[Int(value & 0x0F)]])
}

/// A byte pipe over FunctionFS for the device runtime.
///
/// Life cycle, following the kernel's `Documentation/usb/functionfs.rst`:
/// open ep0, write the descriptors and the strings (each in one write),
/// open ep1/ep2, then read events from ep0. Data moves only between ENABLE
/// and DISABLE; on DISABLE or UNBIND (cable pulled, gadget unbound) the
/// bytes of the old session are dropped and `connectionEvents` reports
/// `.disconnected`, so the link server resets; the next ENABLE reports
/// `.connected` and the pipe resumes with a clean stream.
///
/// Use from one thread: `poll` `pollDescriptors` (or call `step`), call
/// `handleControlEvents()` when ep0 is readable, `receive(into:)` when the
/// data fd is, and `send(_:)` for responses. A bulk OUT reader thread
/// (`FunctionFSOutReader`) feeds the data fd.
public final class FunctionFSEndpointTransport {
    /// True between ENABLE and DISABLE/UNBIND.
    public private(set) var isConnected = false
    /// True between BIND and UNBIND (the gadget is attached to a UDC).
    public private(set) var isBound = false
    /// wMaxPacketSize of bulk IN at the speed the host chose (64 when the
    /// kernel cannot say: then a zero-length packet may follow a write that
    /// did not need one, which the host ignores).
    public private(set) var inPacketSize = 64
    /// Told when a host session starts or ends (called on the caller's thread).
    public var connectionEvents: ((FunctionFSConnectionEvent) -> Void)?
    /// Decides SETUP requests forwarded to the function: true acknowledges
    /// (zero-length status stage), false stalls. Haven defines no control
    /// requests, so the default stalls everything.
    public var acceptsSetup: (FunctionFSSetupRequest) -> Bool = { _ in false }
    /// Told how each SETUP request was answered (diagnostics, tests).
    public var setupAnswered: ((FunctionFSSetupRequest, FunctionFSSetupAnswer) -> Void)?

    private var ep0: Int32
    private var bulkOut: Int32
    private var bulkIn: Int32
    private var reader: FunctionFSOutReader?

    /// Opens the FunctionFS mount at `paths`, writes `descriptors` and
    /// starts the bulk OUT reader.
    public convenience init(paths: FunctionFSPaths, descriptors: FunctionFSDescriptors = .haven) throws(FunctionFSError) {
        let ep0 = open(paths.ep0, O_RDWR | O_CLOEXEC)
        guard ep0 >= 0 else { throw .cannotOpen(path: paths.ep0, errno: errno) }
        do {
            try FunctionFSEndpointTransport.writeBlobs(ep0, descriptors)
        } catch {
            Glibc.close(ep0)
            throw error
        }
        let bulkOut = open(paths.bulkOut, O_RDONLY | O_CLOEXEC)
        guard bulkOut >= 0 else {
            let code = errno
            Glibc.close(ep0)
            throw .cannotOpen(path: paths.bulkOut, errno: code)
        }
        let bulkIn = open(paths.bulkIn, O_WRONLY | O_CLOEXEC)
        guard bulkIn >= 0 else {
            let code = errno
            Glibc.close(ep0)
            Glibc.close(bulkOut)
            throw .cannotOpen(path: paths.bulkIn, errno: code)
        }
        try self.init(ep0: ep0, bulkOut: bulkOut, bulkIn: bulkIn)
    }

    /// Takes ownership of already open endpoint fds whose descriptors were
    /// written (tests pass socketpairs and pipes standing in for the files).
    public init(ep0: Int32, bulkOut: Int32, bulkIn: Int32) throws(FunctionFSError) {
        self.ep0 = ep0
        self.bulkOut = bulkOut
        self.bulkIn = bulkIn
        do {
            reader = try FunctionFSOutReader(endpoint: bulkOut)
        } catch {
            Glibc.close(ep0)
            Glibc.close(bulkOut)
            Glibc.close(bulkIn)
            throw error
        }
    }

    deinit { close() }

    /// Writes the descriptor blob, then the string blob, to ep0 (the
    /// kernel wants each in a single write, in this order).
    public static func writeBlobs(_ ep0: Int32, _ descriptors: FunctionFSDescriptors) throws(FunctionFSError) {
        for (what, blob) in [("descriptors", descriptors.descriptorsBlob), ("strings", descriptors.stringsBlob)] {
            let written = blob.withUnsafeBytes { write(ep0, $0.baseAddress, $0.count) }
            if written != blob.count {
                throw .descriptorsRefused(what: what, errno: written < 0 ? errno : EIO)
            }
        }
    }

    /// The fds to wait on for reading: ep0 (events) and the bulk OUT pipe
    /// (data). Both are level-triggered.
    public var pollDescriptors: [Int32] {
        guard let reader else { return [] }
        return [ep0, reader.pipeRead]
    }

    /// ep0's fd (readable: call `handleControlEvents`).
    public var controlDescriptor: Int32 { ep0 }
    /// The bulk OUT pipe's fd (readable: call `receive`).
    public var dataDescriptor: Int32 { reader?.pipeRead ?? -1 }

    /// Waits up to `timeoutMilliseconds` (-1: forever) for ep0 events or
    /// bulk OUT data, handles the events, and says whether data is waiting.
    public func step(timeoutMilliseconds: Int32) throws(FunctionFSError) -> Bool {
        guard let reader else { throw .closed }
        var fds = [pollfd(fd: ep0, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: reader.pipeRead, events: Int16(POLLIN), revents: 0)]
        let ready = poll(&fds, 2, timeoutMilliseconds)
        if ready < 0 {
            if errno == EINTR { return false }
            throw .io(what: "waiting for ep0 and bulk OUT", errno: errno)
        }
        if fds[0].revents != 0 { try handleControlEvents() }
        return isConnected && fds[1].revents & Int16(POLLIN) != 0
    }

    /// Reads and handles the events waiting on ep0 (call when ep0 polls
    /// readable: the read blocks otherwise). Every event of the read is
    /// handled; an unknown one is reported after the others.
    public func handleControlEvents() throws(FunctionFSError) {
        guard reader != nil else { throw .closed }
        var buffer = [UInt8](repeating: 0, count: 4 * FunctionFSABI.eventSize)
        let count = buffer.withUnsafeMutableBytes { read(ep0, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR || errno == EAGAIN { return }
            throw .io(what: "reading events from ep0", errno: errno)
        }
        var firstError: FunctionFSEventError?
        if count % FunctionFSABI.eventSize != 0 { firstError = .truncated(length: count) }
        var offset = 0
        while offset + FunctionFSABI.eventSize <= count {
            do {
                handle(try FunctionFSEvent.decode(buffer[offset..<(offset + FunctionFSABI.eventSize)], at: offset))
            } catch {
                if firstError == nil { firstError = error }
            }
            offset += FunctionFSABI.eventSize
        }
        if let firstError { throw .badEvent(firstError) }
    }

    /// Handles one event (public so a runtime with its own ep0 reader, and
    /// tests, can feed events).
    public func handle(_ event: FunctionFSEvent) {
        switch event {
        case .bind:
            isBound = true
        case .unbind:
            isBound = false
            endSession()
        case .enable:
            // A second ENABLE without DISABLE (host re-selected the
            // configuration) starts a new session too.
            endSession()
            inPacketSize = currentInPacketSize()
            isConnected = true
            connectionEvents?(.connected)
        case .disable:
            endSession()
        case .setup(let request):
            answer(request)
        case .suspend, .resume:
            // The bus sleeps or wakes; the session and its bytes survive.
            break
        }
    }

    /// Moves bulk OUT bytes into `buffer` without waiting. Returns 0 when
    /// none are waiting or no host is connected.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(FunctionFSError) -> Int {
        guard let reader else { throw .closed }
        guard isConnected, buffer.count > 0 else { return 0 }
        let count = read(reader.pipeRead, buffer.baseAddress, buffer.count)
        if count < 0 {
            if errno == EAGAIN || errno == EINTR { return 0 }
            throw .io(what: "reading the bulk OUT pipe", errno: errno)
        }
        return count
    }

    /// Writes all of `bytes` to bulk IN, then a zero-length packet when the
    /// length is a multiple of the packet size (so the host's read ends).
    /// Blocks until the host took them; throws `.disconnected` when the host
    /// went away meanwhile (ep0 then reports DISABLE).
    public func send(_ bytes: UnsafeRawBufferPointer) throws(FunctionFSError) {
        guard reader != nil else { throw .closed }
        guard isConnected else { throw .disconnected }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var offset = 0
        while offset < bytes.count {
            let written = write(bulkIn, base + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw FunctionFSEndpointTransport.writeError(errno)
            }
            offset += written
        }
        if bytes.count % inPacketSize == 0 {
            while write(bulkIn, base, 0) < 0 {
                if errno != EINTR { throw FunctionFSEndpointTransport.writeError(errno) }
            }
        }
    }

    /// Stops the reader thread and closes the endpoint files (the gadget
    /// then disappears from the host). Idempotent.
    public func close() {
        guard let reader else { return }
        reader.stop()
        self.reader = nil
        Glibc.close(bulkOut)
        Glibc.close(bulkIn)
        Glibc.close(ep0)
        if isConnected {
            isConnected = false
            connectionEvents?(.disconnected)
        }
    }

    private func endSession() {
        reader?.discard()
        guard isConnected else { return }
        isConnected = false
        connectionEvents?(.disconnected)
    }

    private func answer(_ request: FunctionFSSetupRequest) {
        let accepted = acceptsSetup(request)
        // Same direction as the request: status stage; against it: stall
        // (the kernel answers with EL2HLT, which is the expected result).
        let writeZero = request.isDeviceToHost == accepted
        var none: UInt8 = 0
        if writeZero {
            _ = write(ep0, &none, 0)
        } else {
            _ = read(ep0, &none, 0)
        }
        setupAnswered?(request, accepted ? .acknowledged : .stalled)
    }

    /// FUNCTIONFS_ENDPOINT_DESC on ep2: the IN endpoint descriptor at the
    /// current speed; 64 when it fails (stand-in files, old kernels).
    private func currentInPacketSize() -> Int {
        var descriptor = [UInt8](repeating: 0, count: 9)
        let status = descriptor.withUnsafeMutableBytes {
            ioctl(bulkIn, FunctionFSABI.endpointDescriptorIoctl, $0.baseAddress!)
        }
        let size = Int(descriptor[4]) | Int(descriptor[5] & 0x07) << 8
        return status == 0 && size > 0 ? size : 64
    }

    private static func writeError(_ code: Int32) -> FunctionFSError {
        switch code {
        case ESHUTDOWN, ECONNRESET, EPIPE, ENODEV, ECONNABORTED: .disconnected
        default: .io(what: "writing to bulk IN", errno: code)
        }
    }
}
