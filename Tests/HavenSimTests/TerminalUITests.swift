import Foundation
import Testing

/// A tiny VT100 screen: enough of the escapes haven-sim's terminal UI
/// sends (cursor position, clear screen, clear line, attributes) to know
/// what a person would see on the terminal.
struct VirtualScreen {
    var rows: Int
    var columns: Int
    var cells: [[Character]]
    var row = 0
    var column = 0
    var alternate = false
    private var pending: [UInt8] = []

    init(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        cells = Array(repeating: Array(repeating: " ", count: columns), count: rows)
    }

    mutating func resize(rows: Int, columns: Int) {
        self = VirtualScreen(rows: rows, columns: columns)
    }

    var text: String { cells.map { String($0).replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }.joined(separator: "\n") }

    mutating func feed(_ bytes: [UInt8]) {
        pending += bytes
        var i = 0
        let b = pending
        while i < b.count {
            let c = b[i]
            if c == 0x1B {
                guard i + 1 < b.count else { break }
                guard b[i + 1] == 0x5B else { i += 2; continue }
                var j = i + 2
                while j < b.count, !(0x40...0x7E).contains(b[j]) { j += 1 }
                guard j < b.count else { break }
                let params = String(decoding: b[(i + 2)..<j], as: UTF8.self)
                csi(params, b[j])
                i = j + 1
                continue
            }
            if c == 0x0D { column = 0; i += 1; continue }
            if c == 0x0A { row = min(row + 1, rows - 1); i += 1; continue }
            if c < 0x20 { i += 1; continue }
            var n = 1
            if c >= 0xF0 { n = 4 } else if c >= 0xE0 { n = 3 } else if c >= 0xC0 { n = 2 }
            guard i + n <= b.count else { break }
            let s = String(decoding: b[i..<(i + n)], as: UTF8.self)
            if row < rows && column < columns { cells[row][column] = s.first ?? "?" }
            column += 1
            i += n
        }
        pending = Array(b[i...])
    }

    mutating func csi(_ params: String, _ final: UInt8) {
        let numbers = params.split(separator: ";").map { Int($0.filter(\.isNumber)) ?? 1 }
        switch final {
        case 0x48:  // H
            row = max(0, min(rows - 1, (numbers.first ?? 1) - 1))
            column = max(0, min(columns - 1, (numbers.count > 1 ? numbers[1] : 1) - 1))
        case 0x4A:  // J
            if params == "2" { cells = Array(repeating: Array(repeating: " ", count: columns), count: rows) }
        case 0x4B:  // K
            if row < rows { for k in column..<columns { cells[row][k] = " " } }
        case 0x68, 0x6C:  // h, l
            if params == "?1049" { alternate = final == 0x68 }
        default: break
        }
    }
}

/// haven-sim's terminal UI in a real pseudo-terminal (openpty), driven by
/// keystrokes; the screen is read back through `VirtualScreen`.
final class PTYSession {
    let process = Process()
    var master: Int32 = -1
    var slave: Int32 = -1
    var screen: VirtualScreen
    var raw: [UInt8] = []

    init(arguments: [String], rows: Int = 30, columns: Int = 100) throws {
        var size = winsize(ws_row: UInt16(rows), ws_col: UInt16(columns), ws_xpixel: 0, ws_ypixel: 0)
        guard openpty(&master, &slave, nil, nil, &size) == 0 else { throw SimTestError("openpty failed") }
        screen = VirtualScreen(rows: rows, columns: columns)
        process.executableURL = URL(fileURLWithPath: try simBinary())
        process.arguments = arguments
        let handle = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
        process.standardInput = handle
        process.standardOutput = handle
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        close(master)
        close(slave)
    }

    func type(_ text: String) { keys(Array(text.utf8)) }

    func keys(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
    }

    static let f11: [UInt8] = Array("\u{1B}[23~".utf8)
    static let f12: [UInt8] = Array("\u{1B}[24~".utf8)
    static let f2: [UInt8] = Array("\u{1B}OQ".utf8)
    static let enter: [UInt8] = [0x0D]

    /// Reads output until `predicate(screen text)` holds (or fails after 20 s).
    @discardableResult
    func waitFor(_ what: String, timeout: Double = 20, _ predicate: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if predicate(screen.text) { return screen.text }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else {
                let tail = String(decoding: raw.suffix(300), as: UTF8.self).debugDescription
                throw SimTestError("screen never showed \(what); it shows:\n\(screen.text)\nlast output: \(tail)")
            }
            var p = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, Int32(min(left, 0.5) * 1000)) > 0 {
                var buffer = [UInt8](repeating: 0, count: 65536)
                let n = read(master, &buffer, buffer.count)
                if n > 0 {
                    raw += buffer[0..<n]
                    screen.feed(Array(buffer[0..<n]))
                }
            }
        }
    }

    @discardableResult
    func waitFor(_ text: String) throws -> String { try waitFor(text) { $0.contains(text) } }

    /// The terminal's mode as the slave sees it.
    func localFlags() -> tcflag_t {
        var t = termios()
        tcgetattr(slave, &t)
        return t.c_lflag
    }
}

@Suite struct TerminalUITests {
    @Test func unlockAnswerQuickExitUnlockResumeFinalize() throws {
        let device = try SimDevice()
        let pty = try PTYSession(arguments: device.arguments(headless: false))
        try pty.waitFor("Enter PIN")
        #expect(pty.localFlags() & tcflag_t(ICANON | ECHO) == 0)  // raw mode
        pty.type("24")
        let masked = try pty.waitFor("• • _")
        #expect(!masked.contains("24"))
        pty.type("68")
        pty.keys(PTYSession.enter)
        try pty.waitFor("Domestic violence module (Haven fixture)")
        pty.keys(PTYSession.enter)
        try pty.waitFor("This interview is about your health")
        pty.keys(PTYSession.enter)
        try pty.waitFor("( ) Yes")
        pty.type("1")
        try pty.waitFor("(•) Yes")
        pty.keys(PTYSession.f2)  // language switch
        try pty.waitFor("Wemeye kugira uruhare")
        pty.keys(PTYSession.f2)
        try pty.waitFor("Do you agree to take part")
        pty.keys(PTYSession.enter)
        try pty.waitFor("Survey round")
        pty.keys(PTYSession.enter)
        try pty.waitFor("How old are you?")
        pty.keys(PTYSession.enter)  // nothing typed: required
        try pty.waitFor("Please enter the respondent's age.")
        pty.type("34\r")
        try pty.waitFor("You said you are")
        pty.keys(PTYSession.enter)
        try pty.waitFor("marital")
        pty.type("2")
        pty.keys(PTYSession.enter)
        try pty.waitFor("children")
        pty.type("3\r")
        try pty.waitFor("Respondent code")
        pty.type("QX77")
        try pty.waitFor("> QX77_")

        // Quick exit in the middle of typing: the decoy, nothing of the interview.
        pty.keys(PTYSession.f12)
        let decoy = try pty.waitFor("decoy question") { $0.contains("household") || $0.contains("Household") }
        #expect(!decoy.contains("QX77"))
        #expect(!decoy.contains("Respondent"))
        #expect(decoy.contains("F12: exit"))

        // Lock, unlock: the interview is back where it was saved.
        pty.keys(PTYSession.f11)
        try pty.waitFor("Enter PIN")
        pty.type("2468\r")
        let resumed = try pty.waitFor("Respondent code")
        #expect(!resumed.contains("QX77"))  // the half-typed draft was never an answer
        pty.type("QX7731\r")
        try pty.waitFor("Date of the interview")
        pty.type("2024-06-01\r")
        // The rest: decline the private section, go to the end, finalize.
        for _ in 0..<12 {
            let text = try pty.waitFor("a next screen") { !$0.contains("(YYYY-MM-DD)") }
            if text.contains("The interview was saved.") { break }
            if text.contains("End of the questionnaire") {
                #expect(text.contains("Respondent code: QX7731"))
                #expect(text.contains("Date of the interview: 2024-06-01"))
                pty.keys(PTYSession.enter)
                try pty.waitFor("The interview was saved.")
                break
            }
            let before = text
            if text.contains("alone") { pty.type("n") } else { pty.keys(PTYSession.enter) }
            try pty.waitFor("the screen to change") { $0 != before }
        }
        try pty.waitFor("The interview was saved.")
        pty.keys([0x11])  // Ctrl-Q: power off
        pty.process.waitUntilExit()
        #expect(pty.process.terminationStatus == 0)
        _ = try? pty.waitFor("alternate screen left", timeout: 2) { _ in !pty.screen.alternate }
        #expect(!pty.screen.alternate)
        #expect(pty.localFlags() & tcflag_t(ICANON | ECHO) == tcflag_t(ICANON | ECHO))  // restored
        #expect(try device.finishedRecords().count == 1)
    }

    @Test func redrawsOnResizeAndRestoresTheTerminalOnSIGTERM() throws {
        let device = try SimDevice()
        let pty = try PTYSession(arguments: device.arguments(headless: false), rows: 24, columns: 80)
        try pty.waitFor("Enter PIN")
        #expect(pty.screen.cells[23].contains("E"))  // help line on the last row
        var size = winsize(ws_row: 40, ws_col: 120, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(pty.master, UInt(TIOCSWINSZ), &size)
        pty.screen.resize(rows: 40, columns: 120)
        kill(pty.process.processIdentifier, SIGWINCH)  // not our controlling terminal: send it ourselves
        try pty.waitFor("help line on row 40") { _ in String(pty.screen.cells[39]).contains("unlock") }
        kill(pty.process.processIdentifier, SIGTERM)
        pty.process.waitUntilExit()
        #expect(pty.process.terminationReason == .uncaughtSignal)
        _ = try? pty.waitFor("alternate screen left", timeout: 2) { _ in !pty.screen.alternate }
        #expect(!pty.screen.alternate)
        #expect(pty.localFlags() & tcflag_t(ICANON | ECHO) == tcflag_t(ICANON | ECHO))
    }

    @Test func theHardwareButtonHidesAndACrashStillRestoresTheTerminal() throws {
        let device = try SimDevice()
        let pty = try PTYSession(arguments: device.arguments(headless: false))
        try pty.waitFor("Enter PIN")
        pty.type("2468\r")
        try pty.waitFor("Domestic violence module")
        pty.keys(PTYSession.enter)
        try pty.waitFor("This interview is about your health")
        pty.keys([0x02, 0x02])  // two presses, then the window runs out: nothing
        usleep(1_700_000)
        pty.keys(PTYSession.enter)
        try pty.waitFor("Do you agree to take part")
        usleep(200_000)
        #expect(try pty.waitFor("Do you agree to take part").contains("( ) Yes"))
        pty.keys([0x02, 0x02, 0x02])  // three within 1.5 s: quick exit (hide)
        let decoy = try pty.waitFor("the decoy") { $0.contains("household") || $0.contains("Household") }
        #expect(!decoy.contains("agree"))
        kill(pty.process.processIdentifier, SIGSEGV)
        pty.process.waitUntilExit()
        #expect(pty.process.terminationReason == .uncaughtSignal)
        #expect(pty.process.terminationStatus == SIGSEGV)
        _ = try? pty.waitFor("alternate screen left", timeout: 2) { _ in !pty.screen.alternate }
        #expect(!pty.screen.alternate)
        #expect(pty.localFlags() & tcflag_t(ICANON | ECHO) == tcflag_t(ICANON | ECHO))
    }

    @Test func anUnprovisionedDeviceShowsItsIDAndPowersOff() throws {
        let device = try SimDevice()
        let pty = try PTYSession(arguments: ["--image", device.image, "--hardware",
                                             repositoryRoot.appendingPathComponent("Hardware").path])
        let text = try pty.waitFor("This device is not set up yet.")
        #expect(text.range(of: "Device id: [0-9a-f]{32}", options: .regularExpression) != nil)
        pty.type("2468\r")  // nothing to unlock
        pty.keys([0x11])
        pty.process.waitUntilExit()
        #expect(pty.process.terminationStatus == 0)
    }
}
