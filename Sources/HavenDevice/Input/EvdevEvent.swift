// EvdevEvent: Linux `struct input_event` records read from /dev/input/event*.

/// One record of the Linux input subsystem (`linux/input.h`):
///
/// ```
/// struct input_event {
///     struct timeval time;   // 2 × long: 16 bytes on 64-bit, 8 on 32-bit ARM
///     __u16 type;            // EV_SYN 0, EV_KEY 1, EV_REL 2, EV_ABS 3, ...
///     __u16 code;            // KEY_* / BTN_* for EV_KEY
///     __s32 value;           // EV_KEY: 0 release, 1 press, 2 autorepeat
/// };
/// ```
///
/// Native byte order (the kernel writes it for the CPU it runs on). The
/// record size depends on the word size of the *kernel ABI the reader
/// uses*: 24 bytes for a 64-bit process, 16 for a 32-bit one (armv7
/// tablets, including time64 userspace, where the kernel uses
/// `__kernel_ulong_t` seconds and microseconds in the struct).
public struct EvdevEvent: Equatable, Sendable {
    public var seconds: UInt64
    public var microseconds: UInt64
    public var type: UInt16
    public var code: UInt16
    public var value: Int32

    public init(seconds: UInt64 = 0, microseconds: UInt64 = 0, type: UInt16, code: UInt16, value: Int32) {
        self.seconds = seconds
        self.microseconds = microseconds
        self.type = type
        self.code = code
        self.value = value
    }

    public static let synchronize: UInt16 = 0  // EV_SYN
    public static let key: UInt16 = 1  // EV_KEY
    public static let absolute: UInt16 = 3  // EV_ABS
    /// The largest defined event type (EV_MAX); anything above is damage.
    public static let maxType: UInt16 = 0x1f

    /// `input_event` size for a word size of `wordSize` bytes (4 or 8).
    public static func size(wordSize: Int) -> Int { 2 * wordSize + 8 }

    /// This process's record size.
    public static var nativeSize: Int { size(wordSize: MemoryLayout<Int>.size) }

    /// Decodes one record from exactly `size(wordSize:)` bytes at `bytes`
    /// (`offset` names it in errors). Never traps on any input.
    public static func decode(_ bytes: UnsafeRawBufferPointer, wordSize: Int = MemoryLayout<Int>.size,
                              offset: Int = 0) throws(EvdevError) -> EvdevEvent {
        guard wordSize == 4 || wordSize == 8 else { throw .unsupportedWordSize(wordSize) }
        let size = size(wordSize: wordSize)
        guard bytes.count == size else { throw .truncated(offset: offset, length: bytes.count, expected: size) }
        func word(_ at: Int) -> UInt64 {
            wordSize == 8 ? bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)
                : UInt64(bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self))
        }
        let event = EvdevEvent(
            seconds: word(0), microseconds: word(wordSize),
            type: bytes.loadUnaligned(fromByteOffset: 2 * wordSize, as: UInt16.self),
            code: bytes.loadUnaligned(fromByteOffset: 2 * wordSize + 2, as: UInt16.self),
            value: bytes.loadUnaligned(fromByteOffset: 2 * wordSize + 4, as: Int32.self))
        guard event.type <= maxType else { throw .unknownType(offset: offset, type: event.type) }
        guard event.microseconds < 1_000_000 else { throw .badTime(offset: offset) }
        return event
    }

    /// Encodes the record as the kernel would (tests, and stand-in devices).
    public func encoded(wordSize: Int = MemoryLayout<Int>.size) -> [UInt8] {
        var out: [UInt8] = []
        func append<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v) { out.append(contentsOf: $0) } }
        if wordSize == 8 { append(seconds); append(microseconds) } else { append(UInt32(truncatingIfNeeded: seconds)); append(UInt32(truncatingIfNeeded: microseconds)) }
        append(type)
        append(code)
        append(value)
        return out
    }
}

/// Why bytes from an input device were not an `input_event`.
public enum EvdevError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A read ended inside a record (`length` bytes where `expected` were due).
    case truncated(offset: Int, length: Int, expected: Int)
    /// The type field is above EV_MAX.
    case unknownType(offset: Int, type: UInt16)
    /// The microseconds field is 1 000 000 or more.
    case badTime(offset: Int)
    case unsupportedWordSize(Int)

    public var description: String {
        switch self {
        case .truncated(let offset, let length, let expected):
            "input event at byte \(offset) is \(length) bytes, expected \(expected)"
        case .unknownType(let offset, let type):
            "input event at byte \(offset) has unknown type \(type) (EV_MAX is 31)"
        case .badTime(let offset):
            "input event at byte \(offset) has a microseconds field of one second or more"
        case .unsupportedWordSize(let size):
            "input_event word size \(size) is not 4 or 8"
        }
    }
}
