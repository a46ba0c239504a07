import Foundation
@testable import HavenCore
import HavenDevice
import HavenHost
import HavenSodium
import Testing

/// Issue 8's field-week soak: one device image (a real `haven-sim` process,
/// headless, provisioned over its socket) through a simulated week of field
/// work, then everything checked from the outside.
///
/// Interviews of dv_module are driven screen by screen (by question label,
/// so an interview resumed after any interruption is simply carried on),
/// with, at random steps: quick exits (hide or lock, whichever the config in
/// force says), locks, auto-lock (simulated time past the config's limit),
/// wrong PINs (at most 3 in a row: the wipe threshold is 10), reboots
/// (kill -9) and power cuts (a restart with `--power-cut-after N`: the Nth
/// flash program/erase is torn and the process ends with status 99);
/// between interviews pulls cut at random (the host dies, or the device
/// loses power mid-pull) and retried, and config updates (a newer version,
/// same PINs, the other quick-exit action).
///
/// Not exercised: wipe, the duress PIN and host crypto-erase, which destroy
/// records by design (every finished interview must be exported here).
///
/// The store is deliberately small (`blocks` erase blocks for the whole
/// part, so the log wraps many times in a week) so that wear levelling and
/// garbage collection are part of the run.
final class FieldWeek {
    struct Expected {
        var code: String
        var age: Int
        var marital: String
        var children: Int
        var date: String
        var everHurt: String
        var acts: [String]
        var slapFrequency: Int?
        var injured: String?

        /// The answer to type on the screen with this label (nil: not ours).
        func answer(for label: String) -> Any? {
            switch label {
            case "Do you agree to take part in this interview?": return "yes"
            case "How old are you?": return age
            case "What is your marital status?": return marital
            case "How many children have you given birth to?": return children
            case "Respondent code": return code
            case "Date of the interview": return date
            case "Has your husband or partner ever hurt you physically?": return everHurt
            case "Which of these things did he do?": return acts.joined(separator: " ")
            case "In the past 12 months, how many times did he slap you?": return slapFrequency
            case "Were you ever injured because of what he did?": return injured
            default: return nil
            }
        }
    }

    let interviews: Int
    let blocks: Int
    var rng: SplitMix64
    let d: LinkedDevice
    let hardwareDir: URL
    var sim: SimProcess!
    var configVersion = 1
    var quickExitAction = "hide"
    let autoLockSeconds = 300
    var counts: [String: Int] = [:]
    var finished: [Expected] = []
    var log: [String] = []
    /// Power cut armed on the running process (it ends with status 99 at the Nth flash operation).
    var armed = false
    var pullAttempts = 0
    let puller: Puller
    let ledger: Ledger
    var pulledDir: URL { d.dir.appendingPathComponent("pulled") }

    init(interviews: Int, seed: UInt64, blocks: Int = 48) throws {
        // A device dying of a power cut closes its end of our pipes: a write
        // must fail with EPIPE, not kill the test process.
        signal(SIGPIPE, SIG_IGN)
        self.interviews = interviews
        self.blocks = blocks
        rng = SplitMix64(seed: seed)
        d = try LinkedDevice()
        // A copy of Hardware/ whose sim board has `blocks` erase blocks.
        hardwareDir = d.dir.appendingPathComponent("Hardware")
        try FileManager.default.createDirectory(at: hardwareDir.appendingPathComponent("boards"), withIntermediateDirectories: true)
        let simJSON = try Data(contentsOf: repositoryRoot.appendingPathComponent("Hardware/boards/sim.json"))
        var board = try JSONSerialization.jsonObject(with: simJSON) as! [String: Any]
        var flash = board["flash"] as! [String: Any]
        flash["blockCount"] = blocks
        board["flash"] = flash
        try JSONSerialization.data(withJSONObject: board).write(to: hardwareDir.appendingPathComponent("boards/sim.json"))
        ledger = try Ledger(path: d.dir.appendingPathComponent("ledger.sqlite").path)
        puller = Puller(folder: d.dir.appendingPathComponent("pulled"), ledger: ledger, operatorName: "soak",
                        keyPair: d.signer.keyPair)
    }

    func count(_ event: String, _ n: Int = 1) { counts[event, default: 0] += n }
    func chance(_ p: Double) -> Bool { rng.unit() < p }

    // MARK: Device

    func bundle(version: Int, action: String) throws -> [UInt8] {
        let json = """
            {"version": \(version), "board": "sim", "devices": [{"name": "field tablet"}],
             "instrument": "dv_module.instrument", "decoy": "decoy_savings.instrument",
             "recipients": ["\(d.identity.recipient.encoded)"],
             "pins": {"enumerator": ["\(LinkedDevice.pin)"], "duress": "\(LinkedDevice.duressPIN)"},
             "lock": {"maxFailures": 10, "backoffSeconds": [0], "showAttemptsLeft": false, "autoLockSeconds": \(autoLockSeconds)},
             "quickExit": {"action": "\(action)", "onScreenControl": true,
                           "button": {"code": 114, "presses": 3, "withinMilliseconds": 1500}, "chord": [], "decoyScreensIn": 2},
             "checkpointEveryAnswers": 1}
            """
        let file = try ConfigFile.decode(Data(json.utf8))
        let board = try BoardProfile.load(named: "sim", hardwareDirectory: hardwareDir.path)
        return try ConfigBuilder.build(file, baseDirectory: d.dir, key: d.signer,
                                       kdf: KDFCost(iterations: 1, memoryKiB: 8), board: board).bundle
    }

    func startSim(powerCutAfter: Int? = nil) throws {
        try? FileManager.default.removeItem(atPath: d.socket)
        var arguments = ["--image", d.image, "--board", "sim", "--hardware", hardwareDir.path, "--headless", "--socket", d.socket]
        if let n = powerCutAfter { arguments += ["--power-cut-after", String(n)] }
        sim = try SimProcess(arguments: arguments)
        armed = powerCutAfter != nil
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: d.socket) && Date() < deadline && sim.process.isRunning { usleep(5_000) }
    }

    /// The process ended (or was killed): a power cut it was armed for, or a
    /// kill -9 we did, is a reboot; anything else is a failure.
    func reboot(killed: Bool) throws {
        if !killed {
            let status = sim.waitStatus()
            guard armed && status == 99 else {
                throw SimTestError("haven-sim ended with status \(status) (power cut armed: \(armed))")
            }
            count("power cut (flash operation torn, status 99)")
        }
        try startSim()
    }

    /// Sends an event; a process that died of its armed power cut is
    /// restarted and nil returned (the caller looks at the screen again).
    func send(_ type: String, _ fields: [String: Any] = [:]) throws -> [String: Any]? {
        do {
            let m = try sim.event(type, fields)
            log.append("\(type) → \(kind(m)) \(label(m).prefix(30)) \(m["error"].map { "\($0)" } ?? "")")
            if log.count > 40 { log.removeFirst(log.count - 40) }
            return m
        } catch {
            log.append("\(type) → (process ended or failed: \(error))")
            guard ended() else { throw error }
            try reboot(killed: false)
            return nil
        }
    }

    /// Whether the process has ended (waits up to 2 s for it to be reaped).
    func ended() -> Bool {
        for _ in 0..<200 {
            if !sim.process.isRunning { return true }
            usleep(10_000)
        }
        return false
    }

    /// The screen now (rebooting as often as it takes).
    func screen() throws -> [String: Any] {
        for _ in 0..<10 { if let m = try send("screen") { return m } }
        throw SimTestError("haven-sim keeps dying")
    }

    func unlock() throws {
        if chance(0.2) {
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                var wrong: String
                repeat { wrong = String(format: "%04d", Int(rng.next() % 10_000)) } while wrong == LinkedDevice.pin || wrong == LinkedDevice.duressPIN
                guard let m = try send("pin", ["value": wrong]) else { return }
                count("wrong PIN")
                guard kind(m) == "lock" else { throw SimTestError("a wrong PIN gave \(kind(m))") }
            }
        }
        guard let m = try send("pin", ["value": LinkedDevice.pin]) else { return }
        count("unlock")
        guard kind(m) != "lock" else { throw SimTestError("the PIN did not unlock: \(m["notice"] ?? "") \(m["error"] ?? "")") }
    }

    // MARK: Interruptions

    /// One random interruption in the middle of an interview (or none).
    func maybeInterrupt() throws {
        let r = rng.unit()
        switch r {
        case ..<0.025:
            guard let m = try send("quick-exit") else { return }
            count("quick exit (\(quickExitAction))")
            if kind(m) != "lock" {
                // On the decoy: a look at it, then the lock key.
                if chance(0.5) { _ = try send("start") }
                guard try send("lock") != nil else { return }
            }
            try unlock()
        case ..<0.045:
            guard try send("lock") != nil else { return }
            count("lock")
            try unlock()
        case ..<0.06:
            guard let m = try send("tick", ["ms": (autoLockSeconds + 1) * 1000]) else { return }
            count("auto-lock")
            guard kind(m) == "lock" else { throw SimTestError("no auto-lock after \(autoLockSeconds + 1) s: \(kind(m))") }
            try unlock()
        case ..<0.075:
            sim.kill9()
            count("reboot (kill -9)")
            try reboot(killed: true)
        case ..<0.09 where !armed:
            sim.kill9()
            try startSim(powerCutAfter: 1 + Int(rng.next() % 30))
            count("power cut armed (--power-cut-after)")
        default:
            break
        }
    }

    // MARK: One interview

    func makeAnswers(_ index: Int) -> Expected {
        let maritals = ["never", "married", "cohabiting", "separated", "widowed"]
        let hurt = chance(0.4)
        var acts: [String] = []
        if hurt {
            for act in ["slap", "push", "punch", "kick", "weapon"] where chance(0.4) { acts.append(act) }
            if acts.isEmpty { acts = ["none"] }
        }
        let day = 1 + Int(rng.next() % 28), month = 1 + Int(rng.next() % 12)
        return Expected(code: String(format: "FW%04d", index), age: 15 + Int(rng.next() % 35),
                        marital: maritals[Int(rng.next() % 5)], children: Int(rng.next() % 7),
                        date: String(format: "2024-%02d-%02d", month, day), everHurt: hurt ? "yes" : "no", acts: acts,
                        slapFrequency: acts.contains("slap") ? Int(rng.next() % 50) : nil,
                        injured: acts.contains(where: { ["punch", "kick", "weapon"].contains($0) }) ? (chance(0.5) ? "yes" : "no") : nil)
    }

    /// Drives the device until this interview is stored.
    func interview(_ e: Expected) throws {
        var started = false
        var steps = 0
        var finalizing = false
        while true {
            steps += 1
            guard steps < 2000 else {
                throw SimTestError("interview \(e.code) did not finish in 2000 steps; last events:\n" + log.joined(separator: "\n"))
            }
            let m = try screen()
            switch kind(m) {
            case "lock":
                if finalizing { count("power cut during finalize") }
                try unlock()
                continue
            case "home":
                if finalizing {
                    // Cut during finalize and nothing resumed: stored (the
                    // export check proves it).
                    finished.append(e)
                    return
                }
                if started { count("interview lost before its first checkpoint (restarted)") }
                guard let s = try send("start") else { continue }
                if kind(s) != "lock" { started = true }
                continue
            case "finished":
                finished.append(e)
                _ = try send("home")
                return
            default:
                break
            }
            finalizing = false
            if steps % 200 == 0 {
                // Stuck: with a full store, checkpoints fail silently (the
                // controller keeps lastStoreError; nothing on screen says
                // so) and every lock resumes an old checkpoint. A pull frees
                // the space.
                count("interview stuck (store full, checkpoints failing): pulled mid-interview")
                try pull()
            }
            if steps > 1 { try maybeInterrupt() }
            let now = try screen()
            switch kind(now) {
            case "question" where !(now["readonly"] as? Bool ?? false):
                guard let value = e.answer(for: label(now)) else {
                    throw SimTestError("unexpected question \(label(now)) in \(e.code)")
                }
                guard let a = try send("answer", ["value": value]) else { continue }
                guard a["error"] == nil || a["error"] is NSNull else { throw SimTestError("answer refused: \(a["error"]!)") }
                _ = try send("next")
            case "privacy-check":
                _ = try send("yes")
            case "review":
                finalizing = true
                guard let f = try send("finalize") else { continue }
                if kind(f) == "review", "\(f["error"] ?? "")".contains("store is full") {
                    // What the device tells the enumerator: pull, then finish.
                    count("store full at finalize: pulled, then finalized")
                    finalizing = false
                    try pull()
                    continue
                }
                guard kind(f) == "finished" else { throw SimTestError("finalize gave \(kind(f)) \(f["error"] ?? "")") }
                finished.append(e)
                _ = try send("home")
                return
            case "lock", "home", "finished":
                continue
            default:
                _ = try send("next")
            }
        }
    }

    // MARK: Pulls and config updates

    func pull() throws {
        var attempts = 0
        while true {
            attempts += 1
            guard attempts < 30 else { throw SimTestError("pull did not complete in 30 attempts") }
            var m = try screen()
            if kind(m) == "lock" { try unlock(); m = try screen() }
            // Anywhere unlocked (home, or an interview when the store is full).
            guard kind(m) != "lock" else { continue }
            // 0: clean, 1: the host dies, 2: the device loses power; in turn.
            pullAttempts += 1
            let mode = pullAttempts % 3
            let victim = sim!
            let base = try SocketTransport(path: d.socket)
            let transport: any LinkTransport = mode == 0 ? base
                : CuttingTransport(base, afterBytes: 200 + Int(rng.next() % 6000), onCut: mode == 2 ? { victim.kill9() } : nil)
            var p = puller
            p.ackBatch = 1 + Int(rng.next() % 4)
            do {
                let summary = try p.pull(client: LinkClient(transport: transport, timeoutMilliseconds: 5_000))
                count("pull completed")
                count("records pulled", summary.pulled.count)
                return
            } catch {
                transport.close()
                if mode == 2 && !victim.process.isRunning {
                    count("pull cut: device lost power")
                    try reboot(killed: true)
                } else if ended() {
                    try reboot(killed: false)
                    count("pull cut: device lost power")
                } else {
                    count(mode == 1 ? "pull cut: host died" : "pull failed")
                }
            }
        }
    }

    func updateConfig() throws {
        if kind(try screen()) == "lock" { try unlock() }
        let action = quickExitAction == "hide" ? "lock" : "hide"
        for _ in 0..<5 {
            do {
                _ = try Provisioner(bundle: try bundle(version: configVersion + 1, action: action), keyPair: d.signer.keyPair,
                                    ledger: nil, operatorName: "soak").provision(client: try d.client())
                configVersion += 1
                quickExitAction = action
                count("config update")
                return
            } catch {
                // An armed power cut may end the device during the install.
                guard ended() else { throw error }
                try reboot(killed: false)
                if try d.client().identify().configVersion == configVersion + 1 {
                    configVersion += 1
                    quickExitAction = action
                    count("config update")
                    return
                }
            }
        }
        throw SimTestError("config update did not install")
    }

    // MARK: The week

    func run() throws {
        try startSim()
        guard kind(sim.first) == "unprovisioned" else { throw SimTestError("not unprovisioned at first start") }
        _ = try Provisioner(bundle: try bundle(version: 1, action: quickExitAction), keyPair: d.signer.keyPair,
                            ledger: nil, operatorName: "soak").provision(client: try d.client())
        var nextPull = 3 + Int(rng.next() % 10)
        var nextConfig = 15 + Int(rng.next() % 25)
        for i in 0..<interviews {
            let e = makeAnswers(i)
            try interview(e)
            count("interview finished")
            nextPull -= 1
            nextConfig -= 1
            if nextPull == 0 {
                try pull()
                nextPull = 3 + Int(rng.next() % 10)
            }
            if nextConfig == 0 {
                try updateConfig()
                nextConfig = 15 + Int(rng.next() % 25)
            }
        }
        // End of the week: disarm, pull everything.
        if armed { sim.kill9(); count("reboot (kill -9)"); try startSim() }
        try pull()
    }

    // MARK: Verification

    struct Verification {
        var pulledFiles = 0
        var exportedRows = 0
        var checkedValues = 0
        var wear = Wear(counts: [])
        var problems: [String] = []
    }

    func verify() throws -> Verification {
        var v = Verification()
        let files = try FileManager.default.contentsOfDirectory(atPath: pulledDir.path).filter { $0.hasSuffix(".age") }.sorted()
        v.pulledFiles = files.count
        if files.count != finished.count { v.problems.append("\(files.count) files pulled for \(finished.count) finished interviews") }
        let ledgerTotal = try ledger.pullCounts().values.reduce(0, +)
        if ledgerTotal != finished.count { v.problems.append("ledger counts \(ledgerTotal) pulls for \(finished.count)") }
        if try d.client().authenticate(keyPair: d.signer.keyPair).recordsWaiting != 0 { v.problems.append("records still waiting on the device") }
        let instrument = try Instrument(bytes: [UInt8](try Data(contentsOf: d.dir.appendingPathComponent("dv_module.instrument"))))
        let named = try files.map { ($0, [UInt8](try Data(contentsOf: pulledDir.appendingPathComponent($0)))) }
        let out = d.dir.appendingPathComponent("export")
        let summary = try Exporter(identities: [d.identity], instruments: [instrument]).export(files: named, to: out)
        if !summary.duplicates.isEmpty { v.problems.append("exporter found duplicates: \(summary.duplicates)") }
        let csv = try String(contentsOf: out.appendingPathComponent("dv_module.csv"), encoding: .utf8)
            .components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let header = csv[0].components(separatedBy: ",")
        let rows = csv.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0.components(separatedBy: ","))) }
        v.exportedRows = rows.count
        var byCode: [String: [[String: String]]] = [:]
        for row in rows { byCode[row["main-resp_code"] ?? "?", default: []].append(row) }
        for e in finished {
            guard let found = byCode[e.code] else { v.problems.append("\(e.code): not exported"); continue }
            guard found.count == 1 else { v.problems.append("\(e.code): exported \(found.count) times"); continue }
            let row = found[0]
            let want: [(String, String)] = [
                ("consent", "yes"), ("main-age", String(e.age)), ("main-marital", e.marital),
                ("main-children", String(e.children)), ("main-interview_date", e.date),
                ("main-violence-ever_hurt", e.everHurt), ("main-violence-acts", e.acts.joined(separator: " ")),
                ("main-violence-slap_freq", e.slapFrequency.map(String.init) ?? ""),
                ("main-violence-injured", e.injured ?? ""),
            ]
            for (column, value) in want {
                v.checkedValues += 1
                if row[column] != value { v.problems.append("\(e.code) \(column): exported \(row[column] ?? "nil"), typed \(value)") }
            }
        }
        let expectedCodes = Set(finished.map(\.code))
        for code in byCode.keys where !expectedCodes.contains(code) { v.problems.append("exported an interview never finished: \(code)") }
        v.wear = try wear()
        // No interview is in progress at the end: every record still in the
        // store must be pulled or retired (a dead checkpoint left unretired
        // pins the log's tail and, once the ring wraps, fills the store).
        if !v.wear.unretired.isEmpty { v.problems.append("records left unretired in the store (by type): \(v.wear.unretired)") }
        return v
    }

    /// Erase counts of the store's ring blocks, from the block headers the
    /// store itself keeps on flash (each header carries its block's erase
    /// count, carried over from the old header at every erase: cumulative
    /// since the image was made, across reboots). Blocks never opened count
    /// 0. The two superblock blocks and the config area are not included.
    struct Wear {
        var counts: [Int]
        var min: Int { counts.min() ?? 0 }
        var max: Int { counts.max() ?? 0 }
        var total: Int { counts.reduce(0, +) }
        var mean: Double { Double(total) / Double(Swift.max(counts.count, 1)) }
        var blocks: Int { counts.count }
        var neverErased: Int { counts.filter { $0 == 0 }.count }
        /// Records still in the store, not pulled/retired, by type byte
        /// (1 finished interview, 2 checkpoint).
        var unretired: [UInt8: Int] = [:]
    }

    func wear() throws -> Wear {
        let board = try BoardProfile.load(named: "sim", hardwareDirectory: hardwareDir.path)
        let file = try FileFlash(path: d.image, geometry: try board.geometry(), create: false)
        defer { file.close() }
        let flash = try ConfigLayout.split(file).store
        let secret = [UInt8](try Data(contentsOf: URL(fileURLWithPath: d.image + ".secret")))
        let header = try Superblock<FlashPartition<FileFlash>, Sodium>.inspect(flash)
        var dataKey = [UInt8](repeating: 0, count: 32)
        var opened = false
        for (index, slot) in header.slots.enumerated() where !opened {
            var kek = [UInt8](repeating: 0, count: 32)
            try Array(LinkedDevice.pin.utf8).withUnsafeBytes { p in
                try slot.salt.withUnsafeBytes { s in
                    try secret.withUnsafeBytes { sec in
                        try kek.withUnsafeMutableBytes { k in
                            try KeySlots<Sodium>.pinKEK(pin: p, salt: s, iterations: slot.kdfIterations,
                                                        memoryKiB: slot.kdfMemoryKiB, deviceSecret: sec, kek: k)
                        }
                    }
                }
            }
            opened = (try? kek.withUnsafeBytes { k in
                try dataKey.withUnsafeMutableBytes { dk in try KeySlots<Sodium>.unwrap(slot, index: index, kek: k, dataKey: dk) }
            }) != nil
        }
        guard opened else { throw SimTestError("no key slot opens with the PIN") }
        let store = try dataKey.withUnsafeBytes { try LogStore<FlashPartition<FileFlash>, Sodium>(flash: flash, dataKey: $0) }
        defer { store.close() }
        var counts: [Int] = []
        for b in store.geo.ringStart..<(store.geo.ringStart + store.geo.ringCount) {
            counts.append(Int(try store.readBlockHeader(b)?.eraseCount ?? 0))
        }
        var wear = Wear(counts: counts)
        var cursor = try store.makeCursor()
        while let entry = try store.next(&cursor) {
            guard case .record(let id, _) = entry, !store.isPulled(id) else { continue }
            let type = (try? store.read(id).first) ?? 0
            wear.unretired[type ?? 0, default: 0] += 1
        }
        return wear
    }

    func report(_ v: Verification, seconds: Double) -> String {
        var lines = ["Field-week soak: \(interviews) interviews, seed \(rng.seed), \(blocks)-block sim flash (64 KiB blocks), \(String(format: "%.1f", seconds)) s",
                     "What it did:"]
        for (event, n) in counts.sorted(by: { $0.key < $1.key }) { lines.append("  \(event): \(n)") }
        lines.append("  config version at the end: \(configVersion)")
        lines.append("What it verified:")
        lines.append("  finished interviews: \(finished.count); files pulled: \(v.pulledFiles); rows exported: \(v.exportedRows)")
        lines.append("  each finished interview exported exactly once, \(v.checkedValues) values compared with what was typed")
        lines.append("  nothing left waiting on the device; ledger pull count = finished interviews")
        lines.append("  wear over \(v.wear.blocks) ring blocks: erases min \(v.wear.min), max \(v.wear.max), mean \(String(format: "%.2f", v.wear.mean)), total \(v.wear.total), never erased \(v.wear.neverErased)")
        lines.append("  records left in the store unretired: " + (v.wear.unretired.isEmpty ? "none"
            : v.wear.unretired.sorted { $0.key < $1.key }.map { "type \($0.key): \($0.value)" }.joined(separator: ", ")))
        lines.append("  erase counts per ring block: \(v.wear.counts.map(String.init).joined(separator: " "))")
        lines.append(v.problems.isEmpty ? "Result: PASS" : "Result: FAIL\n  " + v.problems.prefix(30).joined(separator: "\n  "))
        return lines.joined(separator: "\n")
    }
}

/// A small, seedable generator (the run is reproducible from its seed,
/// apart from the OS's timing of a kill during a pull).
struct SplitMix64 {
    let seed: UInt64
    var state: UInt64
    init(seed: UInt64) { self.seed = seed; state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
