/// Integer literals of form defaults (`default` column of an integer
/// question). Decimals and dates use the VM's exact parsers
/// (`NumberScratch.parseDecimal`, `CivilDate.parse`).
enum ValueText {
    /// Optional `-`, then 1–19 digits, within Int64; nothing else.
    static func parseInteger(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        var i = 0
        var negative = false
        if bytes.count > 0 && bytes[0] == 45 {
            negative = true
            i = 1
        }
        if i == bytes.count { return nil }
        var magnitude: UInt64 = 0
        while i < bytes.count {
            let b = bytes[i]
            guard b >= 48 && b <= 57 else { return nil }
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(b - 48))
            if o1 || o2 { return nil }
            magnitude = sum
            i += 1
        }
        if negative {
            if magnitude > UInt64(Int64.max) + 1 { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        return magnitude > UInt64(Int64.max) ? nil : Int64(magnitude)
    }
}
