// FunctionFSDescriptors: the descriptor and string blobs a FunctionFS daemon
// writes to ep0 before the gadget can bind (Hardware/usb/README.md layout).

/// The Haven interface as FunctionFS wants it: one vendor-class interface
/// with a bulk OUT and a bulk IN endpoint, at full speed (64-byte packets)
/// and high speed (512-byte packets), plus its one string.
///
/// The numbers are those of `Hardware/usb/haven-usb.json`; a test compares
/// them with the file, and another compares `descriptorsBlob` byte for byte
/// with a blob written by hand from `functionfs.h`.
///
/// The device descriptor and the manufacturer/product/serial strings are not
/// here: configfs sets them (`Hardware/gadget/haven-gadget.sh`).
public struct FunctionFSDescriptors: Equatable, Sendable {
    public var interfaceClass: UInt8
    public var interfaceSubclass: UInt8
    public var interfaceProtocol: UInt8
    /// Endpoint addresses as written (FunctionFS files ep1 = first
    /// endpoint = bulk OUT, ep2 = bulk IN).
    public var bulkOutAddress: UInt8
    public var bulkInAddress: UInt8
    public var fullSpeedMaxPacket: UInt16
    public var highSpeedMaxPacket: UInt16
    /// US English (0x0409).
    public var languageID: UInt16
    /// The interface string (iInterface = 1 in the blob; the kernel maps it
    /// to a free index of the gadget).
    public var interfaceString: String
    /// Sets FUNCTIONFS_VIRTUAL_ADDR (off for Haven). Without it the host
    /// sees the endpoint numbers the UDC's autoconfig allocated (dummy_hcd:
    /// bulk OUT 0x02, IN 0x81), so the host finds the endpoints by direction
    /// (HavenHost USBInterfaceCheck). With it, Debian's 6.1 kernel fails
    /// SET_CONFIGURATION ("config_ep_by_speed(ep2out-bulk) returned -5":
    /// the physical address is not in the rewritten descriptors), seen in
    /// the VM test.
    public var virtualAddresses: Bool

    /// Haven link v1 (`Hardware/usb/haven-usb.json`).
    public static let haven = FunctionFSDescriptors(
        interfaceClass: 0xFF, interfaceSubclass: 0x48, interfaceProtocol: 0x01,
        bulkOutAddress: 0x01, bulkInAddress: 0x81,
        fullSpeedMaxPacket: 64, highSpeedMaxPacket: 512,
        languageID: 0x0409, interfaceString: "Haven link v1", virtualAddresses: false)

    public init(
        interfaceClass: UInt8, interfaceSubclass: UInt8, interfaceProtocol: UInt8,
        bulkOutAddress: UInt8, bulkInAddress: UInt8,
        fullSpeedMaxPacket: UInt16, highSpeedMaxPacket: UInt16,
        languageID: UInt16, interfaceString: String, virtualAddresses: Bool
    ) {
        self.interfaceClass = interfaceClass
        self.interfaceSubclass = interfaceSubclass
        self.interfaceProtocol = interfaceProtocol
        self.bulkOutAddress = bulkOutAddress
        self.bulkInAddress = bulkInAddress
        self.fullSpeedMaxPacket = fullSpeedMaxPacket
        self.highSpeedMaxPacket = highSpeedMaxPacket
        self.languageID = languageID
        self.interfaceString = interfaceString
        self.virtualAddresses = virtualAddresses
    }

    /// `usb_functionfs_descs_head_v2` (magic 3, total length, flags FS|HS
    /// and VIRTUAL_ADDR),
    /// fs_count, hs_count, then per speed: interface, bulk OUT, bulk IN.
    public var descriptorsBlob: [UInt8] {
        var body: [UInt8] = []
        for packet in [fullSpeedMaxPacket, highSpeedMaxPacket] {
            body += [
                FunctionFSABI.interfaceDescriptorLength, FunctionFSABI.interfaceDescriptorType,
                0, 0, 2, interfaceClass, interfaceSubclass, interfaceProtocol, 1,
            ]
            for address in [bulkOutAddress, bulkInAddress] {
                body += [
                    FunctionFSABI.endpointDescriptorLength, FunctionFSABI.endpointDescriptorType,
                    address, FunctionFSABI.bulkTransfer,
                    UInt8(truncatingIfNeeded: packet), UInt8(truncatingIfNeeded: packet >> 8), 0,
                ]
            }
        }
        let headerLength = 5 * 4
        var blob: [UInt8] = []
        blob.reserveCapacity(headerLength + body.count)
        appendLE32(&blob, FunctionFSABI.descriptorsMagicV2)
        appendLE32(&blob, UInt32(headerLength + body.count))
        appendLE32(
            &blob,
            FunctionFSABI.hasFullSpeedDescriptors | FunctionFSABI.hasHighSpeedDescriptors
                | (virtualAddresses ? FunctionFSABI.virtualAddresses : 0))
        appendLE32(&blob, 3)  // full-speed descriptor count
        appendLE32(&blob, 3)  // high-speed descriptor count
        return blob + body
    }

    /// `usb_functionfs_strings_head` (magic 2, length, str_count 1,
    /// lang_count 1), the language code (le16), then the interface string
    /// NUL-terminated.
    public var stringsBlob: [UInt8] {
        let text = Array(interfaceString.utf8) + [0]
        var blob: [UInt8] = []
        appendLE32(&blob, FunctionFSABI.stringsMagic)
        appendLE32(&blob, UInt32(16 + 2 + text.count))
        appendLE32(&blob, 1)
        appendLE32(&blob, 1)
        blob += [UInt8(truncatingIfNeeded: languageID), UInt8(truncatingIfNeeded: languageID >> 8)]
        return blob + text
    }
}

private func appendLE32(_ bytes: inout [UInt8], _ value: UInt32) {
    bytes += [
        UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8),
        UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 24),
    ]
}
