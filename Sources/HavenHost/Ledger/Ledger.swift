// Ledger: the pull station's chain of custody in SQLite (GRDB).

import Foundation
import GRDB

/// Every provision and every pulled record, with device, config version,
/// record ids and hashes, time and operator. Re-pulls dedupe against it
/// (`pulled(device:record:)`), and `haven ledger` prints it.
///
/// Holds no secrets and no plaintext: hashes of sealed files, ids and names.
public final class Ledger: @unchecked Sendable {
    let db: DatabaseQueue

    public struct Event: Codable, Equatable, Sendable {
        public enum Kind: String, Codable, Sendable { case provision, pull }
        public var kind: Kind
        public var time: Date
        public var device: String
        public var deviceName: String?
        public var operatorName: String
        /// Config version (provision) or nil.
        public var configVersion: UInt64?
        /// SHA-256 hex of the config bundle (provision) or sealed file (pull).
        public var sha256: String
        /// Record id (pull) or nil.
        public var record: String?
        public var bytes: Int?
        public var file: String?
        public var result: String
    }

    /// Opens (creating when missing) the ledger at `path`.
    public init(path: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        db = try DatabaseQueue(path: path, configuration: config)
        try Self.migrator.migrate(db)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.create(table: "provision") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("time", .datetime).notNull()
                t.column("device", .text).notNull()
                t.column("deviceName", .text)
                t.column("operatorName", .text).notNull()
                t.column("configVersion", .integer).notNull()
                t.column("sha256", .text).notNull()
                t.column("result", .text).notNull()
            }
            try db.create(table: "pull") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("time", .datetime).notNull()
                t.column("device", .text).notNull()
                t.column("deviceName", .text)
                t.column("operatorName", .text).notNull()
                t.column("record", .text).notNull().unique()
                t.column("sha256", .text).notNull()
                t.column("bytes", .integer).notNull()
                t.column("file", .text).notNull()
            }
        }
        return m
    }

    public func recordProvision(device: String, deviceName: String?, operatorName: String,
                                configVersion: UInt64, sha256: String, result: String, time: Date = Date()) throws {
        try db.write { db in
            try db.execute(sql: """
                INSERT INTO provision (time, device, deviceName, operatorName, configVersion, sha256, result)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [time, device, deviceName, operatorName, Int64(bitPattern: configVersion), sha256, result])
        }
    }

    /// The pull of `record` already recorded, if any (hash and file).
    public func pulled(record: String) throws -> (sha256: String, file: String)? {
        try db.read { db in
            try Row.fetchOne(db, sql: "SELECT sha256, file FROM pull WHERE record = ?", arguments: [record])
                .map { ($0["sha256"], $0["file"]) }
        }
    }

    /// Records a pulled record. A second pull of the same record with the
    /// same hash is a no-op (returns false); with another hash it is refused
    /// (`LedgerError.conflict`): two different files must never share an id.
    @discardableResult
    public func recordPull(device: String, deviceName: String?, operatorName: String, record: String,
                           sha256: String, bytes: Int, file: String, time: Date = Date()) throws -> Bool {
        try db.write { db in
            if let existing = try String.fetchOne(db, sql: "SELECT sha256 FROM pull WHERE record = ?",
                                                  arguments: [record]) {
                guard existing == sha256 else { throw LedgerError.conflict(record: record, known: existing, new: sha256) }
                return false
            }
            try db.execute(sql: """
                INSERT INTO pull (time, device, deviceName, operatorName, record, sha256, bytes, file)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [time, device, deviceName, operatorName, record, sha256, bytes, file])
            return true
        }
    }

    /// Everything, oldest first, optionally for one device (id or name).
    public func events(device: String? = nil) throws -> [Event] {
        try db.read { db in
            var events: [Event] = []
            let filter = device == nil ? "" : " WHERE device = ? OR deviceName = ?"
            let args: StatementArguments = device.map { [$0, $0] } ?? []
            for row in try Row.fetchAll(db, sql: "SELECT * FROM provision" + filter, arguments: args) {
                events.append(Event(kind: .provision, time: row["time"], device: row["device"],
                                    deviceName: row["deviceName"], operatorName: row["operatorName"],
                                    configVersion: UInt64(bitPattern: row["configVersion"] as Int64),
                                    sha256: row["sha256"], record: nil, bytes: nil, file: nil, result: row["result"]))
            }
            for row in try Row.fetchAll(db, sql: "SELECT * FROM pull" + filter, arguments: args) {
                events.append(Event(kind: .pull, time: row["time"], device: row["device"],
                                    deviceName: row["deviceName"], operatorName: row["operatorName"],
                                    configVersion: nil, sha256: row["sha256"], record: row["record"],
                                    bytes: row["bytes"], file: row["file"], result: "pulled"))
            }
            return events.sorted { $0.time < $1.time }
        }
    }

    /// Number of pulled records per device id.
    public func pullCounts() throws -> [String: Int] {
        try db.read { db in
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT device, COUNT(*) AS n FROM pull GROUP BY device") {
                out[row["device"]] = row["n"]
            }
            return out
        }
    }
}

public enum LedgerError: Error, Equatable, CustomStringConvertible {
    case conflict(record: String, known: String, new: String)

    public var description: String {
        switch self {
        case .conflict(let r, let k, let n):
            "record \(r) was pulled before with SHA-256 \(k.prefix(16))…, now \(n.prefix(16))…: refusing to replace it (a device that reused a record id, or a tampered file)"
        }
    }
}
