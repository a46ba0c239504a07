/// The parts of a device the link reaches that are not the store: the
/// config installer, the pinned provisioning key, the real-time clock and
/// (optionally) a custom erase. The integrator plugs these in; the defaults
/// answer `unsupported` and report no config and no pinned key.
public struct StoreLinkHooks {
    /// The installed config's version (0: none).
    public var configVersion: () -> UInt64
    /// The pinned provisioning public key (32 bytes) into the buffer, or false.
    public var provisioningKey: (UnsafeMutableRawBufferPointer) -> Bool
    /// Verifies and installs a config bundle; `sessionKey` is the key the host
    /// authenticated with. Returns the installed version.
    public var installConfig: (_ bundle: UnsafeRawBufferPointer, _ sessionKey: UnsafeRawBufferPointer)
        -> Result<UInt64, LinkFailure>
    /// Sets the civil time behind `Clock.today()`.
    public var setTime: (LinkCivilTime) -> Result<Void, LinkFailure>
    /// Replaces the default erase (`SafetyController.cryptoEraseForHost`),
    /// e.g. to erase the config area too.
    public var erase: (() -> Result<Void, LinkFailure>)?

    public init(configVersion: @escaping () -> UInt64 = { 0 },
                provisioningKey: @escaping (UnsafeMutableRawBufferPointer) -> Bool = { _ in false },
                installConfig: @escaping (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Result<UInt64, LinkFailure>
                    = { _, _ in .failure(LinkFailure(.unsupported)) },
                setTime: @escaping (LinkCivilTime) -> Result<Void, LinkFailure> = { _ in .failure(LinkFailure(.unsupported)) },
                erase: (() -> Result<Void, LinkFailure>)? = nil) {
        self.configVersion = configVersion
        self.provisioningKey = provisioningKey
        self.installConfig = installConfig
        self.setTime = setTime
        self.erase = erase
    }
}

/// The link backend of a real device: records come from the
/// `SafetyController`'s mounted store (unlocked only; otherwise `locked`).
///
/// Only finished interviews (`u8 1 ‖ age file`) are listed, read and
/// acknowledged; checkpoints (type 2) are never listed and cannot be read
/// or acknowledged. Sizes, hashes and bytes are those of the age file, the
/// type byte removed. A record is read whole into one buffer allocated at
/// init (the controller's record capacity) and kept there while the host
/// reads it in chunks, so a chunked read costs one store read per record.
public final class StoreLinkBackend<F: Flash, C: CryptoSuite, Clock: SafetyClock>: LinkBackend {
    public typealias Crypto = C
    public let controller: SafetyController<F, C, Clock>
    public var hooks: StoreLinkHooks
    let identity: ScratchBuffer  // id[16] ‖ board[64] ‖ firmware[64]
    let boardLength: Int
    let firmwareLength: Int
    let record: ScratchBuffer
    var cachedStore: LogStore<F, C>?
    var cachedID: UInt64 = 0
    var cachedLength = 0
    // Finished records waiting, cached until the store changes.
    var waitingStore: LogStore<F, C>?
    var waitingNext: UInt64 = 0
    var waitingUnpulled: UInt64 = 0
    var waitingCount: UInt32 = 0

    /// `deviceID` is 16 bytes; board name and firmware version are UTF-8
    /// (cut at 64 bytes). `recordCapacity` defaults to the controller's
    /// largest record.
    public init(controller: SafetyController<F, C, Clock>, deviceID: UnsafeRawBufferPointer,
                boardName: UnsafeRawBufferPointer, firmwareVersion: UnsafeRawBufferPointer,
                recordCapacity: Int? = nil, hooks: StoreLinkHooks = StoreLinkHooks()) {
        precondition(deviceID.count == 16, "device id is 16 bytes")
        self.controller = controller
        self.hooks = hooks
        identity = ScratchBuffer(count: 16 + 2 * IdentifyResponse.maxText)
        identity.bytes.copy(deviceID, to: 0)
        boardLength = UTF8Validation.boundary(boardName, atMost: IdentifyResponse.maxText)
        identity.bytes.copy(boardName.slice(0, boardLength), to: 16)
        firmwareLength = UTF8Validation.boundary(firmwareVersion, atMost: IdentifyResponse.maxText)
        identity.bytes.copy(firmwareVersion.slice(0, firmwareLength), to: 16 + IdentifyResponse.maxText)
        record = ScratchBuffer(count: recordCapacity ?? controller.memory.record.count)
    }

    deinit {
        C.zeroize(record.bytes)
        record.free()
        identity.free()
    }

    // MARK: Identity

    public func deviceID(into output: UnsafeMutableRawBufferPointer) {
        output.copy(UnsafeRawBufferPointer(identity.bytes.slice(0, 16)), to: 0)
    }

    public func boardName(into output: UnsafeMutableRawBufferPointer) -> Int {
        let n = min(boardLength, output.count)
        output.copy(UnsafeRawBufferPointer(identity.bytes.slice(16, n)), to: 0)
        return n
    }

    public func firmwareVersion(into output: UnsafeMutableRawBufferPointer) -> Int {
        let n = min(firmwareLength, output.count)
        output.copy(UnsafeRawBufferPointer(identity.bytes.slice(16 + IdentifyResponse.maxText, n)), to: 0)
        return n
    }

    public func provisioningKey(into output: UnsafeMutableRawBufferPointer) -> Bool {
        hooks.provisioningKey(output)
    }

    public func deviceStatus() -> LinkDeviceStatus {
        let version = hooks.configVersion()
        guard let store = controller.mountedStore else {
            invalidate()
            return LinkDeviceStatus(configVersion: version, storeState: .locked, freeBytes: 0, recordsWaiting: 0)
        }
        let free = UInt64(store.freeBlocks) * UInt64(store.flash.geometry.eraseBlockSize)
        return LinkDeviceStatus(configVersion: version, storeState: .available, freeBytes: free,
                                recordsWaiting: finishedWaiting(store))
    }

    /// Finished records not yet pulled: a walk reading each record's type
    /// byte, redone only when the store's counters change.
    func finishedWaiting(_ store: LogStore<F, C>) -> UInt32 {
        if waitingStore === store && waitingNext == store.nextRecordID && waitingUnpulled == store.unpulledCount {
            return waitingCount
        }
        var count: UInt32 = 0
        do throws(StoreError) {
            var cursor = try store.makeCursor()
            while let entry = try store.next(&cursor) {
                switch entry {
                case .corrupt:
                    count += 1
                case .record(let id, _):
                    do throws(LinkFailure) {
                        try load(store, id)
                        if isFinished { count += 1 }
                    } catch {
                        if error.code == .recordCorrupt { count += 1 }
                    }
                }
            }
        } catch {
            return count
        }
        waitingStore = store
        waitingNext = store.nextRecordID
        waitingUnpulled = store.unpulledCount
        waitingCount = count
        return count
    }

    // MARK: Records

    func mounted() throws(LinkFailure) -> LogStore<F, C> {
        guard let store = controller.mountedStore else {
            invalidate()  // locked: keep nothing of the last record
            throw LinkFailure(.locked)
        }
        return store
    }

    var isFinished: Bool {
        cachedLength >= 1 && record.bytes[0] == SafetyRecordType.sealedInterview.rawValue
    }

    /// Drops the cached record (its bytes are zeroized).
    public func invalidate() {
        if cachedLength > 0 { C.zeroize(record.bytes.slice(0, cachedLength)) }
        cachedStore = nil
        cachedID = 0
        cachedLength = 0
    }

    /// Reads record `id` into the record buffer unless it is already there.
    func load(_ store: LogStore<F, C>, _ id: UInt64) throws(LinkFailure) {
        if cachedStore === store && cachedID == id && cachedLength > 0 { return }
        invalidate()
        let n: Int
        do throws(StoreError) { n = try store.read(id, into: record.bytes) } catch {
            switch error {
            case .recordNotFound: throw LinkFailure(.unknownRecord)
            case .recordCorrupt: throw LinkFailure(.recordCorrupt)
            default: throw LinkFailure.storage(error)
            }
        }
        cachedStore = store
        cachedID = id
        cachedLength = n
    }

    public func listRecords(after: UInt64, into list: inout RecordListWriter) throws(LinkFailure) {
        let store = try mounted()
        var cursor: RecordCursor
        do throws(StoreError) { cursor = try store.makeCursor() } catch { throw LinkFailure.storage(error) }
        while !list.isFull {
            let entry: RecordEntry?
            do throws(StoreError) { entry = try store.next(&cursor) } catch { throw LinkFailure.storage(error) }
            guard let entry else { return }
            switch entry {
            case .corrupt(let id):
                if id > after { _ = list.append(number: id, size: 0, corrupt: true) }
            case .record(let id, _):
                if id <= after { continue }
                do throws(LinkFailure) { try load(store, id) } catch {
                    if error.code == .recordCorrupt {
                        _ = list.append(number: id, size: 0, corrupt: true)
                        continue
                    }
                    if error.code == .unknownRecord { continue }
                    throw error
                }
                guard isFinished, let hash = list.append(number: id, size: UInt32(cachedLength - 1), corrupt: false)
                else { continue }
                C.sha256(message: UnsafeRawBufferPointer(record.bytes.slice(1, cachedLength - 1)), output: hash)
            }
        }
    }

    public func readRecord(_ number: UInt64, offset: UInt32, into output: UnsafeMutableRawBufferPointer)
        throws(LinkFailure) -> (total: UInt32, count: Int) {
        let store = try mounted()
        try load(store, number)
        guard isFinished else { throw LinkFailure(.unknownRecord) }
        let total = cachedLength - 1
        guard Int(offset) <= total else { throw LinkFailure(.badRequest, detail: 8) }
        let n = min(output.count, total - Int(offset))
        output.copy(UnsafeRawBufferPointer(record.bytes.slice(1 + Int(offset), n)), to: 0)
        return (UInt32(total), n)
    }

    public func acknowledge(_ records: LinkRecordNumbers) throws(LinkFailure) -> Int {
        let store = try mounted()
        // Check every number first: nothing changes unless all are finished
        // records (or already pulled). A record listed as corrupt may be
        // acknowledged: the host gives up on it.
        var i = 0
        while i < records.count {
            let n = records[i]
            i += 1
            if n >= 1 && n < store.nextRecordID && store.isPulled(n) { continue }
            guard n >= 1, n < store.nextRecordID else { throw LinkFailure(.unknownRecord) }
            do throws(LinkFailure) { try load(store, n) } catch {
                if error.code == .recordCorrupt { continue }
                throw error
            }
            guard isFinished else { throw LinkFailure(.unknownRecord) }
        }
        // Mark runs of consecutive numbers with one entry each.
        var changed = 0
        i = 0
        while i < records.count {
            let lower = records[i]
            i += 1
            if store.isPulled(lower) { continue }
            var upper = lower + 1
            while i < records.count && records[i] == upper && !store.isPulled(upper) {
                upper += 1
                i += 1
            }
            do throws(StoreError) { try store.markPulled(lower, upper) } catch { throw LinkFailure.storage(error) }
            changed += Int(upper - lower)
        }
        if changed > 0 {
            do throws(StoreError) { try store.collectGarbage() } catch { throw LinkFailure.storage(error) }
        }
        return changed
    }

    public func setTime(_ time: LinkCivilTime) throws(LinkFailure) {
        try hooks.setTime(time).get()
    }

    public func installConfig(_ bundle: UnsafeRawBufferPointer, sessionKey: UnsafeRawBufferPointer)
        throws(LinkFailure) -> UInt64 {
        invalidate()
        return try hooks.installConfig(bundle, sessionKey).get()
    }

    public func cryptoErase() throws(LinkFailure) {
        invalidate()
        waitingStore = nil
        if let erase = hooks.erase {
            try erase().get()
            return
        }
        do throws(SafetyError) { try controller.cryptoEraseForHost() } catch {
            if case .store(let e) = error { throw LinkFailure.storage(e) }
            throw LinkFailure(.storageError)
        }
    }
}
