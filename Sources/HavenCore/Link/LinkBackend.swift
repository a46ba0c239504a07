/// A refusal a backend returns: the status code and its detail byte, sent
/// to the host as is.
public struct LinkFailure: Error, Equatable, Sendable {
    public var code: LinkStatusCode
    public var detail: UInt8
    public init(_ code: LinkStatusCode, detail: UInt8 = 0) {
        self.code = code
        self.detail = detail
    }

    public static func storage(_ error: StoreError) -> LinkFailure {
        LinkFailure(.storageError, detail: LinkStoreErrorCode(error).rawValue)
    }
}

/// What identify reports besides the fixed identity.
public struct LinkDeviceStatus: Equatable, Sendable {
    public var configVersion: UInt64
    public var storeState: LinkStoreState
    public var freeBytes: UInt64
    public var recordsWaiting: UInt32

    public init(configVersion: UInt64, storeState: LinkStoreState, freeBytes: UInt64, recordsWaiting: UInt32) {
        self.configVersion = configVersion
        self.storeState = storeState
        self.freeBytes = freeBytes
        self.recordsWaiting = recordsWaiting
    }
}

/// The device operations behind the link protocol, implemented by the
/// device runtime (`StoreLinkBackend` on a `SafetyController`, test doubles).
/// `LinkServer` is generic over it (no existentials), checks framing,
/// sessions and authentication, and calls these only with well-formed,
/// authorised requests. Implementations must not allocate on the pull path
/// (status, list, read, acknowledge) once started.
public protocol LinkBackend: AnyObject {
    associatedtype Crypto: CryptoSuite

    /// The 16-byte device id into `output` (exactly 16 bytes).
    func deviceID(into output: UnsafeMutableRawBufferPointer)
    /// UTF-8 board name (≤ 64 bytes) into `output`; returns its length.
    func boardName(into output: UnsafeMutableRawBufferPointer) -> Int
    /// UTF-8 firmware version (≤ 64 bytes) into `output`; returns its length.
    func firmwareVersion(into output: UnsafeMutableRawBufferPointer) -> Int
    /// Config version, store state, free space, records waiting.
    func deviceStatus() -> LinkDeviceStatus
    /// The pinned provisioning public key (32 bytes) into `output`, or false
    /// when the device is unprovisioned (trust on first use).
    func provisioningKey(into output: UnsafeMutableRawBufferPointer) -> Bool

    /// Installs a complete config bundle (opaque here: the config installer
    /// verifies and parses it). `sessionKey` is the public key the host
    /// authenticated with (the pinned key, or the TOFU key). Returns the
    /// installed config version.
    func installConfig(_ bundle: UnsafeRawBufferPointer, sessionKey: UnsafeRawBufferPointer) throws(LinkFailure) -> UInt64
    /// Finished records with numbers > `after`, in increasing order, until
    /// `list` is full or none is left.
    func listRecords(after: UInt64, into list: inout RecordListWriter) throws(LinkFailure)
    /// Copies bytes of record `number`'s age file from `offset` into
    /// `output` (as many as fit); returns (total size, bytes copied).
    func readRecord(_ number: UInt64, offset: UInt32, into output: UnsafeMutableRawBufferPointer)
        throws(LinkFailure) -> (total: UInt32, count: Int)
    /// Marks records pulled (idempotent); returns how many changed state.
    func acknowledge(_ records: LinkRecordNumbers) throws(LinkFailure) -> Int
    /// Sets the device's civil time (for `Clock.today()`).
    func setTime(_ time: LinkCivilTime) throws(LinkFailure)
    /// Crypto-erases the store.
    func cryptoErase() throws(LinkFailure)
}
