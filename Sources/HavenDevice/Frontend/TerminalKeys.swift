/// Keys of the terminal UI, decoded from the bytes a terminal sends.
enum TerminalKey: Equatable {
    case character(UInt8)  // one byte of printable text (UTF-8 bytes pass one by one)
    case enter, backspace, tab
    case up, down, left, right
    case function(Int)
    case control(UInt8)  // Ctrl-A = 1 …
    case escape
}

/// Splits a read of terminal input into keys. A lone escape byte at the
/// end of a read is the Escape key (no timing games).
enum TerminalKeyDecoder {
    static func decode(_ bytes: UnsafeRawBufferPointer, _ emit: (TerminalKey) -> Void) {
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x1B {
                let (key, used) = escape(bytes, i)
                emit(key)
                i += used
                continue
            }
            switch b {
            case 0x0D, 0x0A: emit(.enter)
            case 0x7F, 0x08: emit(.backspace)
            case 0x09: emit(.tab)
            case 0x00..<0x20: emit(.control(b))
            default: emit(.character(b))
            }
            i += 1
        }
    }

    /// ESC [ … (CSI) and ESC O … (SS3) sequences of xterm-like terminals.
    static func escape(_ b: UnsafeRawBufferPointer, _ i: Int) -> (TerminalKey, Int) {
        guard i + 1 < b.count else { return (.escape, 1) }
        let kind = b[i + 1]
        if kind == 0x4F, i + 2 < b.count {  // SS3: ESC O P..S = F1..F4
            switch b[i + 2] {
            case 0x50: return (.function(1), 3)
            case 0x51: return (.function(2), 3)
            case 0x52: return (.function(3), 3)
            case 0x53: return (.function(4), 3)
            case 0x43: return (.right, 3)
            case 0x44: return (.left, 3)
            default: return (.escape, 3)
            }
        }
        guard kind == 0x5B else { return (.escape, 1) }
        var j = i + 2
        var number = 0
        while j < b.count, b[j] >= 0x30 && b[j] <= 0x39 || b[j] == 0x3B {
            if b[j] != 0x3B { number = number * 10 + Int(b[j] - 0x30) }
            j += 1
        }
        guard j < b.count else { return (.escape, j - i) }
        let final = b[j]
        let used = j - i + 1
        switch final {
        case 0x41: return (.up, used)
        case 0x42: return (.down, used)
        case 0x43: return (.right, used)
        case 0x44: return (.left, used)
        case 0x7E:
            let table: [Int: Int] = [11: 1, 12: 2, 13: 3, 14: 4, 15: 5, 17: 6, 18: 7, 19: 8, 20: 9, 21: 10, 23: 11, 24: 12]
            if let f = table[number] { return (.function(f), used) }
            return (.escape, used)
        default:
            return (.escape, used)
        }
    }
}
