/// What the expression compiler needs to know about the form it compiles
/// for, and what it gives back. The XForm reader fills the context from its
/// node table; the instrument encoder stores the result in EXPRESSIONS
/// (Docs/instrument-format.md §2.5, §3).
public struct ExpressionContext {
    /// The node the expression is on (`.`, `..`, `current()`); nil for an
    /// expression with no node (relative paths are then refused).
    public var contextNode: UInt16?
    /// Absolute path below the root of a node, e.g. ["hh", "member", "age"].
    public var nodePath: (UInt16) -> [String]
    /// The node at an absolute path below the root, if there is one.
    public var resolve: ([String]) -> UInt16?
    public var isRepeat: (UInt16) -> Bool
    /// Root element of the primary instance (`data`): absolute paths are `/data/…`.
    public var rootName: String
    /// Set when compiling an itemset filter (the predicate inside
    /// `instance('x')/root/item[…]`): the item's columns, `["name", "label",
    /// extra…]`. Bare names then refer to columns; `current()/…` and
    /// absolute paths to form nodes.
    public var choiceColumns: [String]?
    /// Adds a string constant to the instrument's string table; returns its ref.
    public var internString: (String) -> UInt32

    public init(contextNode: UInt16?, nodePath: @escaping (UInt16) -> [String],
                resolve: @escaping ([String]) -> UInt16?, isRepeat: @escaping (UInt16) -> Bool,
                rootName: String, choiceColumns: [String]? = nil, internString: @escaping (String) -> UInt32) {
        self.contextNode = contextNode
        self.nodePath = nodePath
        self.resolve = resolve
        self.isRepeat = isRepeat
        self.rootName = rootName
        self.choiceColumns = choiceColumns
        self.internString = internString
    }
}

/// Bytecode for one expression and the stack depth it needs.
public struct CompiledExpression: Equatable, Sendable {
    public var bytecode: [UInt8]
    public var maxStack: UInt16

    public init(bytecode: [UInt8], maxStack: UInt16) {
        self.bytecode = bytecode
        self.maxStack = maxStack
    }
}

/// Why an expression cannot run on Haven: names the construct (`function
/// 'pulldata'`, `union '|'`, `axis 'ancestor::'`) and where it starts.
public struct ExpressionCompileError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The offending construct as a form author would recognise it.
    public var construct: String
    public var message: String
    /// 1-based column (in characters) in the expression's source.
    public var column: Int

    public init(construct: String, message: String, column: Int) {
        self.construct = construct
        self.message = message
        self.column = column
    }

    public var description: String { "column \(column): \(construct): \(message)" }
}
