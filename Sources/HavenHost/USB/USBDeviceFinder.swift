// USBDeviceFinder: the Haven devices attached over USB (for `haven devices`).

import CLibUSB

/// One attached Haven device as USB shows it, before any link traffic.
public struct USBDeviceInfo: Sendable, Equatable {
    /// USB bus and device address (as in `lsusb`); together they name the
    /// device until it is unplugged.
    public let bus: UInt8
    public let address: UInt8
    public let vendorID: UInt16
    public let productID: UInt16
    /// The iSerialNumber string; nil when it could not be read (see
    /// `openError`) or the device has none.
    public let serial: String?
    /// The iProduct string, when readable.
    public let product: String?
    /// Why the device could not be opened to read its strings (typically
    /// `.permissionDenied` without the udev rule); nil when it opened.
    public let openError: TransportError?

    /// "usb:001/004", the transport name used in messages and tables.
    public var name: String { USBDeviceInfo.name(bus: bus, address: address) }

    static func name(bus: UInt8, address: UInt8) -> String {
        "usb:" + threeDigits(bus) + "/" + threeDigits(address)
    }
}

/// Lists attached USB devices with a given VID:PID (Haven's by default).
public struct USBDeviceFinder: Sendable {
    public let vendorID: UInt16
    public let productID: UInt16

    public init(vendorID: UInt16 = HavenUSBIdentity.vendorID, productID: UInt16 = HavenUSBIdentity.productID) {
        self.vendorID = vendorID
        self.productID = productID
    }

    /// "1209:4856", for messages.
    public var idText: String { hex4(vendorID) + ":" + hex4(productID) }

    /// The matching devices, ordered by bus and address. Opens each briefly
    /// to read its serial and product strings; a device that cannot be
    /// opened is still listed, with `openError` saying why.
    public func devices() throws(TransportError) -> [USBDeviceInfo] {
        let context = try USBContext()
        let found = try context.withDeviceList { (list) throws(TransportError) -> [USBDeviceInfo] in
            var found: [USBDeviceInfo] = []
            for device in list where matches(device) {
                found.append(describe(device))
            }
            return found
        }
        return found.sorted { ($0.bus, $0.address) < ($1.bus, $1.address) }
    }

    /// The one device to use: the one with `serial` when given, otherwise
    /// the only one attached. Throws `.noDevice` when there is none (or
    /// none with that serial) and when several are attached and no serial
    /// chooses between them.
    public func device(serial: String? = nil) throws(TransportError) -> USBDeviceInfo {
        let all = try devices()
        if let serial {
            guard let match = all.first(where: { $0.serial == serial }) else {
                throw .noDevice(
                    "no Haven device with serial \(serial) is attached over USB (\(all.count) other Haven device(s) found)")
            }
            return match
        }
        guard let first = all.first else { throw noDeviceError() }
        guard all.count == 1 else {
            let names = all.map { $0.serial ?? $0.name }.joined(separator: ", ")
            throw .noDevice("\(all.count) Haven devices are attached (\(names)); choose one by serial")
        }
        return first
    }

    /// The error for an empty bus, with what to check.
    public func noDeviceError() -> TransportError {
        .noDevice(
            "no Haven device (USB \(idText)) is attached; plug the tablet in with a data cable, unlock it, and check that `lsusb -d \(idText)` lists it")
    }

    func matches(_ device: OpaquePointer) -> Bool {
        var descriptor = libusb_device_descriptor()
        guard libusb_get_device_descriptor(device, &descriptor) == 0 else { return false }
        return descriptor.idVendor == vendorID && descriptor.idProduct == productID
    }

    private func describe(_ device: OpaquePointer) -> USBDeviceInfo {
        var descriptor = libusb_device_descriptor()
        _ = libusb_get_device_descriptor(device, &descriptor)
        let bus = libusb_get_bus_number(device)
        let address = libusb_get_device_address(device)
        let name = USBDeviceInfo.name(bus: bus, address: address)
        var handle: OpaquePointer?
        let status = libusb_open(device, &handle)
        var serial: String?
        var product: String?
        var openError: TransportError?
        if status == 0, let handle {
            serial = readString(handle, index: descriptor.iSerialNumber)
            product = readString(handle, index: descriptor.iProduct)
            libusb_close(handle)
        } else {
            openError = .libusb(status, "opening", device: name)
        }
        return USBDeviceInfo(
            bus: bus, address: address, vendorID: descriptor.idVendor, productID: descriptor.idProduct,
            serial: serial, product: product, openError: openError)
    }
}

/// An ASCII string descriptor, or nil (index 0, unreadable, not ASCII).
func readString(_ handle: OpaquePointer, index: UInt8) -> String? {
    guard index != 0 else { return nil }
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = buffer.withUnsafeMutableBufferPointer { pointer in
        libusb_get_string_descriptor_ascii(handle, index, pointer.baseAddress, Int32(pointer.count))
    }
    guard count > 0 else { return nil }
    return String(decoding: buffer[0..<Int(count)], as: UTF8.self)
}

private func hex4(_ value: UInt16) -> String {
    let text = String(value, radix: 16)
    return String(repeating: "0", count: max(0, 4 - text.count)) + text
}

private func threeDigits(_ value: UInt8) -> String {
    let text = String(value)
    return String(repeating: "0", count: max(0, 3 - text.count)) + text
}
