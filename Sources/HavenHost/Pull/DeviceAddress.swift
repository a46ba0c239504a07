// DeviceAddress: how the host names one device (a simulator socket or a USB
// device), and how it finds every attached one.

import Foundation

/// A device the host can open: `sim:/path/to/socket` or `usb:SERIAL` /
/// `usb:BUS/ADDRESS` (as `haven devices` prints them).
public enum DeviceAddress: Equatable, Hashable, Sendable, CustomStringConvertible {
    case simulator(path: String)
    case usb(selector: String?)

    public init(parsing text: String) throws {
        if text.hasPrefix("sim:") {
            self = .simulator(path: String(text.dropFirst(4)))
        } else if text.hasPrefix("usb:") {
            let rest = String(text.dropFirst(4))
            self = .usb(selector: rest.isEmpty ? nil : rest)
        } else if text.hasSuffix(".sock") || text.contains("/") {
            self = .simulator(path: text)
        } else {
            throw DeviceAddressError.unknown(text)
        }
    }

    public var description: String {
        switch self {
        case .simulator(let p): "sim:" + p
        case .usb(let s): "usb:" + (s ?? "")
        }
    }

    /// Where simulators put their sockets unless told otherwise:
    /// `$HAVEN_SIM_DIR`, else `$XDG_RUNTIME_DIR/haven-sim`, else
    /// `/tmp/haven-sim-<uid>`.
    public static var simulatorDirectory: String {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["HAVEN_SIM_DIR"], !dir.isEmpty { return dir }
        if let runtime = env["XDG_RUNTIME_DIR"], !runtime.isEmpty { return runtime + "/haven-sim" }
        return "/tmp/haven-sim-\(getuid())"
    }

    /// Sockets of running simulators in `directory`.
    public static func simulators(in directory: String = simulatorDirectory) -> [DeviceAddress] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".sock") }.sorted().map { .simulator(path: directory + "/" + $0) }
    }
}

public enum DeviceAddressError: Error, CustomStringConvertible {
    case unknown(String)
    public var description: String {
        switch self {
        case .unknown(let t):
            "'\(t)' is not a device address: use sim:/path/to/socket, usb:SERIAL or usb:BUS/ADDRESS (see `haven devices`)"
        }
    }
}

extension DeviceAddress {
    /// Opens the byte pipe to this device.
    public func open() throws(TransportError) -> any LinkTransport {
        switch self {
        case .simulator(let path):
            return try SocketTransport(path: path)
        case .usb(let selector):
            let finder = USBDeviceFinder()
            guard let selector else { return try USBTransport(finder: finder) }
            if selector.contains("/") {
                guard let info = try finder.devices().first(where: { $0.name == "usb:" + selector }) else {
                    throw .noDevice("no Haven device at usb:\(selector) (see `haven devices`)")
                }
                return try USBTransport(device: info)
            }
            return try USBTransport(serial: selector, finder: finder)
        }
    }

    /// Every attached device: running simulators, then USB devices (those
    /// that cannot be opened too, so their problem can be shown).
    public static func attached(simulatorDirectory: String = simulatorDirectory) -> (addresses: [DeviceAddress], usbProblems: [(String, TransportError)]) {
        var out = simulators(in: simulatorDirectory)
        var problems: [(String, TransportError)] = []
        do {
            for info in try USBDeviceFinder().devices() {
                if let e = info.openError { problems.append((info.name, e)); continue }
                out.append(.usb(selector: String(info.name.dropFirst(4))))
            }
        } catch {
            if case .noDevice = error {} else { problems.append(("usb", error)) }
        }
        return (out, problems)
    }
}
