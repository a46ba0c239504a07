import Foundation
import HavenCore
import HavenDevice
import HavenHost
import HavenSodium
import Testing

/// Issue 5 end to end over the socket transport, against a running
/// `haven-sim` process: provision, interviews, pull, export; refused
/// configs; an unauthenticated host; pulls cut by a dying host or a dying
/// device.
@Suite(.serialized) struct LinkEndToEndTests {
    @Test func provisionInterviewPullExportHoldsExactlyTheAnswersGiven() throws {
        let d = try LinkedDevice()
        let sim = try d.start()
        #expect(kind(sim.first) == "unprovisioned")
        try d.provision()
        #expect(kind(try sim.event("screen")) == "lock")
        let typed = try (0..<3).map { try d.interview(sim, code: "KG00\(10 + $0)", age: 20 + $0) }
        let out = d.dir.appendingPathComponent("pulled")
        let ledger = try Ledger(path: d.dir.appendingPathComponent("ledger.sqlite").path)
        let summary = try Puller(folder: out, ledger: ledger, operatorName: "t", keyPair: d.signer.keyPair)
            .pull(client: try d.client())
        #expect(summary.pulled.count == 3 && summary.acknowledged == 3)
        // Every pulled file is a plain age file the age CLI opens.
        for name in summary.pulled {
            let r = try runTool("/usr/bin/age", ["-d", "-i", try d.identityFile(), out.appendingPathComponent(name + ".age").path])
            #expect(r.status == 0 && r.stdout.starts(with: Array("HVNA".utf8)))
        }
        let instrument = try Instrument(bytes: [UInt8](try Data(contentsOf: d.dir.appendingPathComponent("dv_module.instrument"))))
        let files = try summary.pulled.map { ($0, [UInt8](try Data(contentsOf: out.appendingPathComponent($0 + ".age")))) }
        let exportDir = d.dir.appendingPathComponent("export")
        _ = try Exporter(identities: [d.identity], instruments: [instrument]).export(files: files, to: exportDir)
        let csv = try String(contentsOf: exportDir.appendingPathComponent("dv_module.csv"), encoding: .utf8)
            .components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(csv.count == 4)
        let header = csv[0].components(separatedBy: ",")
        var rows: [[String: String]] = csv.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0.components(separatedBy: ","))) }
        rows.sort { $0["main-resp_code"]! < $1["main-resp_code"]! }
        for (row, answers) in zip(rows, typed) {
            #expect(row["consent"] == answers[0])
            #expect(row["main-age"] == answers[1])
            #expect(row["main-marital"] == answers[2])
            #expect(row["main-children"] == answers[3])
            #expect(row["main-resp_code"] == answers[4])
            #expect(row["main-interview_date"] == "2024-06-10")
            #expect(row["main-violence-ever_hurt"] == "no")
            #expect(row["main-violence-acts"] == "")
        }
        // Nothing left to pull; the device says so too.
        #expect(try d.client().authenticate(keyPair: d.signer.keyPair).recordsWaiting == 0)
        #expect(sim.finish() == 0)
    }

    @Test func refusedConfigsLeaveTheDeviceOnItsConfig() throws {
        let d = try LinkedDevice()
        let sim = try d.start()
        try d.provision(version: 2)
        let stranger = ProvisioningKey.generate()
        var unsigned = try d.bundle(version: 3)
        unsigned.withUnsafeMutableBytes { raw in
            // Zero the signature: the last 64 bytes of the signed config.
            let split = try! ConfigBundle.split(UnsafeRawBufferPointer(raw))
            let end = split.config.baseAddress! - UnsafeRawPointer(raw.baseAddress!) + split.config.count
            for i in (end - 64)..<end { raw[i] = 0 }
        }
        let cases: [(String, [UInt8], ProvisioningKey, ConfigRefusal?)] = [
            ("older", try d.bundle(version: 1), d.signer, .notNewer),
            ("same version", try d.bundle(version: 2, pin: "9999"), d.signer, .notNewer),
            ("unsigned", unsigned, d.signer, .badSignature),
            ("signed by another key", try d.bundle(version: 5, key: stranger), d.signer, .notTheSessionKey),
            ("another key's host", try d.bundle(version: 5, key: stranger), stranger, nil),
        ]
        for (what, bundle, key, reason) in cases {
            let client = try d.client()
            do {
                _ = try Provisioner(bundle: bundle, keyPair: key.keyPair, ledger: nil, operatorName: "t").provision(client: client)
                Issue.record("\(what): installed")
            } catch let LinkClientError.refused(request, status, detail) {
                if let reason {
                    #expect(request == .configCommit && status == .configRefused && detail == reason.rawValue, "\(what)")
                } else {
                    #expect(request == .authenticate && status == .authenticationFailed, "\(what)")
                }
            }
        }
        // Still on version 2, and its PIN still opens it.
        #expect(try d.client().identify().configVersion == 2)
        #expect(kind(try sim.event("pin", ["value": LinkedDevice.pin])) == "home")
        try d.interview(sim, code: "KG0001", age: 30)
        #expect(sim.finish() == 0)
    }

    @Test func anUnauthenticatedHostCanOnlyIdentify() throws {
        let d = try LinkedDevice()
        let sim = try d.start()
        try d.provision()
        try d.interview(sim, code: "KG0002", age: 31)
        let client = try d.client()
        let id = try client.identify()
        #expect(id.isProvisioned && !id.isAuthenticated && id.configVersion == 1)
        func refusedUnauthenticated(_ body: () throws -> Void) {
            do { try body(); Issue.record("accepted without authentication") } catch let LinkClientError.refused(_, status, _) {
                #expect(status == .notAuthenticated)
            } catch { Issue.record("\(error)") }
        }
        refusedUnauthenticated { _ = try client.listAllRecords() }
        refusedUnauthenticated { _ = try client.readRecord(1, offset: 0) }
        refusedUnauthenticated { _ = try client.acknowledge([1]) }
        refusedUnauthenticated { try client.cryptoErase() }
        refusedUnauthenticated { _ = try client.putConfig(try d.bundle(version: 9)) }
        // The record is still there for the real station (the simulator
        // serves one connection at a time, as a USB device has one host).
        client.close()
        #expect(try d.client().authenticate(keyPair: d.signer.keyPair).recordsWaiting == 1)
        #expect(sim.finish() == 0)
    }

    /// Pulls cut at many points — by the host dying, and by the device
    /// losing power (kill -9, restart on the same image, unlock) — then
    /// pulled again: every record on disk exactly once, all acknowledged.
    @Test(arguments: ["host", "device"])
    func interruptedPullsDeliverEveryRecordExactlyOnce(_ who: String) throws {
        let d = try LinkedDevice()
        var sim = try d.start()
        try d.provision()
        let count = 8
        for i in 0..<count { try d.interview(sim, code: "KG\(1000 + i)", age: 20 + i) }
        let out = d.dir.appendingPathComponent("pulled")
        let ledger = try Ledger(path: d.dir.appendingPathComponent("ledger.sqlite").path)
        let puller = Puller(folder: out, ledger: ledger, operatorName: "t", keyPair: d.signer.keyPair)
        var cuts = 0
        var cut = 300
        while true {
            let victim = sim
            let transport = CuttingTransport(try SocketTransport(path: d.socket), afterBytes: cut,
                                             onCut: who == "device" ? { victim.kill9() } : nil)
            var p = puller
            p.ackBatch = 3
            do {
                _ = try p.pull(client: LinkClient(transport: transport, timeoutMilliseconds: 5_000))
                break
            } catch {
                cuts += 1
                if who == "device" {
                    sim = try d.start()
                    #expect(kind(try sim.event("pin", ["value": LinkedDevice.pin])) == "home")
                }
            }
            cut += 450
        }
        #expect(cuts >= 3, "the pull was cut \(cuts) times")
        let files = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".age") }
        #expect(files.count == count)
        let codes = try files.map { name -> String in
            let plain = try AgeFile.decrypt([UInt8](try Data(contentsOf: out.appendingPathComponent(name))), identities: [d.identity])
            let record = try AnswerRecord(bytes: plain)
            return record.answers.compactMap { if case .text(let t) = $0.value, t.hasPrefix("KG") { t } else { nil } }.first ?? "?"
        }
        #expect(Set(codes) == Set((0..<count).map { "KG\(1000 + $0)" }))
        #expect(try ledger.pullCounts().values.reduce(0, +) == count)
        #expect(try d.client().authenticate(keyPair: d.signer.keyPair).recordsWaiting == 0)
        #expect(sim.finish() == 0)
    }
}

extension LinkedDevice {
    func identityFile() throws -> String {
        let p = dir.appendingPathComponent("research.agekey").path
        if !FileManager.default.fileExists(atPath: p) { try KeyFiles.writeSecret(KeyFiles.ageIdentityFileText(identity), to: p) }
        return p
    }
}
