@testable import HavenCore
import HavenSodium
import Testing

/// A power cut at every program and erase of an install (first install,
/// which also formats the store, and an update): after each reboot either
/// the old or the new config is the one read, never neither, and the
/// device unlocks with the PIN whenever a config is read.
@Suite struct ConfigPowerCutTests {
    typealias Faulty = FaultInjectingFlash<RAMFlash>

    /// Program and erase operations an install makes.
    func operations(update: Bool) throws -> Int {
        let ram = RAMFlash(geometry: ConfigFixture.geometry)
        if update { try ConfigDevice(ram).install(try ConfigFixture().build().bundle) }
        let faulty = Faulty(ram)
        var v2 = ConfigFixture()
        v2.version = 2
        try ConfigDevice(faulty).install(try v2.build().bundle)
        return faulty.operations
    }

    @Test(arguments: [false, true])
    func aPowerCutAtEveryFlashOperationLeavesTheOldOrTheNewConfig(update: Bool) throws {
        let total = try operations(update: update)
        #expect(total >= (update ? 3 : 6))
        var v2 = ConfigFixture()
        v2.version = 2
        let bundle = try v2.build().bundle
        var sawOld = 0, sawNew = 0
        for cut in 1...total {
            // The last operation (the commit header) gets more seeds: some tear
            // it part-way (old config), some let every unit land (new config).
            for seed in (cut == total ? Array(UInt64(1)...24) : [1, 2, 3]) {
                let ram = RAMFlash(geometry: ConfigFixture.geometry)
                if update { try ConfigDevice(ram).install(try ConfigFixture().build().bundle) }
                let faulty = Faulty(ram, powerCutAt: cut, seed: seed)
                do {
                    try ConfigDevice(faulty).install(bundle)
                    // A cut on the last operation may tear it after the fact.
                } catch let error as ConfigError {
                    #expect(error == .flash(.powerLost) || error == .store(.flash(.powerLost)), "cut \(cut): \(error)")
                }
                let rebooted = try ConfigDevice(ram)
                let version = try rebooted.area.load()?.version
                if update {
                    #expect(version == 1 || version == 2, "cut \(cut) seed \(seed): neither config")
                } else {
                    #expect(version == nil || version == 2, "cut \(cut) seed \(seed)")
                }
                if version == 1 { sawOld += 1 }
                if version == 2 { sawNew += 1 }
                if version != nil {
                    #expect(try rebooted.boot().unlock(SafetyDevice.pin) == .unlocked, "cut \(cut) seed \(seed)")
                }
                // Installing again after the cut completes the job.
                if version != 2 {
                    _ = try rebooted.install(bundle)
                    #expect(try rebooted.area.load()?.version == 2)
                    #expect(try rebooted.boot().unlock(SafetyDevice.pin) == .unlocked)
                }
            }
        }
        #expect(sawNew > 0)
        if update { #expect(sawOld > 0) }
    }
}
