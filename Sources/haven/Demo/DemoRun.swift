import Foundation
import HavenCore
import HavenDevice
import HavenHost

/// The steps of `haven demo`, in order; each prints what it did and where
/// its files are.
struct DemoRun {
    let folder: URL
    var story: DemoStory

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    mutating func run() throws {
        // 1. Keys.
        story.begin("Keys for the research team and for provisioning")
        let identity = AgeIdentity.generate()
        try KeyFiles.writeSecret(KeyFiles.ageIdentityFileText(identity), to: path("research.agekey"))
        let signer = ProvisioningKey.generate()
        try KeyFiles.writeSecret(signer.secretFileText, to: path("provisioning.key"))
        try KeyFiles.writePublic(signer.publicFileText, to: path("provisioning.key.pub"))
        story.detail("research-team age identity  \(path("research.agekey")) (recipient \(identity.recipient.encoded.prefix(20))…)")
        story.detail("provisioning signing key    \(path("provisioning.key"))")

        // 2. Instruments.
        story.begin("Compile the questionnaires (ODK XForms written by pyxform)")
        let forms = try DemoFiles.formsDirectory()
        let board = try BoardProfile.load(named: "sim", hardwareDirectory: nil)
        for (name, what) in [("dv_module", "domestic-violence module, English and Kinyarwanda"),
                             ("decoy_savings", "decoy: household savings")] {
            let xml = try Data(contentsOf: forms.appendingPathComponent(name + ".xml"))
            let bytes = try FormCompiler.compile(xml: xml, sourceName: name + ".xml",
                                                 limits: CompileLimits(repeatCapacity: board.repeatCapacity))
            try Data(bytes).write(to: folder.appendingPathComponent(name + ".instrument"))
            story.detail("\(what): \(path(name + ".instrument")) (\(bytes.count) bytes)")
        }

        // 3. Config.
        story.begin("Build and sign the device config")
        let config: [String: Any] = [
            "version": 1, "board": "sim",
            "devices": [["name": "Demo tablet"]],
            "instrument": "dv_module.instrument", "decoy": "decoy_savings.instrument",
            "recipients": [identity.recipient.encoded],
            "pins": ["enumerator": [Demo.pin], "duress": Demo.duressPIN],
            "lock": ["maxFailures": 10, "backoffSeconds": [0, 0, 0, 1, 5, 30, 60, 300, 900],
                     "showAttemptsLeft": false, "autoLockSeconds": 300],
            "quickExit": ["action": "hide", "onScreenControl": true,
                          "button": ["code": 114, "presses": 3, "withinMilliseconds": 1500],
                          "chord": [29, 56, 14], "decoyScreensIn": 2],
            "checkpointEveryAnswers": 1,
        ]
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
            .write(to: folder.appendingPathComponent("demo-config.json"))
        let built = try ConfigBuilder.build(configPath: path("demo-config.json"), key: signer, board: board)
        try Data(built.bundle).write(to: folder.appendingPathComponent("demo.havencfg"))
        story.detail("config file  \(path("demo-config.json")) (enumerator PIN \(Demo.pin), duress PIN \(Demo.duressPIN))")
        story.detail("signed bundle \(path("demo.havencfg")) (version 1, \(built.bundle.count) bytes)")

        // 4. Simulator.
        story.begin("Start a simulated tablet (haven-sim) with a USB link on a socket")
        let socket = path("tablet.sock")
        let sim = try SimulatorProcess(executable: try DemoFiles.simulator(), image: path("tablet.img"),
                                       socket: socket, stderrFile: path("haven-sim.log"))
        defer { sim.stop() }
        let first = try sim.firstScreen()
        try sim.waitForSocket()
        story.detail("flash image \(path("tablet.img")) (16 MiB), device secret \(path("tablet.img.secret"))")
        story.detail("screen: \(first["kind"] ?? "?") (device id \(first["deviceId"] ?? "?"))")

        // 5. Provision over the link.
        story.begin("Provision it over the link")
        let ledger = try Ledger(path: path("ledger.sqlite"))
        let address = DeviceAddress.simulator(path: socket)
        let outcome = try Provisioner(bundle: built.bundle, keyPair: signer.keyPair, ledger: ledger, operatorName: "demo")
            .provision(client: LinkClient(transport: try address.open()))
        story.detail("device \(outcome.device): config v\(outcome.installedVersion) installed, provisioning key pinned")
        let locked = try sim.send(["type": "screen"])
        story.detail("screen: \(locked["kind"] ?? "?") — the tablet now asks for the enumerator's PIN")

        // 6. The interview.
        story.begin("An interview, interrupted by quick exit")
        var screen = try sim.send(["type": "pin", "value": Demo.pin])
        try expect(screen, kind: "home", "the PIN should unlock the tablet")
        story.detail("PIN entered: unlocked; the enumerator starts \"\(screen["title"] ?? "")\"")
        screen = try sim.send(["type": "start"])
        let typed: [(String, Any)] = [("consent", "yes"), ("age", 34), ("marital", "married"), ("children", 2),
                                      ("resp_code", "KG0412"), ("interview_date", Self.today())]
        screen = try sim.send(["type": "next"])  // intro note
        for (_, value) in typed {
            screen = try answerNext(sim, screen, value)
        }
        try expect(screen, kind: "privacy-check", "the sensitive section starts with a privacy check")
        screen = try sim.send(["type": "yes"])
        screen = try answerNext(sim, screen, "yes")  // ever hurt
        screen = try sim.send(["type": "answer", "value": "slap push"])
        story.detail("answered \(typed.count + 2) questions; on screen: \"\(screen["label"] ?? "")\" = slap push")
        var hidden: [String: Any] = [:]
        for _ in 0..<3 { hidden = try sim.send(["type": "button", "id": 114]) }
        let hiddenText = String(decoding: try JSONSerialization.data(withJSONObject: hidden), as: UTF8.self)
        for needle in ["KG0412", "slap", "34", "married", "violence", "partner"] where hiddenText.contains(needle) {
            throw DemoFailure("after quick exit the screen model still shows \"\(needle)\"")
        }
        story.detail("quick exit (hardware button pressed 3 times): the screen now shows \"\(hidden["label"] ?? "")\"")
        story.detail("checked: nothing typed in the interview (KG0412, slap, 34, married) is in the screen model")
        screen = try sim.send(["type": "lock"])
        try expect(screen, kind: "lock", "lock")
        story.detail("locked; the interview in progress is on flash under its own key, which is gone from memory")

        story.begin("Unlock, resume and finalize")
        screen = try sim.send(["type": "pin", "value": Demo.pin])
        try expect(screen, kind: "question", "the PIN should resume the interview")
        story.detail("PIN entered: resumed at \"\(screen["label"] ?? "")\" with the answer \(screen["answer"] ?? "none")")
        screen = try sim.send(["type": "next"])
        screen = try answerNext(sim, screen, 3)  // slap frequency
        while (screen["kind"] as? String) == "note" { screen = try sim.send(["type": "next"]) }
        try expect(screen, kind: "review", "the end of the form")
        screen = try sim.send(["type": "finalize"])
        try expect(screen, kind: "finished", "finalize")
        story.detail("finalized: the answers are sealed with age to the research team and appended to the flash store")

        // 7. Pull.
        story.begin("Pull the sealed record at the field office")
        let pulled = folder.appendingPathComponent("pulled")
        let summary = try Puller(folder: pulled, ledger: ledger, operatorName: "demo", keyPair: signer.keyPair)
            .pull(client: LinkClient(transport: try address.open()))
        guard summary.pulled.count == 1 else { throw DemoFailure("expected one record, pulled \(summary.pulled.count)") }
        story.detail("\(pulled.path)/\(summary.pulled[0]).age (\(summary.bytes) bytes, a plain age file)")
        story.detail("acknowledged on the device; ledger \(path("ledger.sqlite")) (`haven ledger --ledger …` shows it)")

        // 8. Export.
        story.begin("Export at headquarters with the research team's identity")
        let instrument = try Instrument(bytes: [UInt8](try Data(contentsOf: folder.appendingPathComponent("dv_module.instrument"))))
        let files = try FileManager.default.contentsOfDirectory(atPath: pulled.path).filter { $0.hasSuffix(".age") }
            .map { ($0, [UInt8](try Data(contentsOf: pulled.appendingPathComponent($0)))) }
        let export = folder.appendingPathComponent("export")
        let result = try Exporter(identities: [identity], instruments: [instrument]).export(files: files, to: export)
        let csv = try String(contentsOf: export.appendingPathComponent("dv_module.csv"), encoding: .utf8)
        for expected in ["KG0412", "slap push", "34", "married", "\(Self.today())"] where !csv.contains(expected) {
            throw DemoFailure("the exported CSV lacks the answer \(expected)")
        }
        story.detail("wrote " + result.filesWritten.map { export.path + "/" + $0 }.joined(separator: ", "))
        for line in csv.split(separator: "\r\n") { story.detail("  " + line) }
        story.detail("also opens with the standard tool: age -d -i \(path("research.agekey")) \(pulled.path)/*.age")

        sim.stop()
        story.begin("Done: the simulator is stopped; everything is in \(folder.path)")
    }

    func answerNext(_ sim: SimulatorProcess, _ screen: [String: Any], _ value: Any) throws -> [String: Any] {
        var screen = screen
        // Notes and read-only questions (a preset survey round) are passed.
        while screen["kind"] as? String == "note" || (screen["readonly"] as? Bool ?? false) {
            screen = try sim.send(["type": "next"])
        }
        try expect(screen, kind: "question", "a question")
        let answered = try sim.send(["type": "answer", "value": value])
        if let error = answered["error"] as? String { throw DemoFailure("answer refused at \"\(screen["label"] ?? "")\": \(error)") }
        let next = try sim.send(["type": "next"])
        if let v = next["validation"] as? String { throw DemoFailure("\"\(screen["label"] ?? "")\": \(v)") }
        return next
    }

    func expect(_ screen: [String: Any], kind: String, _ what: String) throws {
        guard screen["kind"] as? String == kind else {
            throw DemoFailure("\(what): expected a \(kind) screen, the tablet shows \(screen["kind"] ?? "nothing") (\(screen["label"] ?? screen["error"] ?? ""))")
        }
    }

    static func today() -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd"
        f.timeZone = TimeZone.current
        return f.string(from: Date())
    }
}
