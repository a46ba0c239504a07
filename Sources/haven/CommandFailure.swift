/// A failure to report as one plain line (`Error: …`), without the usage
/// text ArgumentParser prints for a `ValidationError`: the arguments were
/// fine, the input was not.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}
