import Glibc

/// Headless mode: one JSON event per line on stdin, one screen model JSON
/// line on stdout after each (and one at start); ends at end of input.
/// Docs/simulator.md §3–4. Input lines, parser scratch and output lines all
/// live in fixed buffers wiped after every event.
public final class Headless {
    let host: DeviceHost
    let loop: EventLoop
    let input = SecretBuffer(capacity: 256 * 1024)
    let reader = SimEventReader(capacity: 256 * 1024)
    let output = SecretBuffer(capacity: 4 * 1024 * 1024)
    /// A line longer than the input buffer is being skipped.
    var discarding = false

    public init(host: DeviceHost, loop: EventLoop) {
        self.host = host
        self.loop = loop
    }

    public func start() {
        loop.add(fd: 0) { [unowned self] _, _ in self.readInput() }
        loop.onTimer = { [unowned self] in self.host.idleTick() }
        emit()
    }

    func readInput() {
        let room = input.capacity - input.count
        let n = read(0, input.bytes.baseAddress! + input.count, room)
        if n < 0 {
            if errno == EINTR || errno == EAGAIN { return }
            loop.stop()
            return
        }
        if n == 0 {
            // End of input: a last line without a newline still counts.
            if input.count > 0 && !discarding { handle(line: input.used) }
            input.wipeUsed()
            loop.stop()
            return
        }
        input.count += n
        processLines()
    }

    func processLines() {
        var start = 0
        let bytes = UnsafeRawBufferPointer(input.bytes)
        var i = 0
        while i < input.count {
            if bytes[i] == 0x0A {
                if discarding {
                    discarding = false
                } else {
                    handle(line: UnsafeRawBufferPointer(rebasing: bytes[start..<i]))
                }
                // Forget the line at once, before the next one runs (it may be a scan).
                memset(input.bytes.baseAddress! + start, 0, i - start)
                start = i + 1
            }
            i += 1
        }
        let rest = input.count - start
        if start > 0 {
            if rest > 0 { memmove(input.bytes.baseAddress!, input.bytes.baseAddress! + start, rest) }
            memset(input.bytes.baseAddress! + rest, 0, input.count - rest)
            input.count = rest
        }
        if input.count == input.capacity {
            // No newline in a full buffer: refuse the line, skip to its end.
            input.wipeUsed()
            discarding = true
            host.reject(.tooLong(limit: input.capacity))
            emit()
        }
    }

    func handle(line: UnsafeRawBufferPointer) {
        var trimmed = line
        while let last = trimmed.last, last == 0x0D || last == 0x20 { trimmed = UnsafeRawBufferPointer(rebasing: trimmed.dropLast()) }
        if trimmed.isEmpty { return }
        do throws(SimEventError) {
            let event = try reader.read(trimmed)
            host.apply(event)
        } catch {
            host.reject(error)
        }
        reader.wipe()
        emit()
    }

    func emit() {
        var w = JSONLineWriter(buffer: output)
        host.writeModel(into: &w)
        if w.overflowed {
            output.wipeUsed()
            var line = "{\"kind\":\"error\",\"error\":\"screen model larger than the output buffer\"}\n"
            line.withUTF8 { writeAll(1, UnsafeRawBufferPointer($0)) }
            return
        }
        writeAll(1, output.used)
        output.wipeUsed()
    }
}
