// Fuzz target: the age v1 reader (AgeFile.decrypt: header grammar, stanza
// shapes, file-key unwrap, header MAC, STREAM payload) with a fixed X25519
// identity — the one the seed files are sealed to, so mutations of a real
// file start from a header that opens.
import HavenCore
import HavenHost

let identity = AgeIdentity(secretKey: FuzzAge.secretKey)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAge(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = try? AgeFile.decrypt(fuzzBytes(data, size), identities: [identity])
    return 0
}
