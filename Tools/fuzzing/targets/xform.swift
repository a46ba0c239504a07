// Fuzz target: the XForm importer — FormCompiler.compile (XMLParser, the
// XForm reader, the XPath compiler, the instrument encoder) on arbitrary
// bytes. Whatever it accepts must decode with the core's `Instrument(bytes:)`:
// the host never writes an instrument the device would refuse.
// (corelibs XMLParser is not thread-safe; libFuzzer runs one thread.)
import Foundation
import HavenCore
import HavenHost

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzXForm(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let xml = Data(fuzzBytes(data, size))
    guard let compiled = try? FormCompiler.compile(xml: xml, sourceName: "fuzz.xml", limits: CompileLimits(repeatCapacity: 8))
    else { return 0 }
    do { _ = try Instrument(bytes: compiled) } catch {
        fatalError("the compiler wrote an instrument the core refuses: \(error)")
    }
    return 0
}
