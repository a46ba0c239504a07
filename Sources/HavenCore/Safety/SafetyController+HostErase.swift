/// Crypto-erase on the host's order (link protocol crypto-erase, after the
/// host proved it holds the provisioning key).
extension SafetyController {
    /// Ends any interview (real answers and keys wiped from memory first),
    /// closes the store, erases both superblock blocks (the key slots: two
    /// erases whatever the amount of data) and leaves the device `.erased`:
    /// the lock screen, with nothing left to unlock until a new config is
    /// installed. Unlike the duress path it does not open the decoy.
    public func cryptoEraseForHost() throws(SafetyError) {
        detector.clear()
        real.wipe()
        realActive = false
        decoy.wipe()
        decoyActive = false
        C.zeroize(memory.record)
        C.zeroize(memory.plain)
        closeReal()
        phase = .erased
        do throws(StoreError) {
            try Superblock<F, C>.cryptoErase(flash, liveBlock: liveSuperblock)
        } catch {
            noteStoreError(error)
            throw .store(error)
        }
    }
}
