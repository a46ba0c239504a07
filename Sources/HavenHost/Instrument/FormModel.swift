import HavenCore

/// A survey form as the compiler understands it, between the XForm reader
/// (`XFormReader`) and the instrument encoder (`InstrumentEncoder`). Plain
/// values, document order, nothing device-specific: the contract between
/// the two halves of `haven compile`.
public struct FormModel: Equatable, Sendable {
    /// The XForm `id` attribute of the primary instance's root.
    public var formID: String
    /// The `version` attribute (may be empty).
    public var version: String
    /// `<h:title>`.
    public var title: String
    /// Root element name of the primary instance (e.g. `data`); node paths start below it.
    public var rootName: String
    /// Language names as the form spells them (`English (en)`); one entry
    /// named `default` when the form has no itext translations.
    public var languages: [String]
    /// Index into `languages` of the form's default language.
    public var defaultLanguage: Int
    /// Every node in document order; a parent precedes its children.
    public var nodes: [FormNode]
    /// Choice lists, referenced by index from select nodes.
    public var choiceLists: [ChoiceList]

    public init(formID: String, version: String, title: String, rootName: String, languages: [String],
                defaultLanguage: Int, nodes: [FormNode], choiceLists: [ChoiceList]) {
        self.formID = formID
        self.version = version
        self.title = title
        self.rootName = rootName
        self.languages = languages
        self.defaultLanguage = defaultLanguage
        self.nodes = nodes
        self.choiceLists = choiceLists
    }
}

/// Text in every language of the form, in `FormModel.languages` order. A
/// text may contain outputs: `<output value="…"/>` in the XForm becomes a
/// `.output(expression source)` segment.
public struct LocalizedText: Equatable, Sendable {
    public enum Segment: Equatable, Sendable {
        case literal(String)
        case output(String)
    }

    /// `translations[i]` is the text in language `i`.
    public var translations: [[Segment]]

    public init(translations: [[Segment]]) { self.translations = translations }

    /// The same literal text in every one of `languageCount` languages.
    public static func plain(_ text: String, languageCount: Int) -> LocalizedText {
        LocalizedText(translations: Array(repeating: [.literal(text)], count: languageCount))
    }
}

public struct FormNode: Equatable, Sendable {
    /// The instrument's node kinds: the compiler and the device share one list.
    public typealias Kind = NodeKind

    /// What happens when the privacy check before a sensitive section is
    /// answered "not alone".
    public enum NotPrivateAction: Equatable, Sendable {
        case skip
        case postpone
    }

    public var kind: Kind
    /// Element name in the instance (`age`).
    public var name: String
    /// Index of the parent node, nil at the top level.
    public var parent: Int?
    /// Absolute instance path components below the root (`["household", "member", "age"]`).
    public var path: [String]
    public var label: LocalizedText?
    public var hint: LocalizedText?
    public var constraintMessage: LocalizedText?
    public var requiredMessage: LocalizedText?
    /// XPath sources exactly as in the bind (nil when absent).
    public var relevant: String?
    public var constraint: String?
    public var required: String?
    public var readonly: String?
    public var calculate: String?
    /// The instance default value (`default` column), nil when none.
    public var defaultValue: String?
    /// For selects: index into `FormModel.choiceLists`.
    public var choiceList: Int?
    /// For itemset selects: the predicate of `instance('x')/root/item[…]`, nil when none.
    public var choiceFilter: String?
    /// For repeats: `jr:count` source, nil for "add another".
    public var repeatCount: String?
    /// For repeats: the form's own limit (`jr:noAddRemove`/max), nil if none.
    public var repeatLimit: Int?
    /// Group or repeat whose bind carries `haven:sensitive="true()"`.
    public var sensitive: Bool
    public var notPrivate: NotPrivateAction
    /// 1-based line of the element in the XForm (body control, or bind), for error messages.
    public var line: Int

    public init(kind: Kind, name: String, parent: Int?, path: [String], label: LocalizedText? = nil,
                hint: LocalizedText? = nil, constraintMessage: LocalizedText? = nil,
                requiredMessage: LocalizedText? = nil, relevant: String? = nil, constraint: String? = nil,
                required: String? = nil, readonly: String? = nil, calculate: String? = nil,
                defaultValue: String? = nil, choiceList: Int? = nil, choiceFilter: String? = nil,
                repeatCount: String? = nil, repeatLimit: Int? = nil, sensitive: Bool = false,
                notPrivate: NotPrivateAction = .skip, line: Int) {
        self.kind = kind
        self.name = name
        self.parent = parent
        self.path = path
        self.label = label
        self.hint = hint
        self.constraintMessage = constraintMessage
        self.requiredMessage = requiredMessage
        self.relevant = relevant
        self.constraint = constraint
        self.required = required
        self.readonly = readonly
        self.calculate = calculate
        self.defaultValue = defaultValue
        self.choiceList = choiceList
        self.choiceFilter = choiceFilter
        self.repeatCount = repeatCount
        self.repeatLimit = repeatLimit
        self.sensitive = sensitive
        self.notPrivate = notPrivate
        self.line = line
    }
}

/// A list of choices: inline `<item>`s of one select, or the items of a
/// secondary instance (`itemset`), with any extra columns filters use.
public struct ChoiceList: Equatable, Sendable {
    public struct Item: Equatable, Sendable {
        public var value: String
        public var label: LocalizedText
        /// Values of `ChoiceList.extraColumns`, same order.
        public var extra: [String]

        public init(value: String, label: LocalizedText, extra: [String] = []) {
            self.value = value
            self.label = label
            self.extra = extra
        }
    }

    /// Secondary instance id for itemsets (`instance('districts')`), nil for inline items.
    public var instanceID: String?
    /// Names of item columns other than the value (`name`) and label, for filters (`district`).
    public var extraColumns: [String]
    public var items: [Item]

    public init(instanceID: String?, extraColumns: [String], items: [Item]) {
        self.instanceID = instanceID
        self.extraColumns = extraColumns
        self.items = items
    }
}

/// Why a form cannot be compiled: says what, where (question and line), and
/// which construct, so a research team can fix the XLSForm.
public struct FormError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The question (node path like `/data/household/age`), or nil for form-level problems.
    public var question: String?
    /// The construct refused (`function 'pulldata'`, `appearance 'map'`, `<upload>`).
    public var construct: String
    /// 1-based line in the XForm.
    public var line: Int
    public var message: String

    public init(question: String?, construct: String, line: Int, message: String) {
        self.question = question
        self.construct = construct
        self.line = line
        self.message = message
    }

    public var description: String {
        let place = question.map { "question \($0), " } ?? ""
        return "line \(line): \(place)\(construct): \(message)"
    }
}
