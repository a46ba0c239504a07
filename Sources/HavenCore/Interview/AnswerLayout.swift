/// Where each (node, repeat instance path) lives in the answer store.
///
/// The layout is static: node *n* with enclosing repeats R₁…R_d (outermost
/// first, capacities c₁…c_d) owns c₁·…·c_d consecutive slots from
/// `slotBase[n]`, addressed in mixed radix (outermost index most
/// significant). A slot lookup is a few multiplications, nothing is
/// allocated when instances are added, and the slots of one repeat
/// instance's subtree form one contiguous range per node, so trimming an
/// instance clears ranges. Instance counts use the same scheme: repeat R
/// has one counter per instance path of its parent.
struct AnswerLayout {
    /// Per node: first slot.
    let slotBase: [Int]
    /// Per node: first instance counter (repeats), -1 otherwise.
    let countBase: [Int]
    /// Per node: number of enclosing repeats (not counting itself).
    let repeatDepth: [UInt8]
    /// Per node: enclosing repeats, outermost first, 4 entries per node.
    let repeatAncestors: [UInt16]
    /// Per node: effective instance capacity (repeats), else 0.
    let capacity: [Int]
    /// Per node: index of the first node after its subtree.
    let subtreeEnd: [Int]
    let slotCount: Int
    let counterCount: Int

    /// Lays out `instrument` with the board's `repeatCapacity`. Sizes
    /// saturate at `Int.max`; the engine compares them with its limits.
    init(instrument: Instrument, repeatCapacity: Int) {
        let nodes = instrument.nodes
        let n = nodes.count
        var slotBase = [Int](repeating: 0, count: n)
        var countBase = [Int](repeating: -1, count: n)
        var depth = [UInt8](repeating: 0, count: n)
        var ancestors = [UInt16](repeating: InstrumentRef.noNode, count: n * 4)
        var capacity = [Int](repeating: 0, count: n)
        var subtreeEnd = [Int](repeating: 0, count: n)
        // Slots per instance path of the node's enclosing repeats.
        var span = [Int](repeating: 1, count: n)
        var slots = 0
        var counters = 0
        var i = 0
        while i < n {
            let node = nodes[i]
            if node.kind == .repeat { capacity[i] = max(1, min(Int(node.repeatCapacity), repeatCapacity)) }
            if node.hasParent {
                let p = Int(node.parent)
                depth[i] = depth[p]
                var k = 0
                while k < 4 {
                    ancestors[i * 4 + k] = ancestors[p * 4 + k]
                    k += 1
                }
                span[i] = span[p]
                if nodes[p].kind == .repeat {
                    ancestors[i * 4 + Int(depth[p])] = UInt16(p)
                    depth[i] += 1
                    span[i] = Self.saturatingProduct(span[p], capacity[p])
                }
            }
            slotBase[i] = slots
            slots = Self.saturatingSum(slots, span[i])
            if node.kind == .repeat {
                countBase[i] = counters
                counters = Self.saturatingSum(counters, span[i])
            }
            i += 1
        }
        // Subtree ends: a node's subtree runs until the first later node that
        // is not its descendant; parents precede children, so walk backwards.
        i = n - 1
        while i >= 0 {
            var end = i + 1
            while end < n && Self.isDescendant(end, of: i, nodes) { end = subtreeEnd[end] }
            subtreeEnd[i] = end
            i -= 1
        }
        self.slotBase = slotBase
        self.countBase = countBase
        self.repeatDepth = depth
        self.repeatAncestors = ancestors
        self.capacity = capacity
        self.subtreeEnd = subtreeEnd
        slotCount = slots
        counterCount = counters
    }

    /// Sizes saturate: an absurd layout must be refused, not wrap around.
    static func saturatingProduct(_ a: Int, _ b: Int) -> Int {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        return o ? Int.max : r
    }

    static func saturatingSum(_ a: Int, _ b: Int) -> Int {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? Int.max : r
    }

    static func isDescendant(_ node: Int, of ancestor: Int, _ nodes: [InstrumentNode]) -> Bool {
        var p = nodes[node].parent
        while p != InstrumentRef.noNode {
            if Int(p) == ancestor { return true }
            p = nodes[Int(p)].parent
        }
        return false
    }

    @inline(__always)
    func ancestor(_ node: Int, level: Int) -> Int { Int(repeatAncestors[node * 4 + level]) }

    @inline(__always)
    func depth(_ node: Int) -> Int { Int(repeatDepth[node]) }

    /// Mixed-radix index of the first `path.depth` levels of `node`'s
    /// enclosing repeats, scaled to all `levels` levels (trailing levels 0).
    @inline(__always)
    func linear(_ node: Int, _ path: InstancePath, levels: Int) -> Int {
        var index = 0
        var k = 0
        while k < levels {
            index = index * capacity[ancestor(node, level: k)] + (k < path.depth ? path[k] : 0)
            k += 1
        }
        return index
    }

    /// The slot of `node` in instance `path` (path depth = repeat depth).
    @inline(__always)
    func slot(_ node: Int, _ path: InstancePath) -> Int {
        slotBase[node] + linear(node, path, levels: depth(node))
    }

    /// The instance counter of repeat `node` under its parent's `path`.
    @inline(__always)
    func counter(_ node: Int, _ path: InstancePath) -> Int {
        countBase[node] + linear(node, path, levels: depth(node))
    }

    /// The slots of `node` whose instance path starts with `prefix`: one
    /// contiguous range (start, count).
    func slotRange(_ node: Int, prefix: InstancePath) -> (start: Int, count: Int) {
        let levels = depth(node)
        var size = 1
        var k = prefix.depth
        while k < levels {
            size *= capacity[ancestor(node, level: k)]
            k += 1
        }
        return (slotBase[node] + linear(node, prefix, levels: levels), size)
    }

    /// Same for the instance counters of repeat `node`.
    func counterRange(_ node: Int, prefix: InstancePath) -> (start: Int, count: Int) {
        let r = slotRange(node, prefix: prefix)
        return (r.start - slotBase[node] + countBase[node], r.count)
    }

    /// Is `path` a possible instance path of `node` (right depth, indices
    /// within capacity)?
    func fits(_ node: Int, _ path: InstancePath) -> Bool {
        guard path.depth == depth(node) else { return false }
        var k = 0
        while k < path.depth {
            if path[k] >= capacity[ancestor(node, level: k)] { return false }
            k += 1
        }
        return true
    }
}
