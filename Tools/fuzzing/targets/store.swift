// Fuzz target: mounting the log store on an arbitrary flash image. The
// input fills a 64 KiB RAM flash (16 blocks of 4 KiB) from byte 0, erased
// past its end; `Superblock.inspect` reads the header and key slots, then
// `LogStore` mounts with a fixed data key, walks every record with contents
// verified, reads each one, and appends a record: a hostile image may be
// refused, never crash the core or hang it. When a superblock header's
// CRC does not match, the image is tried a second time with the CRC
// recomputed, so mutations reach the header fields behind it.
import HavenCore
import HavenSodium

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStore(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var image = fuzzBytes(data, size)
    mountAndWalk(image)
    let block = FuzzFixed.storeGeometry.eraseBlockSize
    let body = StoreLayout.superHeaderBodySize
    var changed = false
    for b in 0..<StoreLayout.superblockCount where b * block + body + 4 <= image.count {
        let at = b * block
        let crc = image.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[at..<(at + body)])) }
        for i in 0..<4 where image[at + body + i] != UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) {
            image[at + body + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i)))
            changed = true
        }
    }
    if changed { mountAndWalk(image) }
    return 0
}

func mountAndWalk(_ image: [UInt8]) {
    let flash = FuzzFixed.flash(FuzzFixed.storeGeometry, image: image)
    _ = try? Superblock<RAMFlash, Sodium>.inspect(flash)
    guard let store = try? FuzzFixed.dataKey.withUnsafeBytes({ try LogStore<RAMFlash, Sodium>(flash: flash, dataKey: $0) })
    else { return }
    walk(store)
    if (try? store.append(Array(repeating: 0x5A, count: 300))) != nil { walk(store) }
    store.close()
}

func walk(_ store: LogStore<RAMFlash, Sodium>) {
    guard var cursor = try? store.makeCursor(verifyingContents: true) else { return }
    var steps = 0
    while steps < 10_000, let entry = try? store.next(&cursor) {
        steps += 1
        if case .record(let id, let length) = entry {
            if let bytes = try? store.read(id), bytes.count != length {
                fatalError("record \(id): walk said \(length) bytes, read gave \(bytes.count)")
            }
        }
    }
    if steps == 10_000 { fatalError("the record walk did not end after 10000 steps") }
}
