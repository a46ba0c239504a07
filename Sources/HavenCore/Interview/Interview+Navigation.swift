/// A step of the walk through the form in document and instance order.
enum WalkStep {
    /// Consider node n in instance path p (its own path; a repeat's parent's).
    case enter(Int, InstancePath)
    /// Container n's children are done for path p (a repeat: one instance).
    case finish(Int, InstancePath)
    /// Node n in path p is done: go to its next sibling or up.
    case after(Int, InstancePath)
    /// Past the last node: postponed sections, then the end.
    case endCheck
}

/// Navigation: the transitions of the interview's state machine.
extension Interview {
    /// Validates the current answer (required, then constraint with `.` =
    /// the answer, only when answered) and moves to the next screen. A
    /// failing check keeps the screen and sets its message.
    @discardableResult
    public func next() -> NavigationOutcome {
        guard beginNavigation() else { return .atBoundary }
        switch position {
        case .question(let node, let path):
            let n = Int(node)
            if let failure = check(n, path) {
                validation = failure
                refreshScreen()
                return .blocked(failure)
            }
            history.push(NodeInstance(node: n, path: path))
            moveTo(walk(.after(n, path)))
            return .moved
        case .privacyCheck, .repeatPrompt:
            return .blocked(.required)
        case .end:
            return .atBoundary
        }
    }

    /// Back to the previous question still shown by the form (entries that
    /// became irrelevant or whose instance is gone are skipped). Privacy
    /// checks and repeat prompts are not revisited.
    @discardableResult
    public func back() -> NavigationOutcome {
        guard beginNavigation() else { return .atBoundary }
        while let entry = history.pop() {
            if isShowable(entry) {
                revisit = nil
                moveTo(.question(node: UInt16(entry.node), instance: entry.path))
                return .moved
            }
        }
        return .atBoundary
    }

    /// Answers the yes/no of a privacy check ("alone and able to talk?") or
    /// a repeat prompt ("add another?").
    ///
    /// Privacy check: yes enters the section; no skips it (its answers stay
    /// empty) or, for a section flagged postpone, defers it: it is offered
    /// again before the end, and a second no skips it for good.
    @discardableResult
    public func choose(yes: Bool) throws(InterviewError) -> NavigationOutcome {
        try begin()
        switch position {
        case .privacyCheck(let node, let path):
            answerRevision &+= 1
            let n = Int(node)
            let s = layout.slot(n, path)
            let privacy = store.slots[s].privacy
            let finalOffer = revisit == NodeInstance(node: n, path: path)
            if yes {
                store.slots[s].privacy = .confirmed
            } else {
                // A postponed section stays postponed when declined after a
                // jump; declined at its final offer it is skipped for good.
                let postpone = instrument.nodes[n].postponesWhenNotPrivate
                    && (privacy == .notAsked || (privacy == .postponed && !finalOffer))
                store.slots[s].privacy = postpone ? .postponed : .declined
                revisit = nil
            }
            update()
            // Declined at the final offer: on to the next postponed section or the end.
            moveTo(walk(yes ? .enter(n, path) : finalOffer ? .endCheck : .after(n, path)))
            return .moved
        case .repeatPrompt(let node, let path):
            let r = Int(node)
            let parent = path.parent
            let k = path.last
            guard yes else {
                moveTo(walk(.after(r, parent)))
                return .moved
            }
            let count = Int(store.counters[layout.counter(r, parent)])
            if k + 1 < count {
                moveTo(walk(firstChild(r, parent.appending(k + 1))))
            } else if count < layout.capacity[r] {
                setInstanceCount(r, parent: parent, to: count + 1)
                update()
                moveTo(walk(firstChild(r, parent.appending(count))))
            } else {
                moveTo(walk(.after(r, parent)))
            }
            return .moved
        default:
            throw .notAYesNoScreen
        }
    }

    /// Jumps to the first screen of group or repeat `target`. If it, or a
    /// section around it, is sensitive and not yet confirmed, the jump lands
    /// on the outermost such section's privacy check instead. Inside repeats
    /// the current screen's instances are kept where shared, the first
    /// instance taken otherwise.
    public func jump(toGroup target: Int) throws(InterviewError) {
        try begin()
        guard target >= 0, target < instrument.nodeCount, instrument.nodes[target].kind.isContainer else {
            throw .notAGroup(node: target)
        }
        // Never into a sensitive section past its privacy check: a jump into
        // (or inside) one not yet confirmed lands on its check instead.
        var node = target
        var a = target
        while true {
            let record = instrument.nodes[a]
            if record.isSensitive && !isConfirmed(a) { node = a }
            guard record.hasParent else { break }
            a = Int(record.parent)
        }
        var path = InstancePath()
        let current = position.node.map { Int($0) }
        let currentPath = position.instance
        var k = 0
        while k < layout.depth(node) {
            let r = layout.ancestor(node, level: k)
            var index = 0
            if let c = current, k < layout.depth(c), layout.ancestor(c, level: k) == r, k < currentPath.depth {
                index = currentPath[k]
            }
            path.append(index)
            k += 1
        }
        guard exists(node, path) else { throw .noSuchInstance(node: UInt16(node)) }
        let s = layout.slot(node, path)
        let privacy = store.slots[s].privacy
        guard store.slots[s].isActive || (privacy == .postponed && store.slots[s].isRelevant) else {
            throw .notRelevant(node: UInt16(node))
        }
        if case .question(let q, let p) = position { history.push(NodeInstance(node: Int(q), path: p)) }
        revisit = nil
        if privacy == .postponed {
            moveTo(.privacyCheck(node: UInt16(node), instance: path))
        } else {
            moveTo(walk(.enter(node, path)))
        }
    }

    /// Switches the language of every text on the screen (answers keep).
    public func setLanguage(_ index: Int) throws(InterviewError) {
        try begin()
        guard index >= 0, index < instrument.languageCount else { throw .noSuchLanguage(index) }
        language = index
        refreshScreen()
    }

    // MARK: Internals

    /// Has sensitive section `node` (in the current screen's instances, or
    /// the first) passed its privacy check?
    func isConfirmed(_ node: Int) -> Bool {
        var path = InstancePath()
        let current = position.node.map { Int($0) }
        var k = 0
        while k < layout.depth(node) {
            let r = layout.ancestor(node, level: k)
            var index = 0
            if let c = current, k < layout.depth(c), layout.ancestor(c, level: k) == r, k < position.instance.depth {
                index = position.instance[k]
            }
            path.append(index)
            k += 1
        }
        guard exists(node, path) else { return false }
        return store.slots[layout.slot(node, path)].privacy == .confirmed
    }

    func moveTo(_ next: InterviewPosition) {
        position = next
        validation = nil
        refreshScreen()
    }

    /// Required and constraint of question `n` in `path` (notes and read-only
    /// questions are not checked, as in ODK).
    func check(_ n: Int, _ path: InstancePath) -> ValidationFailure? {
        let node = instrument.nodes[n]
        guard node.kind.isQuestion else { return nil }
        if evaluateBool(node.readonly, node: n, path: path, absent: false) { return nil }
        let answered = store.slots[layout.slot(n, path)].tag != .empty
        if !answered {
            return evaluateBool(node.required, node: n, path: path, absent: false) ? .required : nil
        }
        return evaluateBool(node.constraint, node: n, path: path, absent: true) ? nil : .constraint
    }

    func isShowable(_ entry: NodeInstance) -> Bool {
        guard entry.node < instrument.nodeCount, isScreenNode(entry.node), layout.fits(entry.node, entry.path),
              exists(entry.node, entry.path) else { return false }
        return store.slots[layout.slot(entry.node, entry.path)].isActive
    }

    func isScreenNode(_ n: Int) -> Bool {
        let kind = instrument.nodes[n].kind
        return kind.isQuestion || kind == .note
    }

    func firstChild(_ n: Int, _ path: InstancePath) -> WalkStep {
        n + 1 < instrument.nodeCount && Int(instrument.nodes[n + 1].parent) == n ? .enter(n + 1, path) : .finish(n, path)
    }

    /// Walks forward from `start` to the next screen. Every step moves
    /// forward in document or instance order, so the walk ends; the budget
    /// only guards against a bug turning into a hang on a device.
    func walk(_ start: WalkStep) -> InterviewPosition {
        var step = start
        var budget = 4 * (instrument.nodeCount + layout.slotCount) + 16
        let nodeCount = instrument.nodeCount
        while budget > 0 {
            budget -= 1
            switch step {
            case .enter(let n, let p):
                let node = instrument.nodes[n]
                let s = layout.slot(n, p)
                guard store.slots[s].isActive else {
                    step = .after(n, p)
                    continue
                }
                switch node.kind {
                case .group:
                    if node.isSensitive && store.slots[s].privacy == .notAsked {
                        return .privacyCheck(node: UInt16(n), instance: p)
                    }
                    step = firstChild(n, p)
                case .repeat:
                    if node.isSensitive && store.slots[s].privacy == .notAsked {
                        return .privacyCheck(node: UInt16(n), instance: p)
                    }
                    prepareRepeat(n, parent: p)
                    step = store.counters[layout.counter(n, p)] == 0 ? .after(n, p) : firstChild(n, p.appending(0))
                case .calculate, .preloadUID:
                    step = .after(n, p)
                default:
                    return .question(node: UInt16(n), instance: p)
                }
            case .finish(let n, let p):
                if instrument.nodes[n].kind == .group {
                    step = .after(n, p)
                    continue
                }
                let parent = p.parent
                let k = p.last
                let count = Int(store.counters[layout.counter(n, parent)])
                if k + 1 < count {
                    step = firstChild(n, parent.appending(k + 1))
                } else if instrument.nodes[n].repeatCount != InstrumentRef.none || count >= layout.capacity[n] {
                    step = .after(n, parent)
                } else {
                    return .repeatPrompt(node: UInt16(n), instance: p)
                }
            case .after(let n, let p):
                if let r = revisit, r.node == n, r.path == p {
                    revisit = nil
                    step = .endCheck
                    continue
                }
                let m = layout.subtreeEnd[n]
                let parent = instrument.nodes[n].parent
                if m < nodeCount && instrument.nodes[m].parent == parent {
                    step = .enter(m, p)
                } else if parent == InstrumentRef.noNode {
                    step = .endCheck
                } else {
                    step = .finish(Int(parent), p)
                }
            case .endCheck:
                if let postponed = firstPostponed() {
                    revisit = postponed
                    return .privacyCheck(node: UInt16(postponed.node), instance: postponed.path)
                }
                return .end
            }
        }
        return .end
    }

    /// The first postponed sensitive section (document, then instance
    /// order) that is still relevant: offered again before the end.
    func firstPostponed() -> NodeInstance? {
        var n = 0
        while n < instrument.nodeCount {
            if instrument.nodes[n].isSensitive {
                var index = 0
                let span = instanceSpan(n)
                while index < span {
                    if let path = existingPath(n, linear: index) {
                        let slot = store.slots[layout.slot(n, path)]
                        if slot.privacy == .postponed && slot.isRelevant { return NodeInstance(node: n, path: path) }
                    }
                    index += 1
                }
            }
            n += 1
        }
        return nil
    }
}
