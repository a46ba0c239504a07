// FunctionFSABI: the numbers of the Linux FunctionFS user-space ABI
// (include/uapi/linux/usb/functionfs.h and ch9.h), written out here so the
// device runtime needs no kernel headers to build.

/// Constants of `linux/usb/functionfs.h` and `linux/usb/ch9.h` that Haven uses.
///
/// Everything FunctionFS reads or writes is little-endian and packed.
public enum FunctionFSABI {
    /// `FUNCTIONFS_DESCRIPTORS_MAGIC_V2`: first u32 of the descriptors blob
    /// (v2: a flags word says which speed blocks follow).
    public static let descriptorsMagicV2: UInt32 = 3
    /// `FUNCTIONFS_STRINGS_MAGIC`: first u32 of the strings blob.
    public static let stringsMagic: UInt32 = 2

    /// `FUNCTIONFS_HAS_FS_DESC`: a full-speed block follows.
    public static let hasFullSpeedDescriptors: UInt32 = 1
    /// `FUNCTIONFS_HAS_HS_DESC`: a high-speed block follows.
    public static let hasHighSpeedDescriptors: UInt32 = 2
    /// `FUNCTIONFS_VIRTUAL_ADDR`: the host sees the endpoint addresses
    /// written in the descriptors, not the numbers of the physical
    /// endpoints the UDC's autoconfig picked (see FunctionFSDescriptors).
    public static let virtualAddresses: UInt32 = 16

    /// `struct usb_functionfs_event`: 8-byte `usb_ctrlrequest`, type u8, 3 pad bytes.
    public static let eventSize = 12

    /// ch9: `USB_DT_INTERFACE`, `USB_DT_ENDPOINT` and their lengths (the
    /// endpoint descriptor without the two audio-only bytes,
    /// `USB_DT_ENDPOINT_SIZE`).
    public static let interfaceDescriptorType: UInt8 = 0x04
    public static let interfaceDescriptorLength: UInt8 = 9
    public static let endpointDescriptorType: UInt8 = 0x05
    public static let endpointDescriptorLength: UInt8 = 7
    /// ch9: `USB_ENDPOINT_XFER_BULK`.
    public static let bulkTransfer: UInt8 = 0x02
    /// ch9: `USB_DIR_IN`, in `bEndpointAddress` and `bRequestType`.
    public static let directionIn: UInt8 = 0x80

    /// `FUNCTIONFS_ENDPOINT_DESC` = `_IOR('g', 130, struct usb_endpoint_descriptor)`
    /// (9 bytes): the endpoint's descriptor at the speed the host chose.
    public static let endpointDescriptorIoctl: UInt = (2 << 30) | (9 << 16) | (0x67 << 8) | 130
}
