// Puller: new sealed records from one device into a folder, each made
// durable and entered in the ledger before the device may reclaim it.

import Foundation
import HavenCore
import HavenSodium

/// One device's pull, in the only order that cannot lose a record:
///
/// 1. authenticate with the provisioning key, list the finished records;
/// 2. per record: read it in chunks (pipelined read-record requests), check
///    its SHA-256 against the listing, write it to a staging file, fsync,
///    rename it to `<record id>.age`, fsync the folder, enter it in the
///    ledger;
/// 3. only then acknowledge it, so the device marks it pulled and may
///    reclaim its space.
///
/// Killing the host or the device at any point leaves each record either
/// still waiting on the device, or on disk and in the ledger (and waiting
/// or acknowledged): pulling again skips what is on disk with the same hash
/// and acknowledges it. Every record arrives exactly once.
public struct Puller: Sendable {
    public struct Progress: Sendable {
        public var device: String
        public var recordsDone: Int
        public var recordsTotal: Int
        public var bytesDone: Int
        public var bytesTotal: Int
    }

    public struct Summary: Sendable {
        public var device: String
        public var deviceName: String?
        public var pulled: [String] = []
        /// Already on disk from an earlier, interrupted pull: acknowledged only.
        public var alreadyHad: [String] = []
        public var acknowledged = 0
        public var bytes = 0
        /// Stored but unreadable on the device: reported, not acknowledged.
        public var corrupt: [String] = []
    }

    public let folder: URL
    public let ledger: Ledger
    public let operatorName: String
    public let keyPair: Sodium.Ed25519KeyPair
    /// Records acknowledged per request (a batch made durable together).
    public var ackBatch = 16

    public init(folder: URL, ledger: Ledger, operatorName: String, keyPair: Sodium.Ed25519KeyPair) {
        self.folder = folder
        self.ledger = ledger
        self.operatorName = operatorName
        self.keyPair = keyPair
    }

    /// A record's id and file name: device id, record number and the first
    /// 8 hex digits of the sealed file's SHA-256. The hash part keeps ids
    /// unique when a store re-made after a wipe numbers records from 1
    /// again; pulling the same record twice gives the same id.
    public static func recordID(device: String, number: UInt64, sha256: [UInt8]) -> String {
        "\(device)-\(number)-\(hex(Array(sha256.prefix(4))))"
    }

    public func pull(client: LinkClient, deviceName: String? = nil,
                     progress: (Progress) -> Void = { _ in }) throws -> Summary {
        let identity = try client.authenticate(keyPair: keyPair)
        let device = identity.deviceIDHex
        guard identity.storeState == .available else {
            throw PullError.locked(device: deviceName ?? device, state: "\(identity.storeState)")
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let records = try client.listAllRecords()
        var summary = Summary(device: device, deviceName: deviceName)
        var p = Progress(device: deviceName ?? device, recordsDone: 0, recordsTotal: records.count, bytesDone: 0,
                         bytesTotal: records.reduce(0) { $0 + Int($1.size) })
        progress(p)
        var toAck: [UInt64] = []
        for record in records {
            let id = Self.recordID(device: device, number: record.number, sha256: record.sha256)
            if record.corrupt {
                summary.corrupt.append(id)
                continue
            }
            let name = id + ".age"
            let final = folder.appendingPathComponent(name)
            let hash = hex(record.sha256)
            if let existing = FileManager.default.contents(atPath: final.path) {
                // From an interrupted pull: the same bytes, or a conflict.
                guard hex(Sodium.sha256([UInt8](existing))) == hash else {
                    throw PullError.conflict(file: final.path)
                }
                try ledger.recordPull(device: device, deviceName: deviceName, operatorName: operatorName, record: id,
                                      sha256: hash, bytes: existing.count, file: final.path)
                summary.alreadyHad.append(id)
            } else {
                var bytes: [UInt8] = []
                try client.readRecord(record, from: 0, into: &bytes)
                guard hex(Sodium.sha256(bytes)) == hash else { throw PullError.integrity(record: id) }
                try DurableFile.write(bytes, to: final, staging: folder.appendingPathComponent("." + name + ".partial"))
                try ledger.recordPull(device: device, deviceName: deviceName, operatorName: operatorName, record: id,
                                      sha256: hash, bytes: bytes.count, file: final.path)
                summary.pulled.append(id)
                summary.bytes += bytes.count
            }
            toAck.append(record.number)
            p.recordsDone += 1
            p.bytesDone += Int(record.size)
            progress(p)
            if toAck.count >= ackBatch {
                summary.acknowledged += try client.acknowledge(toAck)
                toAck.removeAll()
            }
        }
        if !toAck.isEmpty { summary.acknowledged += try client.acknowledge(toAck) }
        return summary
    }
}

public enum PullError: Error, CustomStringConvertible {
    case locked(device: String, state: String)
    case conflict(file: String)
    case integrity(record: String)

    public var description: String {
        switch self {
        case .locked(let d, let s):
            "\(d) is \(s): the enumerator must unlock it (PIN) before its records can be pulled"
        case .conflict(let f):
            "\(f) exists with other content: refusing to overwrite it (move it away and pull again)"
        case .integrity(let r):
            "record \(r) arrived with a SHA-256 that does not match the device's listing: nothing written; pull again"
        }
    }
}

/// Writes a file so that after a crash it is either absent or complete:
/// staging file, fsync, rename, fsync of the folder.
enum DurableFile {
    static func write(_ bytes: [UInt8], to final: URL, staging: URL) throws {
        let fd = open(staging.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var ok = bytes.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok, rename(staging.path, final.path) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        let dir = open(final.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 { fsync(dir); close(dir) }
    }
}
