// Fuzz target: the host side of the link — LinkClient's frame decoding and
// response decoders — against a device that answers with the input. The
// client runs a pull-shaped session (identify, list records, fetch each
// listed record, acknowledge, set time) over a transport that serves the
// input as the device's byte stream and then times out. If the first byte
// is odd, every frame found in the rest is re-sealed (length clamped, CRC
// recomputed) so mutations of a recorded session reach the decoders.
// Every call must end with a value or a typed error; memory use is bounded
// by what libFuzzer allows (-rss_limit_mb, -malloc_limit_mb).
import HavenCore
import HavenHost

final class ScriptTransport: LinkTransport {
    var name: String { "fuzz" }
    let script: [UInt8]
    var at = 0
    init(_ script: [UInt8]) { self.script = script }
    func write(_ bytes: UnsafeRawBufferPointer, timeoutMilliseconds: Int) throws(TransportError) {}
    func read(into buffer: UnsafeMutableRawBufferPointer, timeoutMilliseconds: Int) throws(TransportError) -> Int {
        guard at < script.count else { throw .timedOut("script ended") }
        // Uneven read sizes, as a USB or socket transport gives.
        let n = min(buffer.count, script.count - at, 1 + (at * 7919) % 1500)
        script.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[at..<(at + n)])) }
        at += n
        return n
    }
    func close() {}
}

nonisolated(unsafe) let crc = CRC32Table()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLinkClient(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var bytes = fuzzBytes(data, size)
    guard let mode = bytes.first else { return 0 }
    bytes.removeFirst()
    if mode & 1 == 1 { fuzzResealFrames(&bytes, crc: crc) }
    let client = LinkClient(transport: ScriptTransport(bytes), timeoutMilliseconds: 0)
    session(client)
    return 0
}

func session(_ client: LinkClient) {
    do throws(LinkClientError) {
        _ = try client.identify()
        let (records, _) = try client.listRecords()
        for record in records.prefix(3) where !record.corrupt {
            _ = try client.fetchRecord(record, window: 2)
        }
        _ = try client.acknowledge(records.prefix(4).map(\.number))
        try client.setTime(LinkCivilTime(year: 2026, month: 11, day: 25, hour: 12, minute: 0, second: 0, utcOffsetMinutes: 0))
    } catch {
        _ = error.description
    }
}
