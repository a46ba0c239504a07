import Foundation
import HavenHost
import Testing

/// The pull-station ledger: provisions and pulls on a real SQLite file.
@Suite struct LedgerTests {
    @Test func recordsProvisionsAndPullsAndDedupesRepulls() throws {
        let dir = try TempDir()
        let path = dir.path("ledger.sqlite")
        do {
            let ledger = try Ledger(path: path)
            try ledger.recordProvision(device: "aa11", deviceName: "field-01", operatorName: "jean",
                                       configVersion: 3, sha256: "c0ffee", result: "installed",
                                       time: Date(timeIntervalSince1970: 1000))
            #expect(try ledger.recordPull(device: "aa11", deviceName: "field-01", operatorName: "jean",
                                          record: "aa11-1", sha256: "abc", bytes: 900, file: "out/aa11-1.age",
                                          time: Date(timeIntervalSince1970: 2000)))
        }
        // Reopened (another process, a day later): the pull is known.
        let ledger = try Ledger(path: path)
        #expect(try ledger.pulled(record: "aa11-1")?.sha256 == "abc")
        #expect(try ledger.pulled(record: "aa11-2") == nil)
        #expect(try !ledger.recordPull(device: "aa11", deviceName: nil, operatorName: "marie", record: "aa11-1",
                                       sha256: "abc", bytes: 900, file: "x"))
        #expect(throws: LedgerError.self) {
            try ledger.recordPull(device: "aa11", deviceName: nil, operatorName: "marie", record: "aa11-1",
                                  sha256: "different", bytes: 900, file: "x")
        }
        let events = try ledger.events()
        #expect(events.map(\.kind) == [.provision, .pull])
        #expect(events[0].configVersion == 3 && events[0].deviceName == "field-01")
        #expect(events[1].record == "aa11-1" && events[1].bytes == 900)
        #expect(try ledger.events(device: "field-01").count == 2)
        #expect(try ledger.events(device: "bb22").isEmpty)
        #expect(try ledger.pullCounts() == ["aa11": 1])
    }
}
