/// Where an interview stands: the explicit state of the engine's state
/// machine. Every screen is one of these; `next()`, `back()`, `choose(yes:)`
/// and `jump(toGroup:)` are its transitions.
public enum InterviewPosition: Equatable, Sendable {
    /// A question or note of node `node` in repeat instance `instance`.
    case question(node: UInt16, instance: InstancePath)
    /// "Is the respondent alone and able to talk?" before sensitive group or
    /// repeat `node` (`instance`: the section's own instance path; for a
    /// repeat, its parent's).
    case privacyCheck(node: UInt16, instance: InstancePath)
    /// "Add another …?" after instance `instance.last` of add-another repeat
    /// `node` (`instance` = the repeat's parent path + that instance).
    case repeatPrompt(node: UInt16, instance: InstancePath)
    /// Past the last question: the interview can be finalized.
    case end

    /// The node of this screen, nil at the end.
    public var node: UInt16? {
        switch self {
        case .question(let n, _), .privacyCheck(let n, _), .repeatPrompt(let n, _): return n
        case .end: return nil
        }
    }

    public var instance: InstancePath {
        switch self {
        case .question(_, let p), .privacyCheck(_, let p), .repeatPrompt(_, let p): return p
        case .end: return .root
        }
    }
}

/// What `next()`, `back()` and `choose(yes:)` did.
public enum NavigationOutcome: Equatable, Sendable {
    /// The interview moved to another screen.
    case moved
    /// The current answer failed a check: the screen stays and shows the
    /// message (also returned for `next()` on a yes/no screen).
    case blocked(ValidationFailure)
    /// Nothing further in that direction (start of history, or the end).
    case atBoundary
}
