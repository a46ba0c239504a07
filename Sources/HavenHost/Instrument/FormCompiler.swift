import Foundation
import HavenCore

/// `haven compile` as a library call: XForm XML → compiled instrument bytes.
public enum FormCompiler {
    /// Reads the XForm, checks it against what Haven supports, and encodes
    /// it for a device with `limits`. Every refusal is a `FormError` naming
    /// the question, the construct and the line.
    ///
    /// The encoded instrument is decoded with the core's own reader before
    /// it is returned: the host never hands out an instrument a device would
    /// refuse at load time (fuzzing found defaults the reader accepted and
    /// the core refused, e.g. `<members>5x</members>` on an integer).
    public static func compile(xml: Data, sourceName: String, limits: CompileLimits) throws(FormError) -> [UInt8] {
        let form = try XFormReader.read(xml: xml, sourceName: sourceName)
        let bytes = try InstrumentEncoder.encode(form, limits: limits)
        do throws(InstrumentError) {
            _ = try Instrument(bytes: bytes)
        } catch {
            if case .badDefault = error, let node = badDefault(form, limits: limits) {
                let value = form.nodes[node].defaultValue ?? ""
                throw FormError(question: "/" + ([form.rootName] + form.nodes[node].path).joined(separator: "/"), construct: "default value",
                                line: form.nodes[node].line,
                                message: "'\(value)' is not a valid \(form.nodes[node].kind) answer (a device would refuse it)")
            }
            throw FormError(question: nil, construct: "instrument", line: 1,
                            message: "\(sourceName) compiled to an instrument the device would refuse (\(error))")
        }
        return bytes
    }

    /// The first question whose default alone makes the core refuse the
    /// instrument (the core checks defaults as the engine will read them).
    static func badDefault(_ form: FormModel, limits: CompileLimits) -> Int? {
        var bare = form
        for i in bare.nodes.indices { bare.nodes[i].defaultValue = nil }
        for i in form.nodes.indices where form.nodes[i].defaultValue != nil {
            var one = bare
            one.nodes[i].defaultValue = form.nodes[i].defaultValue
            guard let bytes = try? InstrumentEncoder.encode(one, limits: limits) else { continue }
            do throws(InstrumentError) { _ = try Instrument(bytes: bytes) } catch {
                if case .badDefault = error { return i }
            }
        }
        return nil
    }
}
