import Foundation

/// `haven compile` as a library call: XForm XML → compiled instrument bytes.
public enum FormCompiler {
    /// Reads the XForm, checks it against what Haven supports, and encodes
    /// it for a device with `limits`. Every refusal is a `FormError` naming
    /// the question, the construct and the line.
    public static func compile(xml: Data, sourceName: String, limits: CompileLimits) throws(FormError) -> [UInt8] {
        let form = try XFormReader.read(xml: xml, sourceName: sourceName)
        return try InstrumentEncoder.encode(form, limits: limits)
    }
}
