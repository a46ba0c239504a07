// USBInterfaceCheck: refuse a device whose interface is not Haven's link v1.

import CLibUSB

/// The Haven interface as a device's active configuration describes it.
struct HavenInterface {
    /// wMaxPacketSize of bulk OUT 0x01 and bulk IN 0x81 at the current speed.
    let outPacketSize: Int
    let inPacketSize: Int
    /// Addresses of the bulk OUT and bulk IN endpoints. The device asks for
    /// 0x01 and 0x81, but on Linux FunctionFS the device controller's
    /// endpoint allocation decides (dummy_hcd gives OUT 0x02), so the host
    /// takes them from the descriptors like any USB host should.
    let outAddress: UInt8
    let inAddress: UInt8

    /// Reads `device`'s active configuration and checks interface 0: vendor
    /// class 0xFF, subclass 0x48, protocol 1 (link protocol version 1), bulk
    /// OUT and bulk IN, found by direction (Hardware/usb/README.md). A device with
    /// another protocol version is refused rather than guessed at.
    init(device: OpaquePointer, name: String) throws(TransportError) {
        var config: UnsafeMutablePointer<libusb_config_descriptor>?
        let status = libusb_get_active_config_descriptor(device, &config)
        guard status == 0, let config else { throw .libusb(status, "reading the configuration of", device: name) }
        defer { libusb_free_config_descriptor(config) }

        var found: libusb_interface_descriptor?
        for index in 0..<Int(config.pointee.bNumInterfaces) {
            let interface = config.pointee.interface[index]
            guard interface.num_altsetting > 0 else { continue }
            let setting = interface.altsetting[0]
            if Int32(setting.bInterfaceNumber) == HavenUSBIdentity.interfaceNumber { found = setting }
        }
        guard let setting = found, setting.bInterfaceClass == HavenUSBIdentity.interfaceClass,
            setting.bInterfaceSubClass == HavenUSBIdentity.interfaceSubclass
        else {
            throw .noDevice(
                "\(name) has Haven's USB id but not the Haven interface (vendor class 0xFF, subclass 0x48); is it running Haven firmware?")
        }
        guard setting.bInterfaceProtocol == HavenUSBIdentity.interfaceProtocol else {
            throw .io(
                "\(name) speaks link protocol version \(setting.bInterfaceProtocol), this haven speaks version \(HavenUSBIdentity.interfaceProtocol): update haven or the device's firmware so they match")
        }
        var outPacket = 0
        var inPacket = 0
        var outEndpoint: UInt8 = 0
        var inEndpoint: UInt8 = 0
        for index in 0..<Int(setting.bNumEndpoints) {
            let endpoint = setting.endpoint[index]
            let isBulk = endpoint.bmAttributes & 0x03 == UInt8(LIBUSB_TRANSFER_TYPE_BULK.rawValue)
            let size = Int(endpoint.wMaxPacketSize & 0x07FF)
            let isIn = endpoint.bEndpointAddress & 0x80 != 0
            if isBulk && !isIn && outPacket == 0 {
                outPacket = size
                outEndpoint = endpoint.bEndpointAddress
            }
            if isBulk && isIn && inPacket == 0 {
                inPacket = size
                inEndpoint = endpoint.bEndpointAddress
            }
        }
        // Bulk packets are 8, 16, 32, 64, 512 or 1024 bytes: all divide the
        // transport's 16 KiB staging buffer.
        guard outPacket > 0, inPacket > 0, USBTransport.stagingBytes % inPacket == 0 else {
            throw .noDevice(
                "\(name) lacks Haven's bulk OUT and bulk IN endpoints (or has odd packet sizes); is it running Haven firmware?")
        }
        outPacketSize = outPacket
        inPacketSize = inPacket
        outAddress = outEndpoint
        inAddress = inEndpoint
    }
}
