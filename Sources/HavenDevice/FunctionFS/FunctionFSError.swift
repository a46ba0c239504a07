// FunctionFSError: why the FunctionFS transport failed, for the operator.

import Glibc

/// Failures of the FunctionFS transport. `errno` values are kept so the
/// message can name the OS reason (`strerror`).
public enum FunctionFSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An endpoint file could not be opened (FunctionFS not mounted there,
    /// or the descriptors were refused so ep1/ep2 never appeared).
    case cannotOpen(path: String, errno: Int32)
    /// The kernel refused the descriptor or string blob (EINVAL: malformed).
    case descriptorsRefused(what: String, errno: Int32)
    /// ep0 delivered bytes that are not FunctionFS events.
    case badEvent(FunctionFSEventError)
    /// Reading or writing an endpoint failed for another reason.
    case io(what: String, errno: Int32)
    /// No host is connected (between DISABLE and ENABLE, or the cable was
    /// pulled during the transfer): the link session must start again.
    case disconnected
    /// The transport was closed.
    case closed

    public var description: String {
        switch self {
        case .cannotOpen(let path, let code):
            "cannot open FunctionFS endpoint \(path): \(errorText(code)) (is functionfs mounted there, and did the daemon write its descriptors?)"
        case .descriptorsRefused(let what, let code):
            "the kernel refused the FunctionFS \(what): \(errorText(code))"
        case .badEvent(let error):
            error.description
        case .io(let what, let code):
            "FunctionFS \(what) failed: \(errorText(code))"
        case .disconnected:
            "no USB host is connected (cable pulled or host reset)"
        case .closed:
            "the FunctionFS transport is closed"
        }
    }
}

