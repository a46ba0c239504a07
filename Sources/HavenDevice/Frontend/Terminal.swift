import Glibc

/// The host terminal: raw mode, the alternate screen, and putting both back
/// on every way out — normal exit, SIGINT/SIGTERM/SIGHUP, a crash signal
/// (SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT: Swift's traps), and
/// a simulated power cut. The restore path is async-signal-safe (tcsetattr
/// and write on pre-allocated state only).
enum Terminal {
    nonisolated(unsafe) static var saved = termios()
    nonisolated(unsafe) static var active = false
    /// Write end of the self-pipe SIGWINCH writes to.
    nonisolated(unsafe) static var resizeWriteFD: Int32 = -1

    static let enterSequence: StaticString = "\u{1B}[?1049h\u{1B}[?25l\u{1B}[H\u{1B}[2J"
    static let leaveSequence: StaticString = "\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l"

    /// Raw mode (no echo, no line editing, byte at a time; signals kept so
    /// Ctrl-C still ends the simulator cleanly) and the alternate screen.
    static func enter() -> Bool {
        guard isatty(0) == 1, tcgetattr(0, &saved) == 0 else { return false }
        var raw = saved
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL | BRKINT | INPCK | ISTRIP)
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | IEXTEN)
        raw.c_cflag |= tcflag_t(CS8)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        guard tcsetattr(0, TCSAFLUSH, &raw) == 0 else { return false }
        active = true
        installHandlers()
        PowerCutFlash_setHook()
        write(enterSequence)
        return true
    }

    /// Leaves the alternate screen and restores the saved mode (idempotent,
    /// async-signal-safe).
    static func restore() {
        guard active else { return }
        active = false
        write(leaveSequence)
        _ = tcsetattr(0, TCSAFLUSH, &saved)
    }

    static func write(_ s: StaticString) {
        _ = Glibc.write(1, s.utf8Start, s.utf8CodeUnitCount)
    }

    /// Rows and columns of the terminal (80 × 24 when unknown).
    static func size() -> (rows: Int, columns: Int) {
        var w = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &w) == 0, w.ws_row > 0, w.ws_col > 0 {
            return (Int(w.ws_row), Int(w.ws_col))
        }
        return (24, 80)
    }

    /// A pipe that becomes readable on every SIGWINCH (for the event loop).
    static func resizePipe() -> Int32 {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return -1 }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        resizeWriteFD = fds[1]
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            var b: UInt8 = 1
            _ = Glibc.write(Terminal.resizeWriteFD, &b, 1)
        }
        action.sa_flags = SA_RESTART
        sigemptyset(&action.sa_mask)
        sigaction(SIGWINCH, &action, nil)
        unblock([SIGWINCH])
        return fds[0]
    }

    static func installHandlers() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            Terminal.restore()
            // Default action now: the process ends as the signal intended
            // (a core dump for a crash, status 128+n for a kill).
            Glibc.signal(signal, SIG_DFL)
            raise(signal)
        }
        action.sa_flags = Int32(bitPattern: UInt32(SA_RESETHAND) | UInt32(SA_NODEFER))
        sigemptyset(&action.sa_mask)
        let signals = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT]
        for s in signals { sigaction(s, &action, nil) }
        unblock(signals)
    }

    /// A parent may start us with signals blocked (the mask is inherited
    /// across exec); the ones we handle must get through.
    static func unblock(_ signals: [Int32]) {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        sigprocmask(SIG_UNBLOCK, &set, nil)
    }
}

/// A simulated power cut restores the terminal before the process ends.
private func PowerCutFlash_setHook() {
    PowerCutFlash.beforePowerOff = { Terminal.restore() }
}
