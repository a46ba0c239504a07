import Foundation

/// The one table of `haven-bench peers` (plain text or Markdown).
struct PeersReport {
    var options: PeersCommand
    var machine: MachineInfo
    var payloads: [[UInt8]]
    var rows: [PeerRow]
    var rss: SimRSS
    var ram: StaticRAM
    var code: PeerCodeSize?

    func table() -> Table {
        var t = Table(["measurement", "system", "how", "value", "ratio to Haven", "notes"],
                      rightAligned: [false, false, false, true, true, false])
        let haven = rows[0]
        for r in rows {
            t.add(["records/s (median of \(options.repetitions) rounds; range \(r.spread))", r.system, r.how, grouped(r.rate),
                   fixed(r.rate / haven.rate, 3) + "×", r.note])
        }
        for r in rows {
            t.add(["bytes written per record (logical)", r.system, "", grouped(r.logicalPerRecord),
                   fixed(r.logicalPerRecord / haven.logicalPerRecord, 2) + "×",
                   "write amplification " + fixed(r.logicalPerRecord / (Double(r.payloadBytes) / Double(r.records)), 2)])
        }
        for r in rows {
            t.add(["bytes to storage per record", r.system, "", grouped(r.storagePerRecord),
                   fixed(r.storagePerRecord / max(haven.storagePerRecord, 1), 2) + "×",
                   "write amplification " + fixed(r.storagePerRecord / (Double(r.payloadBytes) / Double(r.records)), 2)])
        }
        for r in rows {
            t.add(["disk bytes written per record (system-wide)", r.system, "", grouped(r.diskPerRecord),
                   fixed(r.diskPerRecord / max(haven.diskPerRecord, 1), 2) + "×", "/sys/block sectors written during the timed run; other processes' writes included"])
        }
        t.add(["peak RSS, haven-sim, large_500", "Haven", "\(rss.questionsAnswered) questions answered headless, finalized",
               grouped(Double(rss.afterInterview)) + " kB", "", "VmHWM at start \(rss.atStart) kB, after unlock \(rss.afterUnlock) kB; Argon2id \(rss.kdfMemoryKiB) KiB"])
        for (what, bytes) in ram.parts {
            t.add(["static RAM, \(ram.board)", "Haven core", what, grouped(Double(bytes)) + " B", "", "live heap growth (mallinfo2)"])
        }
        t.add(["static RAM, \(ram.board), total", "Haven core", "allocated once, held while unlocked",
               grouped(Double(ram.total)) + " B", "", "+ Argon2id \(ram.kdfKiB) KiB during each unlock only"])
        if let code {
            t.add(["code size, armv7em -Osize (Embedded)", "HavenCore", "text / data / bss",
                   "\(grouped(Double(code.text))) / \(grouped(Double(code.data))) / \(grouped(Double(code.bss))) B", "",
                   "unspecialised generics are not emitted"])
            t.add(["code size, armv7em -Osize (Embedded)", "HavenCore + Tools/embedded", "text / data, store and suite specialised",
                   "\(grouped(Double(code.specialisedText))) / \(grouped(Double(code.specialisedData))) B", "",
                   "includes the self-test's code"])
        }
        return t
    }

    var sizes: String {
        let total = payloads.reduce(0) { $0 + $1.count }
        return "\(payloads.count) records, 512–4,096 B (mean \(grouped(Double(total) / Double(payloads.count))) B)"
    }

    func text() -> String {
        "haven-bench peers — \(machine.summary)\n\(sizes)\n\n" + table().text()
    }

    func markdown() -> String {
        """
        ## Peers: store, memory, code size (issue 8)

        Command (from the repository root):

        ```sh
        swift run -c release haven-bench peers --markdown
        ```

        (Measured with `-sil-verify-none` while Swift 6.3.1 crashed on `SimEventReader.hex4` in release builds; that function is rewritten and the flag is no longer needed.)

        - Machine: \(machine.summary).
        - Records: \(sizes), random bytes (sealed data and encrypted pages do not compress); every system stores the same records, one durable write per record, in the same run.
        - Haven: `AgeSealer` to one X25519 recipient (`u8 type ‖ age file`, as FinishedInterviewSealer) then `LogStore.append` on a `FileFlash` with the \(options.board) geometry (append returns after fsync). Logical bytes = bytes programmed (fragments with both header copies, block headers, anchors), counted by a wrapping Flash.
        - SQLCipher: one `sqlcipher -batch` process on a pipe; `PRAGMA key` (raw 256-bit key), `synchronous=FULL`; one `INSERT` per record in autocommit (BEGIN/COMMIT each), the next line of output (a `SELECT`) marks the commit's return. Logical bytes = growth of the database files (main + journal/WAL); the rollback journal is deleted after each commit, so its writes show only in write_bytes.
        - age: one `age -r RECIPIENT -o FILE` process per record fed on stdin, then `fsync` of the file, directory fsynced at the end.
        - Haven's storage bytes: the 4 KiB pages its programs and erases dirty between two fsyncs (a page-cache model, counted by a wrapping Flash). The kernel's `write_bytes` for the image file is shown in the notes: about 1 MiB per append, with or without readahead (the second Haven row sets POSIX_FADV_RANDOM as a control) — this kernel caches the image in large folios and counts a dirtied folio whole; the disk-level row (sectors written to the disk, system-wide) agrees with the page model, not with write_bytes: it is accounting, not I/O.
        - Disk bytes: sectors written to the disk holding the temporary files (/sys/block stat) during each timed run, per record: system-wide, so parallel builds on the machine add to it; it includes what the per-process counters miss (the ext4 journal, metadata).
        - write_bytes (the other systems): /proc/PID/io `write_bytes` delta (bytes the process dirtied for the block layer, in whole pages) — the sqlcipher child while it is alive, `getrusage(RUSAGE_CHILDREN).ru_oublock × 512` for the age children. Not counted for anyone: ext4's journal (jbd2) and metadata written by the kernel.
        - Peak RSS: `haven-sim --headless` (development set-up, Argon2id 8 KiB so the board's 64 MiB KDF does not mask the interview) through all of `large_500`, VmHWM from /proc/PID/status.
        - Static RAM: live heap growth (glibc `mallinfo2().uordblks`) around what the device allocates once, on x86-64 (pointers are 8 bytes here, 4 on armv7: the slot tables would be a little smaller on the board).
        - Code size: `swiftc -target armv7em-none-none-eabi -enable-experimental-feature Embedded -wmo -Osize` over Sources/HavenCore (as Tools/embedded-check), `llvm-size`.

        \(table().markdown())
        """
    }
}
