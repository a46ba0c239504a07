// USBContext: one libusb-1.0 context, freed with its owner.

import CLibUSB

/// A libusb context. Each finder call and each open transport has its own,
/// so transports to several devices can run on separate threads without
/// sharing libusb state.
final class USBContext {
    let raw: OpaquePointer

    init() throws(TransportError) {
        var context: OpaquePointer?
        let status = libusb_init(&context)
        guard status == 0, let context else {
            throw .io("cannot start libusb-1.0: \(libusbErrorName(status))")
        }
        raw = context
    }

    deinit { libusb_exit(raw) }

    /// The attached devices, referenced until `body` returns.
    func withDeviceList<R>(_ body: ([OpaquePointer]) throws(TransportError) -> R) throws(TransportError) -> R {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = libusb_get_device_list(raw, &list)
        guard count >= 0, let list else {
            throw .io("cannot list USB devices: \(libusbErrorName(Int32(truncatingIfNeeded: count)))")
        }
        defer { libusb_free_device_list(list, 1) }
        var devices: [OpaquePointer] = []
        for index in 0..<count {
            if let device = list[index] { devices.append(device) }
        }
        return try body(devices)
    }
}
