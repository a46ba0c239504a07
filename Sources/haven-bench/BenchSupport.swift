// Shared by every subcommand: a monotonic clock, summary statistics, number
// formatting, tables (plain text and Markdown), machine facts, temp folders.

import CSodium
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// MARK: Clock

/// Monotonic time in nanoseconds (CLOCK_MONOTONIC; no allocation).
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Seconds `body` takes.
@inline(__always)
func timed(_ body: () throws -> Void) rethrows -> Double {
    let start = monotonicNanoseconds()
    try body()
    return Double(monotonicNanoseconds() - start) / 1e9
}

// MARK: Statistics

/// Median, minimum and maximum of a sample.
struct Summary {
    var median: Double
    var min: Double
    var max: Double
    var count: Int

    init(_ values: [Double]) {
        precondition(!values.isEmpty, "empty sample")
        let sorted = values.sorted()
        let n = sorted.count
        median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        min = sorted[0]
        max = sorted[n - 1]
        count = n
    }
}

// MARK: Formatting

/// 1234567.8 → "1,234,568".
func grouped(_ value: Double) -> String {
    let negative = value < 0
    var digits = String(Int((abs(value)).rounded()))
    var parts: [Substring] = []
    while digits.count > 3 {
        parts.insert(Substring(digits.suffix(3)), at: 0)
        digits.removeLast(3)
    }
    parts.insert(Substring(digits), at: 0)
    return (negative ? "-" : "") + parts.joined(separator: ",")
}

func fixed(_ value: Double, _ decimals: Int) -> String {
    String(format: "%.\(decimals)f", value)
}

/// "PASS" / "FAIL".
func verdict(_ ok: Bool) -> String { ok ? "PASS" : "FAIL" }

// MARK: Tables

/// A table rendered either as aligned plain text or as a Markdown table.
struct Table {
    var headers: [String]
    /// Right-align a column (numbers).
    var rightAligned: [Bool]
    var rows: [[String]] = []

    init(_ headers: [String], rightAligned: [Bool]? = nil) {
        self.headers = headers
        self.rightAligned = rightAligned ?? headers.map { _ in false }
    }

    mutating func add(_ row: [String]) {
        precondition(row.count == headers.count, "row width")
        rows.append(row)
    }

    func text(indent: String = "  ") -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = Swift.max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var out = indent
            for (i, cell) in cells.enumerated() {
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                out += rightAligned[i] ? pad + cell : cell + pad
                if i < cells.count - 1 { out += "  " }
            }
            while out.hasSuffix(" ") { out.removeLast() }
            return out
        }
        var lines = [line(headers)]
        lines.append(indent + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        for row in rows { lines.append(line(row)) }
        return lines.joined(separator: "\n")
    }

    func markdown() -> String {
        func line(_ cells: [String]) -> String {
            "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
        }
        var lines = [line(headers)]
        lines.append("|" + rightAligned.map { $0 ? "---:|" : "---|" }.joined())
        for row in rows { lines.append(line(row)) }
        return lines.joined(separator: "\n")
    }
}

// MARK: Machine

/// What the numbers were measured on.
struct MachineInfo {
    var cpuModel: String
    var cpus: Int
    var libsodium: String

    static func current() -> MachineInfo {
        var model = "unknown CPU"
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("model name") {
                if let colon = line.firstIndex(of: ":") {
                    model = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                break
            }
        }
        return MachineInfo(cpuModel: model, cpus: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))),
                           libsodium: String(cString: sodium_version_string()))
    }

    var summary: String { "\(cpus) CPUs (nproc), \(cpuModel), libsodium \(libsodium)" }
}

// MARK: Temporary files

/// Unique paths for temporary files in `$TMPDIR` (or /tmp, or `parent`).
/// Callers unlink each file as soon as it is open: the descriptor keeps it
/// alive, so nothing is left behind even when a run is interrupted.
final class TemporaryFiles {
    let directory: String
    private var counter = 0

    init(parent: String?) throws {
        let environment = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 }
        directory = parent ?? environment ?? "/tmp"
        guard access(directory, W_OK | X_OK) == 0 else { throw BenchError.system("access \(directory)", errno) }
    }

    func path(_ name: String) -> String {
        counter += 1
        return "\(directory)/haven-bench-\(getpid())-\(counter)-\(name)"
    }
}

enum BenchError: Error, CustomStringConvertible {
    case system(String, Int32)
    case failed(String)

    var description: String {
        switch self {
        case .system(let what, let code): return "\(what) failed: \(String(cString: strerror(code))) (errno \(code))"
        case .failed(let text): return text
        }
    }
}

/// Writes to stderr (progress notes, so stdout stays the report).
func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
