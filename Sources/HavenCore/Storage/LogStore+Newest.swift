/// Finding the newest record still owed, without walking the log.
extension LogStore {
    /// The highest record id that is not retired (pulled or abandoned), or
    /// nil when there is none. Works on the RAM retired set only: it jumps
    /// over whole retired ranges, so its cost is bounded by the set's 64
    /// ranges, never by the number of records. The safety layer resumes the
    /// interview in progress from this record (Docs/safety.md §5).
    public func newestUnretiredRecord() -> UInt64? {
        var id = nextID &- 1
        while id >= 1 && id >= retired.floor {
            var jumped = false
            var i = 0
            while i < retired.rangeCount {
                if retired.lower(i) <= id && id < retired.upper(i) {
                    id = retired.lower(i) &- 1
                    jumped = true
                    break
                }
                i += 1
            }
            if !jumped { return id }
        }
        return nil
    }
}
