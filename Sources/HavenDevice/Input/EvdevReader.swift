// EvdevReader: reads input_event records from /dev/input/event* devices.

import Glibc

/// One open input device (non-blocking). `readAvailable` decodes whole
/// records; the kernel only ever returns whole records, so a partial one
/// is damage (a stand-in file, a driver bug): it is reported and dropped,
/// never half-used.
public final class EvdevReader {
    public let path: String
    public let descriptor: Int32
    public let wordSize: Int
    private var buffer: [UInt8]

    /// Opens `path` read-only and non-blocking.
    public init(path: String, wordSize: Int = MemoryLayout<Int>.size) throws(EvdevOpenError) {
        self.path = path
        self.wordSize = wordSize
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw EvdevOpenError(path: path, errno: errno) }
        descriptor = fd
        buffer = [UInt8](repeating: 0, count: 64 * EvdevEvent.size(wordSize: wordSize))
    }

    /// Takes an already open descriptor (tests: a pipe).
    public init(descriptor: Int32, name: String, wordSize: Int = MemoryLayout<Int>.size) {
        path = name
        self.wordSize = wordSize
        self.descriptor = descriptor
        buffer = [UInt8](repeating: 0, count: 64 * EvdevEvent.size(wordSize: wordSize))
    }

    deinit { close(descriptor) }

    /// Reads what is waiting and hands each record to `handle`; returns
    /// false at end of file or when the device went away (ENODEV: unplugged).
    /// Damaged records go to `damaged` and are skipped.
    public func readAvailable(_ handle: (EvdevEvent) -> Void, damaged: (EvdevError) -> Void) -> Bool {
        let size = EvdevEvent.size(wordSize: wordSize)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return false }
            if count < 0 {
                if errno == EINTR { continue }
                return errno == EAGAIN
            }
            buffer.withUnsafeBytes { bytes in
                var offset = 0
                while offset < count {
                    let length = min(size, count - offset)
                    do throws(EvdevError) {
                        handle(try EvdevEvent.decode(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]),
                                                     wordSize: wordSize, offset: offset))
                    } catch {
                        damaged(error)
                    }
                    offset += length
                }
            }
            if count < buffer.count { return true }
        }
    }
}

/// An input device named by the board profile could not be opened.
public struct EvdevOpenError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var errno: Int32
    public var description: String {
        "cannot open input device \(path): \(String(cString: strerror(errno))) (check the board profile's linux.input and permissions)"
    }
}
