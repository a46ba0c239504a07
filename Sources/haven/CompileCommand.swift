import ArgumentParser
import Foundation
import HavenDevice
import HavenHost

struct Compile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile an ODK XForm into a Haven instrument.",
        discussion: """
            Reads XForm XML as pyxform, KoboToolbox, ODK Central or SurveyCTO write it \
            (convert an XLSForm first with `xls2xform FORM.xlsx FORM.xml`). Anything Haven \
            cannot run exactly as ODK Collect would is refused with the question, the \
            construct and the line.

            Example:
              haven compile dv_module.xml -o dv_module.instrument --board ref-tablet-a7
            """
    )

    @Argument(help: "The XForm XML file.")
    var form: String

    @Option(name: .shortAndLong, help: "Where to write the compiled instrument (default: FORM with .instrument).")
    var output: String?

    @Option(help: "Board profile name from Hardware/boards (sets the repeat capacity).")
    var board: String = "sim"

    @Option(help: "Folder holding Hardware/boards (default: found from the current directory or $HAVEN_HARDWARE).")
    var hardware: String?

    func run() throws {
        let input = URL(fileURLWithPath: form)
        guard let xml = FileManager.default.contents(atPath: input.path) else {
            throw ValidationError("cannot read '\(form)': no such file or not readable")
        }
        let profile: BoardProfile
        do {
            profile = try BoardProfile.load(named: board, hardwareDirectory: hardware)
        } catch {
            throw CommandFailure("\(error)")
        }
        let bytes: [UInt8]
        do {
            bytes = try FormCompiler.compile(xml: xml, sourceName: input.lastPathComponent,
                                             limits: CompileLimits(repeatCapacity: profile.repeatCapacity))
        } catch {
            throw CommandFailure("\(input.lastPathComponent): \(error)")
        }
        let destination = output ?? input.deletingPathExtension().appendingPathExtension("instrument").path
        try Data(bytes).write(to: URL(fileURLWithPath: destination), options: .atomic)
        print("compiled \(input.lastPathComponent) → \(destination) (\(bytes.count) bytes, board \(profile.name))")
    }
}
