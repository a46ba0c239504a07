// LinkServerPump: the link protocol server (Docs/link-protocol.md) fed by
// the USB transport's bytes.

import Glibc
import HavenCore

/// Feeds what the host sent over bulk OUT to a `LinkServer` on a
/// `DeviceHost` and writes its responses to bulk IN, as the socket listener
/// does for the simulator. The transport resets it when the cable is
/// pulled (DISABLE/UNBIND): the partial frame, unsent responses, a staged
/// config and the authentication are dropped, and the next bytes start a
/// new session (§4 of the protocol).
///
/// Back-pressure: `LinkServer.receive` takes fewer bytes than offered only
/// when its decoder and its output are both full; the pump then sends the
/// output (which blocks until the host reads it) and offers the rest.
public final class LinkServerPump: DeviceLinkPump {
    public let server: LinkServer<DeviceHostLinkBackend>
    /// A partial frame older than this is dropped (§3 of the protocol).
    public var idleResetMilliseconds: UInt64 = 2_000
    /// Test hook (haven-device --link-delay-ms): wait this long before
    /// answering each chunk of requests, so a test can pull the cable in
    /// the middle of a pull. 0 in the field.
    public var responseDelayMilliseconds: UInt32 = 0
    /// Sessions reset so far (diagnostics).
    public private(set) var resets = 0
    /// Bytes the server would not take although it had nothing to send
    /// (cannot happen with a well-formed `LinkServer`; counted, not looped on).
    public private(set) var bytesRefused = 0
    var lastByteAt: UInt64 = 0

    public init(server: LinkServer<DeviceHostLinkBackend>) {
        self.server = server
    }

    /// The server for `host` with the staging room a config install needs
    /// (the largest config a slot holds, plus PIN material and framing).
    public convenience init(host: DeviceHost, firmwareVersion: String) {
        let backend = DeviceHostLinkBackend(host: host, firmwareVersion: firmwareVersion)
        self.init(server: LinkServer(backend: backend, configCapacity: host.image.configArea.capacity + 16 * 1024))
    }

    public func pump(
        _ received: UnsafeRawBufferPointer,
        send: (UnsafeRawBufferPointer) throws(FunctionFSError) -> Void
    ) throws(FunctionFSError) {
        lastByteAt = Self.nowMilliseconds()
        var offset = 0
        while offset < received.count {
            let taken = server.receive(UnsafeRawBufferPointer(rebasing: received[offset...]))
            offset += taken
            let sent = try flush(send)
            if taken == 0 && !sent {
                // A full decoder with a full output always has output to
                // send; anything else would spin here: drop the rest and
                // let the host's retry start clean (§3 of the protocol).
                bytesRefused += received.count - offset
                server.discardPartialInput()
                break
            }
        }
        _ = try flush(send)
    }

    /// Sends every pending response; says whether anything was sent.
    func flush(_ send: (UnsafeRawBufferPointer) throws(FunctionFSError) -> Void) throws(FunctionFSError) -> Bool {
        var sent = false
        while server.pendingOutput.count > 0 {
            if responseDelayMilliseconds > 0 && !sent { usleep(responseDelayMilliseconds * 1000) }
            let pending = server.pendingOutput
            try send(pending)
            server.didSend(pending.count)
            sent = true
        }
        return sent
    }

    public func reset() {
        server.reset()
        resets += 1
    }

    /// Called on a timer: drops a partial frame the host stopped sending.
    public func idleCheck() {
        if server.partialInput > 0 && Self.nowMilliseconds() &- lastByteAt > idleResetMilliseconds {
            server.discardPartialInput()
        }
    }

    static func nowMilliseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
    }
}
