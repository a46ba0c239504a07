// HavenUSBIdentity: the numbers in Hardware/usb/haven-usb.json, for the host.

/// How a Haven device presents itself on USB (`Hardware/usb/README.md`).
///
/// The host finds devices by VID:PID and talks to one vendor-class
/// interface with one bulk endpoint each way; the link protocol runs over
/// those two endpoints as a byte stream.
public enum HavenUSBIdentity {
    /// pid.codes (open-source hardware vendor id).
    public static let vendorID: UInt16 = 0x1209
    /// Haven's product id under pid.codes (placeholder until registered:
    /// see Hardware/usb/README.md).
    public static let productID: UInt16 = 0x4856
    /// The link interface: vendor specific (class 0xFF), subclass 'H',
    /// protocol 1 = link protocol version 1.
    public static let interfaceNumber: Int32 = 0
    public static let interfaceClass: UInt8 = 0xFF
    public static let interfaceSubclass: UInt8 = 0x48
    public static let interfaceProtocol: UInt8 = 0x01
    /// Host to device (bulk OUT) and device to host (bulk IN), as the
    /// device's descriptors ask for them. The device controller may
    /// renumber them (dummy_hcd gives OUT 0x02), so the transport takes the
    /// addresses from the interface descriptor (USBInterfaceCheck).
    public static let bulkOutEndpoint: UInt8 = 0x01
    public static let bulkInEndpoint: UInt8 = 0x81
    /// Where the host udev rule lives in the repository.
    public static let udevRule = "Hardware/udev/70-haven.rules"

    /// How to install the udev rule, for permission-denied messages.
    public static let udevInstallHint = """
        install the udev rule \(udevRule) (sudo install -m 0644 \(udevRule) /etc/udev/rules.d/ \
        && sudo udevadm control --reload-rules && sudo udevadm trigger), make sure you are in \
        the plugdev group (sudo usermod -aG plugdev $USER, then log in again), and replug the device
        """
}
