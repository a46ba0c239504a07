// Fuzz target: the signed-config decoders. The input is read as a config
// bundle (`ConfigBundle.split`, then `DeviceConfig.decode` and
// `PinMaterial.decode` on its parts) and, when it is not one, directly as a
// CONFIG blob and as a PIN MATERIAL blob. A decoded config's accessors are
// exercised (device names, the policy's fields).
import HavenCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    bytes.withUnsafeBytes { b in
        if let bundle = try? ConfigBundle.split(b) {
            decodeConfig(bundle.config)
            _ = try? PinMaterial.decode(bundle.pinMaterial)
        } else {
            decodeConfig(b)
            _ = try? PinMaterial.decode(b)
        }
    }
    return 0
}

func decodeConfig(_ blob: UnsafeRawBufferPointer) {
    guard let config = try? DeviceConfig.decode(blob) else { return }
    for name in config.deviceNames.prefix(16) {
        if let id = name.deviceID { _ = config.name(forDevice: id) }
    }
    _ = config.name(forDevice: [UInt8](repeating: 0, count: 16))
    // What a device does next with a config that decodes: re-encode is pure,
    // and must not trap on anything decode accepted.
    _ = config.encodeUnsigned()
}
