/// A question the enumerator left with `next()` (or `jump`), for `back()`.
struct NodeInstance: Equatable {
    var node: Int
    var path: InstancePath
}

/// The questions behind the current one, newest last, in a ring allocated
/// once: when it is full the oldest entry is dropped, so a long interview
/// costs no memory beyond `EngineLimits.historyCapacity` entries and `back()`
/// simply stops earlier.
struct PositionHistory {
    let entries: UnsafeMutableBufferPointer<NodeInstance>
    private(set) var start = 0
    private(set) var count = 0

    init(capacity: Int) {
        entries = UnsafeMutableBufferPointer<NodeInstance>.allocate(capacity: max(capacity, 1))
        entries.initialize(repeating: NodeInstance(node: 0, path: .root))
    }

    func free() { entries.deallocate() }

    var capacity: Int { entries.count }

    mutating func push(_ entry: NodeInstance) {
        if count == entries.count {
            entries[start] = entry
            start = (start + 1) % entries.count
        } else {
            entries[(start + count) % entries.count] = entry
            count += 1
        }
    }

    mutating func pop() -> NodeInstance? {
        guard count > 0 else { return nil }
        count -= 1
        return entries[(start + count) % entries.count]
    }

    /// Entry `i`, oldest first.
    subscript(i: Int) -> NodeInstance { entries[(start + i) % entries.count] }

    mutating func removeAll() {
        start = 0
        count = 0
    }
}
