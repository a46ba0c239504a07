import Foundation
import Testing

/// The field-week soak (issue 8) at a small size for the suite; `Tools/soak`
/// runs it at full size (HAVEN_SOAK_INTERVIEWS, HAVEN_SOAK_SEED,
/// HAVEN_SOAK_BLOCKS). The report (what it did, what it verified) goes to
/// standard output.
@Suite(.serialized) struct FieldWeekSoakTests {
    @Test func aFieldWeekExportsEveryFinishedInterviewExactlyOnce() throws {
        let environment = ProcessInfo.processInfo.environment
        let interviews = Int(environment["HAVEN_SOAK_INTERVIEWS"] ?? "") ?? 80
        let seed = UInt64(environment["HAVEN_SOAK_SEED"] ?? "") ?? 8
        let blocks = Int(environment["HAVEN_SOAK_BLOCKS"] ?? "") ?? 22
        let week = try FieldWeek(interviews: interviews, seed: seed, blocks: blocks)
        let start = Date()
        try week.run()
        let verification = try week.verify()
        print(week.report(verification, seconds: Date().timeIntervalSince(start)))
        #expect(verification.problems.isEmpty, "\(verification.problems.prefix(10))")
        #expect(week.finished.count == interviews)
        #expect(verification.exportedRows == interviews)
        // Every interruption kind happened at least once at this size.
        for event in ["quick exit (hide)", "quick exit (lock)", "lock", "auto-lock", "unlock", "wrong PIN", "reboot (kill -9)",
                      "power cut (flash operation torn, status 99)", "pull completed", "pull cut: device lost power", "pull cut: host died",
                      "config update"] {
            #expect(week.counts[event, default: 0] > 0, "\(event) never happened")
        }
        // Wear: the log wrapped the ring, every ring block was used, and no
        // block was erased much more often than the others.
        let wear = verification.wear
        #expect(wear.total > wear.blocks, "the log did not wrap the ring (\(wear.total) erases over \(wear.blocks) blocks)")
        #expect(wear.neverErased == 0, "ring blocks never erased: \(wear.counts)")
        #expect(Double(wear.max) <= 2 * wear.mean + 1, "uneven wear: \(wear.counts)")
    }
}
