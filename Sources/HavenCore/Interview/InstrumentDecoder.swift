/// Checks and decodes a compiled instrument (Docs/instrument-format.md), in
/// dependency order: header and section table, then EXPRESSIONS (counts
/// only), STRINGS, LANGUAGES, TEXTS, CHOICES, NODES, META, then defaults and
/// bytecode, which need everything before them. Every failure is a typed
/// error naming the section and the absolute offset of the field.
struct InstrumentDecoder {
    static let magic: StaticString = "HAVNINST"
    static let headerSize = 32
    static let sectionEntrySize = 12
    static let nodeRecordSize = 64
    static let metaSize = 24
    static let maxNodes = 65_534
    static let maxRepeatDepth = 4

    let b: UnsafeRawBufferPointer
    /// (offset, length) per section kind 1…7; index 0 unused.
    var sectionOffset = [Int](repeating: -1, count: 8)
    var sectionLength = [Int](repeating: 0, count: 8)

    var checksum: UInt32 = 0
    var stringTable = 0
    var stringBlob = 0
    var stringBlobLength = 0
    var stringCount: UInt32 = 0
    var languageTable = 0
    var languageCount = 0
    var textTable = 0
    var textCount: UInt32 = 0
    var expressionTable = 0
    var expressionBlob = 0
    var expressionCount: UInt32 = 0
    var columnNameTable = 0
    var columnNameCount = 0
    var lists: [ChoiceListInfo] = []
    var nodes: [InstrumentNode] = []
    var formID: UInt32 = 0
    var formVersion: UInt32 = 0
    var title: UInt32 = 0
    var defaultLanguage = 0

    init(_ bytes: UnsafeRawBufferPointer) { b = bytes }

    mutating func decode() throws(InstrumentError) {
        try header()
        try sectionTable()
        try expressionsSection()
        try stringsSection()
        try languagesSection()
        try textsSection()
        try choicesSection()
        try nodesSection()
        try metaSection()
        try checkDefaults()
        try checkBytecode()
    }

    @inline(__always) func u8(_ at: Int) -> UInt8 { b[at] }
    @inline(__always) func u16(_ at: Int) -> UInt16 { b.loadLE(UInt16.self, at: at) }
    @inline(__always) func u32(_ at: Int) -> UInt32 { b.loadLE(UInt32.self, at: at) }

    // MARK: Header

    mutating func header() throws(InstrumentError) {
        let magic = Self.magic
        let known = min(b.count, magic.utf8CodeUnitCount)
        var i = 0
        while i < known {
            guard b[i] == magic.utf8Start[i] else { throw .badMagic }
            i += 1
        }
        // A prefix of the magic (or nothing) is a truncated instrument.
        guard b.count >= Self.headerSize else { throw .truncated(section: .header, offset: b.count) }
        let version = u16(8)
        guard version == 1 else { throw .unsupportedVersion(version) }
        let declared = u32(12)
        guard UInt64(declared) == UInt64(b.count) else { throw .lengthMismatch(declared: declared, actual: b.count) }
        let stored = u32(16)
        let computed = CRC32.checksum(b.slice(Self.headerSize, b.count - Self.headerSize))
        guard stored == computed else { throw .checksumMismatch(stored: stored, computed: computed) }
        checksum = stored
        i = 20
        while i < Self.headerSize {
            guard b[i] == 0 else { throw .invalidField(section: .header, offset: i) }
            i += 1
        }
    }

    mutating func sectionTable() throws(InstrumentError) {
        let k = Int(u16(10))
        let tableEnd = Self.headerSize + k * Self.sectionEntrySize
        guard tableEnd <= b.count else { throw .truncated(section: .header, offset: Self.headerSize) }
        var i = 0
        while i < k {
            let entry = Self.headerSize + i * Self.sectionEntrySize
            let kind = u16(entry)
            guard kind >= 1 && kind <= 7, let section = InstrumentSection(rawValue: kind) else {
                throw .unknownSection(kind: kind, offset: entry)
            }
            guard u16(entry + 2) == 0 else { throw .invalidField(section: .header, offset: entry + 2) }
            guard sectionOffset[Int(kind)] < 0 else { throw .duplicateSection(section, offset: entry) }
            let offset = Int(u32(entry + 4))
            let length = Int(u32(entry + 8))
            guard length <= b.count, offset <= b.count - length else {
                throw .truncated(section: section, offset: entry + 4)
            }
            if length > 0 && offset < tableEnd { throw .overlappingSections(.header, section) }
            sectionOffset[Int(kind)] = offset
            sectionLength[Int(kind)] = length
            i += 1
        }
        var kind = 1
        while kind <= 7 {
            guard sectionOffset[kind] >= 0 else { throw .missingSection(InstrumentSection(rawValue: UInt16(kind))!) }
            kind += 1
        }
        var a = 1
        while a <= 7 {
            var c = a + 1
            while c <= 7 {
                let aEnd = sectionOffset[a] + sectionLength[a]
                let cEnd = sectionOffset[c] + sectionLength[c]
                if sectionLength[a] > 0 && sectionLength[c] > 0
                    && sectionOffset[a] < cEnd && sectionOffset[c] < aEnd {
                    throw .overlappingSections(InstrumentSection(rawValue: UInt16(a))!,
                                               InstrumentSection(rawValue: UInt16(c))!)
                }
                c += 1
            }
            a += 1
        }
    }

    @inline(__always)
    func section(_ s: InstrumentSection) -> (start: Int, end: Int) {
        let start = sectionOffset[Int(s.rawValue)]
        return (start, start + sectionLength[Int(s.rawValue)])
    }

    /// Reads a u32 count at the start of a section.
    func count(_ s: InstrumentSection) throws(InstrumentError) -> (start: Int, end: Int, count: Int) {
        let (start, end) = section(s)
        guard end - start >= 4 else { throw .truncated(section: s, offset: start) }
        return (start, end, Int(u32(start)))
    }

    // MARK: Sections

    mutating func expressionsSection() throws(InstrumentError) {
        let (start, end, e) = try count(.expressions)
        guard e <= (end - start - 4) / 8 else { throw .truncated(section: .expressions, offset: start) }
        expressionCount = UInt32(e)
        expressionTable = start + 4
        expressionBlob = expressionTable + e * 8
        let blobLength = end - expressionBlob
        var i = 0
        while i < e {
            let entry = expressionTable + i * 8
            let offset = Int(u32(entry))
            let length = Int(u16(entry + 4))
            let maxStack = u16(entry + 6)
            guard length >= 1 else { throw .invalidField(section: .expressions, offset: entry + 4) }
            guard maxStack >= 1 else { throw .invalidField(section: .expressions, offset: entry + 6) }
            guard length <= blobLength, offset <= blobLength - length else {
                throw .outOfRange(section: .expressions, offset: entry)
            }
            i += 1
        }
    }

    mutating func stringsSection() throws(InstrumentError) {
        let (start, end, n) = try count(.strings)
        guard n <= (end - start - 4) / 8 else { throw .truncated(section: .strings, offset: start) }
        guard n >= 1 else { throw .invalidField(section: .strings, offset: start) }
        stringCount = UInt32(n)
        stringTable = start + 4
        stringBlob = stringTable + n * 8
        stringBlobLength = end - stringBlob
        let blob = b.slice(stringBlob, stringBlobLength)
        // The blob as a whole is well-formed UTF-8 and each string starts and
        // ends on a character boundary: linear time however strings overlap.
        if let bad = UTF8Validation.firstInvalid(blob) { throw .invalidUTF8(offset: stringBlob + bad) }
        try checkOutputMarkers(blob)
        var i = 0
        while i < n {
            let entry = stringTable + i * 8
            let offset = Int(u32(entry))
            let length = Int(u32(entry + 4))
            guard length <= stringBlobLength, offset <= stringBlobLength - length else {
                throw .outOfRange(section: .strings, offset: entry)
            }
            if offset < stringBlobLength && UTF8Validation.isContinuation(blob[offset]) {
                throw .invalidUTF8(offset: entry)
            }
            if offset + length < stringBlobLength && UTF8Validation.isContinuation(blob[offset + length]) {
                throw .invalidUTF8(offset: entry + 4)
            }
            if i == 0 && length != 0 { throw .invalidField(section: .strings, offset: entry + 4) }
            i += 1
        }
    }

    /// Output markers: 0x01, 1–10 decimal digits naming an expression that
    /// exists, 0x02. Bytes 0x01 and 0x02 appear nowhere else (XML text cannot
    /// hold them, so a form never does).
    func checkOutputMarkers(_ blob: UnsafeRawBufferPointer) throws(InstrumentError) {
        var i = 0
        while i < blob.count {
            let c = blob[i]
            if c == 0x02 { throw .badOutput(offset: stringBlob + i) }
            if c == 0x01 {
                var j = i + 1
                var ref: UInt64 = 0
                while j < blob.count && j - i <= 10 && blob[j] >= 48 && blob[j] <= 57 {
                    ref = ref * 10 + UInt64(blob[j] - 48)
                    j += 1
                }
                guard j > i + 1, j < blob.count, blob[j] == 0x02, ref < UInt64(expressionCount) else {
                    throw .badOutput(offset: stringBlob + i)
                }
                i = j
            }
            i += 1
        }
    }

    func checkString(_ ref: UInt32, _ s: InstrumentSection, at offset: Int) throws(InstrumentError) {
        guard ref < stringCount else { throw .outOfRange(section: s, offset: offset) }
    }

    func checkText(_ ref: UInt32, _ s: InstrumentSection, at offset: Int) throws(InstrumentError) {
        guard ref == InstrumentRef.none || ref < textCount else { throw .outOfRange(section: s, offset: offset) }
    }

    func checkExpression(_ ref: UInt32, at offset: Int) throws(InstrumentError) {
        guard ref == InstrumentRef.none || ref < expressionCount else { throw .outOfRange(section: .nodes, offset: offset) }
    }

    mutating func languagesSection() throws(InstrumentError) {
        let (start, end) = section(.languages)
        guard end - start >= 4 else { throw .truncated(section: .languages, offset: start) }
        let l = Int(u16(start))
        guard l >= 1 else { throw .invalidField(section: .languages, offset: start) }
        guard u16(start + 2) == 0 else { throw .invalidField(section: .languages, offset: start + 2) }
        guard end - start == 4 + 4 * l else { throw .sizeMismatch(section: .languages, offset: start) }
        languageCount = l
        languageTable = start + 4
        var i = 0
        while i < l {
            try checkString(u32(languageTable + i * 4), .languages, at: languageTable + i * 4)
            i += 1
        }
    }

    mutating func textsSection() throws(InstrumentError) {
        let (start, end, t) = try count(.texts)
        let perText = 4 * languageCount
        guard t <= (end - start - 4) / perText, end - start == 4 + t * perText else {
            throw .sizeMismatch(section: .texts, offset: start)
        }
        textCount = UInt32(t)
        textTable = start + 4
        var at = textTable
        while at < end {
            try checkString(u32(at), .texts, at: at)
            at += 4
        }
    }

    mutating func choicesSection() throws(InstrumentError) {
        let (start, end, c) = try count(.choices)
        guard c <= (end - start - 4) / 12 else { throw .truncated(section: .choices, offset: start) }
        let headers = start + 4
        var at = headers + c * 12
        guard end - at >= 4 else { throw .truncated(section: .choices, offset: at) }
        let names = Int(u32(at))
        guard names <= (end - at - 4) / 4 else { throw .truncated(section: .choices, offset: at) }
        columnNameTable = at + 4
        columnNameCount = names
        var i = 0
        while i < names {
            try checkString(u32(columnNameTable + i * 4), .choices, at: columnNameTable + i * 4)
            i += 1
        }
        at = columnNameTable + names * 4
        guard end - at >= 4 else { throw .truncated(section: .choices, offset: at) }
        let itemCountOffset = at
        let itemCount = Int(u32(at))
        var itemOffset = at + 4
        var running = 0
        lists.reserveCapacity(c)
        var list = 0
        while list < c {
            let h = headers + list * 12
            let first = Int(u32(h))
            let count = Int(u16(h + 4))
            let extra = Int(u16(h + 6))
            let firstName = Int(u32(h + 8))
            // Items are stored list after list: list i starts where i-1 ends.
            guard first == running else { throw .invalidField(section: .choices, offset: h) }
            guard firstName <= names, extra <= names - firstName else { throw .outOfRange(section: .choices, offset: h + 8) }
            let itemSize = 8 + 4 * extra
            guard count <= (end - itemOffset) / itemSize else { throw .truncated(section: .choices, offset: h + 4) }
            var item = 0
            while item < count {
                let r = itemOffset + item * itemSize
                try checkString(u32(r), .choices, at: r)
                try checkText(u32(r + 4), .choices, at: r + 4)
                var x = 0
                while x < extra {
                    try checkString(u32(r + 8 + 4 * x), .choices, at: r + 8 + 4 * x)
                    x += 1
                }
                item += 1
            }
            lists.append(ChoiceListInfo(itemCount: count, extraColumnCount: extra, firstColumnName: firstName,
                                        itemsOffset: itemOffset, itemSize: itemSize))
            running += count
            itemOffset += count * itemSize
            list += 1
        }
        guard running == itemCount else { throw .invalidField(section: .choices, offset: itemCountOffset) }
        guard itemOffset == end else { throw .sizeMismatch(section: .choices, offset: itemOffset) }
    }

    mutating func metaSection() throws(InstrumentError) {
        let (start, end) = section(.meta)
        guard end - start == Self.metaSize else {
            if end - start < Self.metaSize { throw .truncated(section: .meta, offset: start) }
            throw .sizeMismatch(section: .meta, offset: start)
        }
        try checkString(u32(start), .meta, at: start)
        try checkString(u32(start + 4), .meta, at: start + 4)
        try checkString(u32(start + 8), .meta, at: start + 8)
        formID = u32(start)
        formVersion = u32(start + 4)
        title = u32(start + 8)
        let language = Int(u16(start + 12))
        guard language < languageCount else { throw .outOfRange(section: .meta, offset: start + 12) }
        defaultLanguage = language
        guard u16(start + 14) == 0 else { throw .invalidField(section: .meta, offset: start + 14) }
        guard Int(u32(start + 16)) == nodes.count else { throw .invalidField(section: .meta, offset: start + 16) }
        guard u32(start + 20) == 0 else { throw .invalidField(section: .meta, offset: start + 20) }
    }
}
