// FunctionFSEvent: decoding of `struct usb_functionfs_event` read from ep0.

/// A control request (`struct usb_ctrlrequest`, ch9) forwarded to the
/// function in a SETUP event.
public struct FunctionFSSetupRequest: Equatable, Sendable {
    public var requestType: UInt8
    public var request: UInt8
    public var value: UInt16
    public var index: UInt16
    public var length: UInt16

    public init(requestType: UInt8, request: UInt8, value: UInt16, index: UInt16, length: UInt16) {
        self.requestType = requestType
        self.request = request
        self.value = value
        self.index = index
        self.length = length
    }

    /// Device to host (`USB_DIR_IN` in bmRequestType).
    public var isDeviceToHost: Bool { requestType & FunctionFSABI.directionIn != 0 }
}

/// One event of the gadget's life as FunctionFS reports it on ep0.
public enum FunctionFSEvent: Equatable, Sendable {
    /// The function was bound to a UDC (the gadget's UDC file was written).
    case bind
    /// The function was unbound from the UDC (`echo "" > UDC`, gadget torn down).
    case unbind
    /// The host selected a configuration: endpoints are live, data may move.
    case enable
    /// The host reset or deconfigured the device, or the cable was pulled:
    /// endpoints are dead, pending transfers fail.
    case disable
    /// A control request for the function; must be answered on ep0.
    case setup(FunctionFSSetupRequest)
    case suspend
    case resume

    /// Decodes every event in `bytes` (ep0 returns whole events, several per
    /// read). Hostile input gives a typed error, never a crash.
    public static func decodeAll(_ bytes: some Collection<UInt8>) throws(FunctionFSEventError) -> [FunctionFSEvent] {
        let array = Array(bytes)
        guard array.count % FunctionFSABI.eventSize == 0 else {
            throw .truncated(length: array.count)
        }
        var events: [FunctionFSEvent] = []
        var offset = 0
        while offset < array.count {
            events.append(try decode(array[offset..<(offset + FunctionFSABI.eventSize)], at: offset))
            offset += FunctionFSABI.eventSize
        }
        return events
    }

    /// Decodes one 12-byte event; `at` is the event's offset for errors.
    public static func decode(_ bytes: ArraySlice<UInt8>, at offset: Int = 0) throws(FunctionFSEventError) -> FunctionFSEvent {
        guard bytes.count == FunctionFSABI.eventSize else {
            throw .truncated(length: bytes.count)
        }
        let b = bytes.startIndex
        func le16(_ i: Int) -> UInt16 { UInt16(bytes[b + i]) | UInt16(bytes[b + i + 1]) << 8 }
        switch bytes[b + 8] {
        case 0: return .bind
        case 1: return .unbind
        case 2: return .enable
        case 3: return .disable
        case 4:
            return .setup(FunctionFSSetupRequest(
                requestType: bytes[b], request: bytes[b + 1], value: le16(2), index: le16(4), length: le16(6)))
        case 5: return .suspend
        case 6: return .resume
        case let type: throw .unknownType(type, offset: offset + 8)
        }
    }
}

/// Why bytes read from ep0 are not FunctionFS events.
public enum FunctionFSEventError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The read was not a whole number of 12-byte events.
    case truncated(length: Int)
    /// The type byte (at `offset` of the read) is not one this runtime knows.
    case unknownType(UInt8, offset: Int)

    public var description: String {
        switch self {
        case .truncated(let length):
            "FunctionFS event read of \(length) bytes is not a whole number of 12-byte events"
        case .unknownType(let type, let offset):
            "unknown FunctionFS event type \(type) at byte \(offset) of the ep0 read"
        }
    }
}
