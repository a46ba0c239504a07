// USBError: libusb error codes as TransportError, with what to do about them.

import CLibUSB

extension TransportError {
    /// Maps a libusb error code from `operation` on `device` ("usb:001/002")
    /// to a transport error whose text tells the operator what happened and
    /// what to do.
    static func libusb(_ code: Int32, _ operation: String, device: String) -> TransportError {
        switch code {
        case LIBUSB_ERROR_ACCESS.rawValue:
            return .permissionDenied(
                "\(operation) \(device): this user may not open the device; \(HavenUSBIdentity.udevInstallHint)")
        case LIBUSB_ERROR_BUSY.rawValue:
            return .busy(
                "\(operation) \(device): another program (another haven, or a kernel driver) holds the Haven interface; close it and try again")
        case LIBUSB_ERROR_NO_DEVICE.rawValue:
            return .disconnected(
                "\(device) was unplugged during \(operation); plug it back in and run the command again (an interrupted pull resumes)")
        case LIBUSB_ERROR_NOT_FOUND.rawValue:
            return .noDevice("\(operation) \(device): the device has no Haven interface (is it a Haven device with current firmware?)")
        case LIBUSB_ERROR_TIMEOUT.rawValue:
            return .timedOut("\(operation) \(device): the device did not answer in time")
        case LIBUSB_ERROR_PIPE.rawValue:
            return .io("\(operation) \(device): the endpoint stalled (the device refused the transfer)")
        case LIBUSB_ERROR_OVERFLOW.rawValue:
            return .io("\(operation) \(device): the device sent more bytes than were asked for")
        default:
            return .io("\(operation) \(device): \(libusbErrorName(code))")
        }
    }
}

/// libusb's own short text for an error code ("LIBUSB_ERROR_IO").
func libusbErrorName(_ code: Int32) -> String {
    guard let name = libusb_error_name(code) else { return "libusb error \(code)" }
    return String(cString: name)
}
