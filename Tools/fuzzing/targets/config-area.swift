// Fuzz target: loading the config area (two A/B slots, Docs/config-format.md
// §5) from an arbitrary flash image: the input fills a 128 KiB RAM flash
// from byte 0 (erased past its end) and `ConfigArea.load()` reads it with a
// fixed device secret. A hostile image gives nil or a typed error.
import HavenCore
import HavenSodium

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigArea(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let flash = FuzzFixed.flash(FuzzFixed.configGeometry, image: fuzzBytes(data, size))
    let area: ConfigArea<RAMFlash, Sodium>
    do {
        area = try FuzzFixed.deviceSecret.withUnsafeBytes { try ConfigArea<RAMFlash, Sodium>(flash: flash, deviceSecret: $0) }
    } catch { fatalError("config area refused its own geometry: \(error)") }
    _ = try? area.load()
    return 0
}
