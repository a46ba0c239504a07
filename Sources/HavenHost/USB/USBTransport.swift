// USBTransport: the link protocol's byte pipe over two USB bulk endpoints.

import CLibUSB
import Glibc

/// A `LinkTransport` over libusb-1.0: bulk OUT 0x01 carries host bytes to
/// the device, bulk IN 0x81 carries the device's bytes back
/// (`Hardware/usb/README.md`).
///
/// USB moves packets (512 bytes at high speed, 64 at full speed) and ends a
/// transfer with a short packet. The link protocol is a byte stream, so:
/// - a write whose length is a multiple of the packet size is followed by
///   a zero-length packet, so the device's read of that transfer ends there
///   instead of waiting for more;
/// - a read asks for a whole number of packets (never fewer bytes than the
///   device may send in one packet, which would be an overflow) and keeps
///   what the caller's buffer cannot take for the next read.
public final class USBTransport: LinkTransport {
    public let name: String
    /// wMaxPacketSize of the bulk OUT endpoint at the current speed (512 at
    /// high speed, 64 at full speed).
    public let maxPacketSize: Int
    /// wMaxPacketSize of the bulk IN endpoint (reads ask for multiples).
    private let inPacketSize: Int
    /// Bulk endpoint addresses from the interface descriptor (0x01/0x81
    /// asked for; the device controller may renumber them).
    private let outEndpoint: UInt8
    private let inEndpoint: UInt8
    /// The device this transport opened.
    public let device: USBDeviceInfo

    private let context: USBContext
    private var handle: OpaquePointer?
    /// Bytes read from the device that the caller has not taken yet.
    private var staging: [UInt8]
    private var stagedStart = 0
    private var stagedEnd = 0

    /// Bytes asked for per bulk IN transfer when reading through the
    /// staging buffer: 32 high-speed packets, 256 full-speed ones.
    static let stagingBytes = 16384

    /// Opens `device` (from `USBDeviceFinder`) and claims its Haven
    /// interface. Errors: `.noDevice` (gone since it was listed),
    /// `.permissionDenied` (no udev rule), `.busy` (claimed elsewhere).
    public init(device: USBDeviceInfo) throws(TransportError) {
        self.device = device
        name = device.name
        context = try USBContext()
        let finder = USBDeviceFinder(vendorID: device.vendorID, productID: device.productID)
        let name = self.name
        let opened = try context.withDeviceList { (list) throws(TransportError) -> (OpaquePointer, HavenInterface) in
            guard
                let match = list.first(where: {
                    finder.matches($0) && libusb_get_bus_number($0) == device.bus
                        && libusb_get_device_address($0) == device.address
                })
            else {
                throw .noDevice("\(name) (USB \(finder.idText)) is no longer attached; plug it in again")
            }
            let interface = try HavenInterface(device: match, name: name)
            var handle: OpaquePointer?
            let status = libusb_open(match, &handle)
            guard status == 0, let handle else { throw .libusb(status, "opening", device: name) }
            return (handle, interface)
        }
        handle = opened.0
        maxPacketSize = opened.1.outPacketSize
        inPacketSize = opened.1.inPacketSize
        outEndpoint = opened.1.outAddress
        inEndpoint = opened.1.inAddress
        staging = [UInt8](repeating: 0, count: USBTransport.stagingBytes)

        // No kernel driver binds a vendor-class interface with Haven's
        // VID:PID, so there is nothing to detach: a claim that fails means
        // another program holds it (`.busy`), which the operator should see.
        let status = libusb_claim_interface(opened.0, HavenUSBIdentity.interfaceNumber)
        if status != 0 {
            libusb_close(opened.0)
            handle = nil
            throw .libusb(status, "claiming the Haven interface of", device: name)
        }
    }

    /// Opens the Haven device with `serial`, or the only one attached.
    public convenience init(serial: String? = nil, finder: USBDeviceFinder = USBDeviceFinder()) throws(TransportError) {
        let device = try finder.device(serial: serial)
        if let problem = device.openError { throw problem }
        try self.init(device: device)
    }

    deinit { close() }

    /// Writes all of `bytes` (then a zero-length packet when the length is a
    /// multiple of the packet size). After a `.timedOut` part of the bytes
    /// may have reached the device, so the byte stream is out of step:
    /// close the transport and open it again.
    public func write(_ bytes: UnsafeRawBufferPointer, timeoutMilliseconds: Int) throws(TransportError) {
        guard let handle else { throw closedError() }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let deadline = Deadline(milliseconds: timeoutMilliseconds)
        let data = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self))
        var offset = 0
        while offset < bytes.count {
            // libusb takes an Int32 length; 1 MiB at a time is plenty.
            let length = min(bytes.count - offset, 1 << 20)
            let moved = try bulk(handle, outEndpoint, data + offset, length, deadline, "writing to")
            offset += moved
        }
        if bytes.count % maxPacketSize == 0 {
            // Zero-length packet: ends the transfer at a packet boundary.
            _ = try bulk(handle, outEndpoint, data, 0, deadline, "writing to")
        }
    }

    /// Reads what the device sent, at least one byte: whole packets straight
    /// into `buffer` when it holds at least one, else through the staging
    /// buffer, whose rest later reads return first.
    public func read(into buffer: UnsafeMutableRawBufferPointer, timeoutMilliseconds: Int) throws(TransportError) -> Int {
        guard let handle else { throw closedError() }
        guard let base = buffer.baseAddress, buffer.count > 0 else {
            throw .io("reading from \(name): empty buffer")
        }
        if stagedStart < stagedEnd { return takeStaged(into: buffer) }
        let deadline = Deadline(milliseconds: timeoutMilliseconds)
        while true {
            // A buffer that holds whole packets is read into directly;
            // a smaller one goes through the staging buffer.
            let direct = buffer.count / inPacketSize * inPacketSize
            if direct > 0 {
                let moved = try bulk(
                    handle, inEndpoint, base.assumingMemoryBound(to: UInt8.self),
                    min(direct, 1 << 20), deadline, "reading from")
                if moved > 0 { return moved }
            } else {
                let moved = try staging.withUnsafeMutableBufferPointer { (pointer) throws(TransportError) -> Int in
                    try bulk(
                        handle, inEndpoint, pointer.baseAddress!, pointer.count, deadline,
                        "reading from")
                }
                if moved > 0 {
                    stagedStart = 0
                    stagedEnd = moved
                    return takeStaged(into: buffer)
                }
            }
            // A zero-length packet carries no bytes: wait for the next one.
        }
    }

    public func close() {
        guard let handle else { return }
        _ = libusb_release_interface(handle, HavenUSBIdentity.interfaceNumber)
        libusb_close(handle)
        self.handle = nil
        stagedStart = 0
        stagedEnd = 0
    }

    /// One libusb bulk transfer; returns the bytes moved. A timeout that
    /// moved some bytes of a read counts as data (the stream continues).
    private func bulk(
        _ handle: OpaquePointer, _ endpoint: UInt8, _ data: UnsafeMutablePointer<UInt8>, _ length: Int,
        _ deadline: Deadline, _ operation: String
    ) throws(TransportError) -> Int {
        guard let timeout = deadline.remainingMilliseconds() else {
            throw .timedOut("\(operation) \(name): nothing moved in \(deadline.milliseconds) ms")
        }
        var transferred: Int32 = 0
        let status = libusb_bulk_transfer(handle, endpoint, data, Int32(length), &transferred, timeout)
        if status == 0 { return Int(transferred) }
        if status == LIBUSB_ERROR_TIMEOUT.rawValue {
            if transferred > 0 && endpoint & 0x80 != 0 { return Int(transferred) }
            throw .timedOut(
                "\(operation) \(name): the device did not take or send bytes within \(deadline.milliseconds) ms"
                    + (transferred > 0 ? " (\(transferred) bytes of this transfer moved)" : ""))
        }
        let what = operation == "writing to" ? "a write" : "a read"
        // A cable pulled mid-transfer often surfaces as a generic I/O error
        // (the transfer dies before the hub reports the removal): if the
        // device is no longer on the bus, say it was unplugged.
        if status != LIBUSB_ERROR_NO_DEVICE.rawValue && !isStillAttached() {
            throw .libusb(LIBUSB_ERROR_NO_DEVICE.rawValue, what, device: name)
        }
        throw .libusb(status, what, device: name)
    }

    /// Whether a device with this bus and address is still enumerated,
    /// looked at for up to 500 ms: the hub reports a removal a moment after
    /// the transfer that died with it.
    private func isStillAttached() -> Bool {
        let finder = USBDeviceFinder(vendorID: device.vendorID, productID: device.productID)
        for attempt in 0..<10 {
            guard let devices = try? finder.devices() else { return false }
            if !devices.contains(where: { $0.bus == device.bus && $0.address == device.address }) { return false }
            if attempt < 9 { usleep(50_000) }
        }
        return true
    }

    private func takeStaged(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(buffer.count, stagedEnd - stagedStart)
        staging.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + stagedStart, byteCount: count)
        }
        stagedStart += count
        return count
    }

    private func closedError() -> TransportError {
        .io("\(name) is closed")
    }
}

/// A time limit for a whole write or read (0 milliseconds: none).
struct Deadline {
    let milliseconds: Int
    private let end: ContinuousClock.Instant?

    init(milliseconds: Int) {
        self.milliseconds = milliseconds
        end = milliseconds > 0 ? ContinuousClock.now.advanced(by: .milliseconds(milliseconds)) : nil
    }

    /// libusb's timeout for the next transfer (0 = none), or nil when the
    /// time is up.
    func remainingMilliseconds() -> UInt32? {
        guard let end else { return 0 }
        let left = ContinuousClock.now.duration(to: end)
        let parts = left.components
        let milliseconds = parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000
        guard milliseconds > 0 else { return nil }
        return UInt32(clamping: milliseconds)
    }
}
