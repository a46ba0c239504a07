// ExportValue: how one answer is written in CSV and JSON.

import Foundation
import HavenCore

extension AnswerRecord.Value {
    /// The text ODK writes for this value: integers in decimal, decimals in
    /// their shortest round-trip form without a trailing `.0`, dates as
    /// `YYYY-MM-DD`, select_multiple as space-separated choice values.
    public var exportText: String {
        switch self {
        case .text(let s), .selectOne(let s), .calculated(let s): s
        case .integer(let v): String(v)
        case .decimal(let d): Self.decimalText(d)
        case .date(let days): Self.isoDate(daysSinceEpoch: Int(days))
        case .selectMultiple(let values): values.joined(separator: " ")
        }
    }

    /// JSON: integers and decimals as numbers (non-finite decimals as
    /// strings, which JSON has no number for), everything else as strings.
    public var jsonText: String {
        switch self {
        case .integer(let v): String(v)
        case .decimal(let d) where d.isFinite: Self.decimalText(d)
        default: JSONText.quoted(exportText)
        }
    }

    static func decimalText(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }

    /// `YYYY-MM-DD` of a day number (the core's calendar arithmetic).
    static func isoDate(daysSinceEpoch days: Int) -> String {
        let (y, m, d) = CivilDate.civil(days: days)
        func pad(_ v: Int, _ n: Int) -> String {
            let s = String(abs(v))
            return (v < 0 ? "-" : "") + String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }
}

/// JSON string quoting (RFC 8259 §7).
enum JSONText {
    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// CSV fields (RFC 4180): quoted when they hold a comma, quote, CR or LF.
enum CSVText {
    /// `excelSafe` prefixes a `'` to fields a spreadsheet would run as a
    /// formula (=, +, -, @ at the start, unless the field is a number): off
    /// by default because the export must hold exactly the answers given.
    static func field(_ s: String, excelSafe: Bool = false) -> String {
        var s = s
        if excelSafe, let first = s.unicodeScalars.first,
           "=+@\t\r".unicodeScalars.contains(first) || (first == "-" && Double(s) == nil) {
            s = "'" + s
        }
        if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }

    static func line(_ fields: [String], excelSafe: Bool = false) -> String {
        fields.map { field($0, excelSafe: excelSafe) }.joined(separator: ",") + "\r\n"
    }
}
