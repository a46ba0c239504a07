// Fuzz target: BytecodeValidator on its own, on arbitrary programs. The
// first six bytes choose the limits it is given (max stack, string count,
// node count, choice-filter column count or none); the rest is the program.
import HavenCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBytecode(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var r = FuzzReader(fuzzBytes(data, size))
    let maxStack = Int(r.u8() % 64)
    let stringCount = UInt32(r.u16())
    let nodeCount = r.u16()
    let columns = r.u8()
    let columnCount: UInt16? = columns & 0x80 != 0 ? nil : UInt16(columns & 0x0F)
    let code = r.rest()
    code.withUnsafeBytes { c in
        _ = try? BytecodeValidator.validate(c, maxStack: maxStack, stringCount: stringCount,
                                            nodeCount: nodeCount, columnCount: columnCount)
    }
    return 0
}
