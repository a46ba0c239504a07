/// Which repeat instances a node lives in: one 0-based instance index per
/// enclosing repeat, outermost first (at most four, the format's nesting
/// limit). A fixed-size value, so positions, history entries and answer
/// addresses never allocate.
public struct InstancePath: Equatable, Hashable, Sendable {
    public static let maxDepth = 4

    public private(set) var depth: Int
    private var i0: UInt16 = 0
    private var i1: UInt16 = 0
    private var i2: UInt16 = 0
    private var i3: UInt16 = 0

    /// Top level: no enclosing repeat.
    public static let root = InstancePath()

    public init() { depth = 0 }

    /// A path from 0-based indices, outermost first (at most four).
    public init(_ indices: [Int]) {
        depth = 0
        var k = 0
        while k < indices.count && k < Self.maxDepth {
            append(indices[k])
            k += 1
        }
    }

    public internal(set) subscript(level: Int) -> Int {
        get {
            switch level {
            case 0: return Int(i0)
            case 1: return Int(i1)
            case 2: return Int(i2)
            default: return Int(i3)
            }
        }
        set {
            let v = UInt16(truncatingIfNeeded: newValue)
            switch level {
            case 0: i0 = v
            case 1: i1 = v
            case 2: i2 = v
            default: i3 = v
            }
        }
    }

    /// The innermost index (0 at the top level).
    public var last: Int { depth == 0 ? 0 : self[depth - 1] }

    /// This path with one more (innermost) index.
    public func appending(_ index: Int) -> InstancePath {
        var p = self
        p.append(index)
        return p
    }

    mutating func append(_ index: Int) {
        precondition(depth < Self.maxDepth, "repeat nesting above 4")
        self[depth] = index
        depth += 1
    }

    /// The first `depth` indices.
    public func prefix(_ depth: Int) -> InstancePath {
        var p = InstancePath()
        var k = 0
        while k < depth && k < self.depth {
            p.append(self[k])
            k += 1
        }
        return p
    }

    /// This path without its innermost index.
    public var parent: InstancePath { prefix(depth - 1) }

    /// True when the first `other.depth` indices are `other`.
    func hasPrefix(_ other: InstancePath) -> Bool {
        guard other.depth <= depth else { return false }
        var k = 0
        while k < other.depth {
            if self[k] != other[k] { return false }
            k += 1
        }
        return true
    }

    /// Lexicographic order (shorter first when one is a prefix).
    func precedes(_ other: InstancePath) -> Bool {
        var k = 0
        while k < depth && k < other.depth {
            if self[k] != other[k] { return self[k] < other[k] }
            k += 1
        }
        return depth < other.depth
    }

    public static func == (a: InstancePath, b: InstancePath) -> Bool {
        a.depth == b.depth && a.i0 == b.i0 && a.i1 == b.i1 && a.i2 == b.i2 && a.i3 == b.i3
    }
}
