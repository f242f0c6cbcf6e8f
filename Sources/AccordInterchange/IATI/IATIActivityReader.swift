import AccordModel
import CLibXML2
import Foundation
import Glibc

/// One `narrative` of an IATI element: its text exactly as written (entities resolved, white
/// space kept) and its `xml:lang`.
public struct IATINarrative: Sendable {
    /// The text, byte for byte as the parser delivers it.
    public var text: String
    /// `@xml:lang`, if given.
    public var lang: String?
    /// The line of its start tag.
    public var line: Int
}

/// One `iati-activity/description`.
public struct IATIDescription: Sendable {
    /// `@type` (codelist DescriptionType), if given.
    public var type: String?
    /// Its narratives with text (not only white space), in file order.
    public var narratives: [IATINarrative] = []
    /// The line of its start tag.
    public var line: Int
}

/// One `iati-activity/activity-date`.
public struct IATIActivityDate: Sendable {
    /// `@type` (codelist ActivityDateType: 1–4).
    public var type: String?
    /// `@iso-date`.
    public var date: String?
    /// The line of its start tag.
    public var line: Int
}

/// An organisation named in an IATI activity (`reporting-org`, `participating-org`,
/// `provider-org`, `receiver-org`; IATI Activity Standard 2.03).
public struct IATIOrganisation: Sendable {
    /// `@ref`, the organisation identifier (e.g. `XI-IATI-EC_INTPA`), trimmed; nil if absent or empty.
    public var ref: String?
    /// The text of its first non-empty `narrative`.
    public var name: String?
    /// `@role` (codelist OrganisationRole: 1–4), participating organisations only.
    public var role: String?
    /// `@type` (codelist OrganisationType, e.g. 10 government, 40 multilateral).
    public var type: String?
    /// The line of its start tag.
    public var line: Int
    /// Its narratives with text, exactly as written (``IATINarrative``).
    public var narratives: [IATINarrative] = []
}

/// One `transaction` element, as written (IATI Activity Standard 2.03, `iati-activity/transaction`).
public struct IATITransaction: Sendable {
    /// 1-based position among the activity's transactions.
    public var position: Int
    /// The 1-based line of the element in the file, for error messages.
    public var line: Int
    /// `@ref`, the publisher's own reference, if any.
    public var ref: String?
    /// `transaction-type/@code` (codelist TransactionType: 1–13).
    public var typeCode: String?
    /// `transaction-date/@iso-date`.
    public var date: String?
    /// The text of `value`: an `xsd:decimal`, possibly negative (a correction).
    public var value: String?
    /// `value/@currency` (ISO 4217), else nil: the activity's `@default-currency` applies.
    public var currency: String?
    /// `value/@value-date`: the date for currency conversion.
    public var valueDate: String?
    /// `provider-org`: who the money comes from, if named.
    public var provider: IATIOrganisation?
    /// `receiver-org`: who the money goes to, if named.
    public var receiver: IATIOrganisation?
}

/// One `iati-activity` element with what the importer uses of it.
public struct IATIActivity: Sendable {
    /// The 1-based line of the element in the file, for error messages.
    public var line: Int
    /// `iati-identifier`, trimmed.
    public var identifier: String?
    /// `@default-currency` (ISO 4217).
    public var defaultCurrency: String?
    /// `reporting-org`: the publisher of the activity.
    public var reportingOrg: IATIOrganisation?
    /// Every `participating-org`, in file order, with its role.
    public var participants: [IATIOrganisation] = []
    /// Every `transaction`, in file order.
    public var transactions: [IATITransaction] = []
    /// The first non-empty `title/narrative`.
    public var title: String?
    /// `recipient-country/@code` values (ISO 3166-1 alpha-2).
    public var recipientCountries: [String] = []
    /// Every `title/narrative` with text, exactly as written.
    public var titles: [IATINarrative] = []
    /// Every `description`, in file order.
    public var descriptions: [IATIDescription] = []
    /// `activity-status/@code` (codelist ActivityStatus: 1–6), of the first `activity-status`.
    public var status: String?
    /// The line of `activity-status`.
    public var statusLine: Int?
    /// Every `activity-date`, in file order.
    public var dates: [IATIActivityDate] = []
}

/// Reads an IATI activity file (root `iati-activities`) as a stream with libxml2's SAX2 push
/// parser, directly: element and attribute names are compared as bytes, and a `String` is made
/// only for a value that is kept. Memory holds one activity at a time, whatever the
/// file's size. Of an activity's narratives, descriptions and dates it keeps one more than the
/// catalogue keeps (``Catalogue/maxNarratives`` …), enough for the importer to refuse the
/// activity without holding all of them.
///
/// The file is hostile until read (Journal/Import.md, "IATI activity files", "Reading the
/// XML"): no network (`XML_PARSE_NONET`), no DTD loaded, no entity declared (a document with
/// a DOCTYPE or an entity reference other than XML's five and character references is refused),
/// at most ``maxFileBytes`` bytes and ``maxDepth`` levels of elements, and at most
/// ``maxTextBytes`` of one element's text held.
public final class IATIActivityReader {
    /// Why reading stopped early (internal: the importer turns it into an ``ImportProblem``).
    enum Failure: Error, Sendable {
        /// The file is not well-formed XML (also: truncated, empty, not XML at all).
        case malformed(line: Int, column: Int, message: String)
        /// The root element is not `iati-activities`.
        case wrongRoot(line: Int, name: String)
        /// `iati-activities/@version` is a 1.x version, whose elements differ.
        case unsupportedVersion(line: Int, version: String)
        /// The file cannot be opened.
        case unreadable(String)
        /// The file's first bytes show it is not XML at all: what it is instead.
        case notXML(String)
        /// Well-formed perhaps, but beyond what is read: a limit (size, depth) or a DTD or entity.
        case refused(line: Int?, message: String)
    }

    /// An input file larger than this is refused before parsing (1 GiB; Journal/Import.md,
    /// "Reading the XML"). The largest IATI publisher files are a few hundred MB.
    public static let maxFileBytes = 1 << 30

    /// Elements nested deeper than this are refused (the root is level 1). IATI activities nest
    /// six levels (`iati-activities/iati-activity/transaction/provider-org/narrative`); libxml2's
    /// own limit is 256.
    public static let maxDepth = 32

    /// Text of one element is collected up to this many bytes: far beyond any limit of the
    /// catalogue, so that longer text is still refused as too long (it is then handed on as
    /// read, untrimmed, cut here), while memory stays bounded.
    public static let maxTextBytes = 65_536

    /// Elements the reader acts on. Names are matched by their bytes (``tag(_:)``).
    enum Tag: UInt8 {
        case other, iatiActivities, iatiActivity, iatiIdentifier, value, reportingOrg, participatingOrg
        case providerOrg, receiverOrg, narrative, description, activityStatus, activityDate, transaction
        case transactionType, transactionDate, recipientCountry, title
    }

    /// Attributes the reader keeps.
    enum Attribute: Int, CaseIterable {
        case version, defaultCurrency, currency, valueDate, ref, role, type, code, isoDate, xmlLang
        /// `lang` without the `xml` prefix: only matched to find `xml:lang`.
        case lang
    }

    private static let tagNames: [(name: [UInt8], tag: Tag)] = ([
        ("iati-activities", .iatiActivities), ("iati-activity", .iatiActivity), ("iati-identifier", .iatiIdentifier),
        ("value", .value), ("reporting-org", .reportingOrg), ("participating-org", .participatingOrg),
        ("provider-org", .providerOrg), ("receiver-org", .receiverOrg), ("narrative", .narrative),
        ("description", .description), ("activity-status", .activityStatus), ("activity-date", .activityDate),
        ("transaction", .transaction), ("transaction-type", .transactionType), ("transaction-date", .transactionDate),
        ("recipient-country", .recipientCountry), ("title", .title),
    ] as [(String, Tag)]).map { (Array($0.0.utf8), $0.1) }

    private static let attributeNames: [(name: [UInt8], attribute: Attribute)] = ([
        ("version", .version), ("default-currency", .defaultCurrency), ("currency", .currency),
        ("value-date", .valueDate), ("ref", .ref), ("role", .role), ("type", .type), ("code", .code),
        ("iso-date", .isoDate), ("lang", .lang),
    ] as [(String, Attribute)]).map { (Array($0.0.utf8), $0.1) }

    /// The length of a NUL-terminated name or value from libxml2, in bytes.
    static func byteCount(_ text: UnsafePointer<UInt8>) -> Int {
        strlen(UnsafeRawPointer(text).assumingMemoryBound(to: CChar.self))
    }

    /// The tag of an element name, by its bytes; `.other` for any element the reader ignores.
    static func tag(_ name: UnsafePointer<UInt8>) -> Tag {
        let count = byteCount(name)
        for entry in tagNames where entry.name.count == count {
            if entry.name.withUnsafeBufferPointer({ memcmp($0.baseAddress!, name, count) == 0 }) { return entry.tag }
        }
        return .other
    }

    private static func attribute(_ name: UnsafePointer<UInt8>) -> Attribute? {
        let count = byteCount(name)
        for entry in attributeNames where entry.name.count == count {
            if entry.name.withUnsafeBufferPointer({ memcmp($0.baseAddress!, name, count) == 0 }) { return entry.attribute }
        }
        return nil
    }

    private let onActivity: (IATIActivity) -> Void
    /// The push parser's context, while parsing.
    private var context: xmlParserCtxtPtr?
    /// The attributes of the element starting, as SAX2 gives them.
    private var attributeCount = 0
    private var attributeList: UnsafeMutablePointer<UnsafePointer<UInt8>?>?
    private var stack: [Tag] = []
    private var activity: IATIActivity?
    private var organisation: IATIOrganisation?
    private var organisationElement: Tag?
    private var transaction: IATITransaction?
    private var currentDescription: IATIDescription?
    private var narrativeLang: String?
    private var narrativeLine = 0
    private var text: [UInt8] = []
    private var textOverflow = false
    private var collecting = false
    private var failure: Failure?
    /// The first error libxml2 reported: its code, line, column and message.
    fileprivate var xmlFailure: (code: Int32, line: Int, column: Int, message: String)?
    private var attributes = [String?](repeating: nil, count: Attribute.allCases.count)
    private var rootSeen = false
    /// `iati-activities/@version`, once read.
    public private(set) var version: String?
    /// Activities read so far.
    public private(set) var activityCount = 0

    private init(onActivity: @escaping (IATIActivity) -> Void) {
        self.onActivity = onActivity
        stack.reserveCapacity(Self.maxDepth)
        text.reserveCapacity(256)
    }

    /// libxml2's options for a hostile file: no network, no DTD loaded (`XML_PARSE_DTDLOAD` is
    /// not set), no XInclude; libxml2's own size limits kept (`XML_PARSE_HUGE` is not set).
    /// `XML_PARSE_NOENT` makes libxml2 hand over `&amp;` in an attribute as `&` (not `&#38;`):
    /// the only entities it can meet are XML's five, since parsing stops at a DOCTYPE, before
    /// any declaration (``refuse(_:)``).
    static let parseOptions = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOENT.rawValue | XML_PARSE_NOWARNING.rawValue)

    /// Streams the activities of the file at `path` to `onActivity`, in document order.
    ///
    /// - Parameters:
    ///   - path: an IATI activity file (root `iati-activities`), at most ``maxFileBytes`` bytes.
    ///   - onActivity: called with each activity once its end tag is read.
    /// - Returns: the file's `iati-activities/@version` (nil when absent).
    /// - Throws: an internal failure (not XML, malformed XML, a limit passed, a DTD or entity,
    ///   another root element, an IATI 1.x version, an unreadable file); activities already
    ///   passed to `onActivity` stay passed.
    @discardableResult
    public static func read(path: String, onActivity: @escaping (IATIActivity) -> Void) throws -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure.unreadable(path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Failure.unreadable(path) }
        if Int(info.st_size) > maxFileBytes {
            throw Failure.refused(line: nil, message: "the file is \(info.st_size) bytes, more than the \(maxFileBytes) bytes (IATIActivityReader.maxFileBytes) an IATI file may have here; split it by activity")
        }
        if let what = sniff(fd: fd) { throw Failure.notXML(what) }
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw Failure.unreadable(path) }
        xmlInitParser()
        let reader = IATIActivityReader(onActivity: onActivity)
        var handler = xmlSAXHandler()
        handler.initialized = UInt32(XML_SAX2_MAGIC)
        handler.startElementNs = { context, name, prefix, _, _, _, count, _, attributes in
            guard let context, let name else { return }
            Unmanaged<IATIActivityReader>.fromOpaque(context).takeUnretainedValue().startElement(name, prefix: prefix, count: Int(count), attributes: attributes)
        }
        handler.endElementNs = { context, _, _, _ in
            guard let context else { return }
            Unmanaged<IATIActivityReader>.fromOpaque(context).takeUnretainedValue().end()
        }
        handler.characters = { context, bytes, count in
            guard let context, let bytes else { return }
            Unmanaged<IATIActivityReader>.fromOpaque(context).takeUnretainedValue().characters(bytes, count: Int(count))
        }
        handler.cdataBlock = handler.characters
        handler.internalSubset = { context, _, _, _ in
            guard let context else { return }
            Unmanaged<IATIActivityReader>.fromOpaque(context).takeUnretainedValue().refuse("a document type declaration (<!DOCTYPE …>): DTDs and the entities they declare are not read here, and IATI activity files have none; remove it")
        }
        handler.entityDecl = { context, _, _, _, _, _ in
            guard let context else { return }
            Unmanaged<IATIActivityReader>.fromOpaque(context).takeUnretainedValue().refuse("an entity declaration: entities are not expanded here, and IATI activity files declare none")
        }
        handler.reference = { context, _ in
            guard let context else { return }
            Unmanaged<IATIActivityReader>.fromOpaque(context).takeUnretainedValue().refuse("an entity reference other than XML's five (&amp; &lt; &gt; &quot; &apos;) and character references (&#…;): entities are not expanded here, and IATI files use none")
        }
        handler.serror = { context, error in
            guard let context, let error else { return }
            let reader = Unmanaged<IATIActivityReader>.fromOpaque(context).takeUnretainedValue()
            guard reader.xmlFailure == nil, error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
            let message = error.pointee.message.map { String(cString: $0) } ?? ""
            reader.xmlFailure = (Int32(error.pointee.code), Int(error.pointee.line), Int(error.pointee.int2), message)
        }
        return try withExtendedLifetime(reader) {
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            // The first bytes go to the context, which detects the encoding from them (a BOM, '<?xml').
            let first = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 4) }
            guard first >= 0 else { throw Failure.unreadable(path) }
            let context = buffer.withUnsafeBufferPointer { bytes in
                bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: first) {
                    xmlCreatePushParserCtxt(&handler, Unmanaged.passUnretained(reader).toOpaque(), $0, Int32(first), nil)
                }
            }
            guard let context else { throw Failure.unreadable(path) }
            defer { xmlFreeParserCtxt(context) }
            xmlCtxtUseOptions(context, parseOptions)
            reader.context = context
            while reader.failure == nil, reader.xmlFailure == nil {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                guard count >= 0 else { throw Failure.unreadable(path) }
                _ = buffer.withUnsafeBufferPointer { bytes in
                    bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(count, 1)) {
                        xmlParseChunk(context, $0, Int32(count), count == 0 ? 1 : 0)
                    }
                }
                if count == 0 { break }
            }
            if let failure = reader.failure { throw failure }
            // A document that ends early, or has no root element, is not well-formed (XML 1.0 §2.1).
            if reader.xmlFailure != nil || !reader.rootSeen || !reader.stack.isEmpty { throw reader.malformed() }
            return reader.version
        }
    }

    /// Stops the parser with a failure of its own (a limit, a DTD or entity).
    private func refuse(_ message: String) {
        if failure == nil { failure = .refused(line: currentLine, message: message) }
        if let context { xmlStopParser(context) }
    }

    private func characters(_ bytes: UnsafePointer<UInt8>, count: Int) {
        guard collecting, !textOverflow else { return }
        let room = Self.maxTextBytes - text.count
        if count > room { textOverflow = true }
        text.append(contentsOf: UnsafeBufferPointer(start: bytes, count: min(count, room)))
    }

    /// An element starts: `name` without prefix; attributes as libxml2's SAX2 gives them, five
    /// pointers each (local name, prefix, URI, value, value end).
    private func startElement(_ name: UnsafePointer<UInt8>, prefix: UnsafePointer<UInt8>?, count: Int, attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?) {
        guard failure == nil else { return }
        if stack.count + 1 > Self.maxDepth {
            refuse("elements nest more than \(Self.maxDepth) levels deep (IATIActivityReader.maxDepth); IATI activities nest six")
            return
        }
        // Names are compared as written (no namespace processing): a prefixed element is none of ours.
        let tag = prefix == nil ? Self.tag(name) : .other
        self.attributeCount = count
        self.attributeList = attributes
        start(tag, name: name, prefix: prefix)
        if failure != nil, let context { xmlStopParser(context) }
    }

    /// The failure for libxml2's first error (or for a document that ends early).
    private func malformed() -> Failure {
        if let failure { return failure }
        guard let xml = xmlFailure else {
            return .malformed(line: currentLine, column: context.map { Int(xmlSAX2GetColumnNumber(UnsafeMutableRawPointer($0))) } ?? 0,
                              message: "the document ends early or is empty")
        }
        return .malformed(line: xml.line, column: xml.column, message: Self.describe(code: xml.code, message: xml.message))
    }

    /// The line the parser is at: in an element's callback, the line of the end of its start
    /// tag (as Foundation's `XMLParser.lineNumber` gave it, libxml2's `xmlSAX2GetLineNumber`).
    private var currentLine: Int {
        guard let context else { return 0 }
        return Int(xmlSAX2GetLineNumber(UnsafeMutableRawPointer(context)))
    }

    /// Reads the attributes of the starting element that the reader keeps into ``attributes``:
    /// unprefixed names, and `xml:lang`.
    private func readAttributes() {
        for index in attributes.indices { attributes[index] = nil }
        guard let list = attributeList else { return }
        for index in 0..<attributeCount {
            guard let name = list[5 * index], let start = list[5 * index + 3], let end = list[5 * index + 4] else { continue }
            let attribute: Attribute?
            if let prefix = list[5 * index + 1] {
                attribute = Self.isXML(prefix) && Self.attribute(name) == .lang ? .xmlLang : nil
            } else {
                attribute = Self.attribute(name)
            }
            guard let attribute, attribute != .lang else { continue }
            attributes[attribute.rawValue] = String(decoding: UnsafeBufferPointer(start: start, count: end - start), as: UTF8.self)
        }
    }

    private static func isXML(_ prefix: UnsafePointer<UInt8>) -> Bool {
        prefix[0] == UInt8(ascii: "x") && prefix[1] == UInt8(ascii: "m") && prefix[2] == UInt8(ascii: "l") && prefix[3] == 0
    }

    /// An attribute trimmed of XML white space, nil when absent or empty.
    private func attribute(_ key: Attribute) -> String? {
        guard let value = attributes[key.rawValue].map(Self.trimmed), !value.isEmpty else { return nil }
        return value
    }

    private func start(_ tag: Tag, name: UnsafePointer<UInt8>, prefix: UnsafePointer<UInt8>?) {
        if !rootSeen {
            rootSeen = true
            guard tag == .iatiActivities else {
                failure = .wrongRoot(line: currentLine, name: (prefix.map { String(cString: $0) + ":" } ?? "") + String(cString: name))
                return
            }
            readAttributes()
            version = attribute(.version)
            if let version, version.hasPrefix("1.") {
                failure = .unsupportedVersion(line: currentLine, version: version)
                return
            }
            stack.append(tag)
            return
        }
        let parent = stack.last
        stack.append(tag)
        switch tag {
        case .iatiActivity where parent == .iatiActivities:
            readAttributes()
            activity = IATIActivity(line: currentLine, defaultCurrency: attribute(.defaultCurrency))
        case .iatiIdentifier where parent == .iatiActivity:
            begin()
        case .value where parent == .transaction:
            begin()
            readAttributes()
            transaction?.currency = attribute(.currency)
            transaction?.valueDate = attribute(.valueDate)
        case .reportingOrg where parent == .iatiActivity, .participatingOrg where parent == .iatiActivity,
             .providerOrg where parent == .transaction, .receiverOrg where parent == .transaction:
            readAttributes()
            organisation = IATIOrganisation(ref: attribute(.ref), role: attribute(.role), type: attribute(.type), line: currentLine)
            organisationElement = tag
        case .narrative:
            let inActivityText = (parent == .title || parent == .description) && stack.count >= 3 && stack[stack.count - 3] == .iatiActivity
            if organisation != nil || inActivityText {
                begin()
                readAttributes()
                narrativeLang = attributes[Attribute.xmlLang.rawValue]
                narrativeLine = currentLine
            }
        case .description where parent == .iatiActivity:
            readAttributes()
            currentDescription = IATIDescription(type: attributes[Attribute.type.rawValue], line: currentLine)
        case .activityStatus where parent == .iatiActivity:
            if activity?.statusLine == nil {
                readAttributes()
                activity?.status = attribute(.code)
                activity?.statusLine = currentLine
            }
        case .activityDate where parent == .iatiActivity && (activity?.dates.count ?? 0) <= Catalogue.maxActivityDates:
            readAttributes()
            activity?.dates.append(IATIActivityDate(type: attribute(.type), date: attribute(.isoDate), line: currentLine))
        case .transaction where parent == .iatiActivity:
            readAttributes()
            transaction = IATITransaction(position: (activity?.transactions.count ?? 0) + 1, line: currentLine, ref: attribute(.ref))
        case .transactionType where parent == .transaction:
            readAttributes()
            transaction?.typeCode = attribute(.code)
        case .transactionDate where parent == .transaction:
            readAttributes()
            transaction?.date = attribute(.isoDate)
        case .recipientCountry where parent == .iatiActivity:
            readAttributes()
            if let code = attribute(.code) { activity?.recipientCountries.append(code) }
        default:
            break
        }
    }

    private func begin() {
        collecting = true
        text.removeAll(keepingCapacity: true)
        textOverflow = false
    }

    /// The text collected, untrimmed.
    private var rawText: String { String(decoding: text, as: UTF8.self) }

    /// The text collected, trimmed; nil when only white space. Text cut at ``maxTextBytes`` is
    /// handed on as read (untrimmed), so that it is refused as too long, never taken as empty.
    private func collected() -> String? {
        collecting = false
        if textOverflow { return rawText }
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
        guard let first = text.firstIndex(where: { !isSpace($0) }) else { return nil }
        let last = text.lastIndex(where: { !isSpace($0) })!
        return String(decoding: text[first...last], as: UTF8.self)
    }

    private func end() {
        guard let tag = stack.popLast() else { return }
        let parent = stack.last
        switch tag {
        case .iatiIdentifier where parent == .iatiActivity:
            if let value = collected(), activity?.identifier == nil { activity?.identifier = value }
        case .value where parent == .transaction:
            transaction?.value = collected()
        case .narrative where collecting:
            let raw = rawText
            let value = collected()
            // A narrative of only white space says nothing: it is not kept.
            let narrative = value == nil ? nil : IATINarrative(text: raw, lang: narrativeLang, line: narrativeLine)
            if organisation != nil {
                if organisation?.name == nil { organisation?.name = value }
                if let narrative, organisation?.narratives.count ?? 0 <= Catalogue.maxNarratives { organisation?.narratives.append(narrative) }
            } else if parent == .title {
                if activity?.title == nil { activity?.title = value }
                if let narrative, activity?.titles.count ?? 0 <= Catalogue.maxNarratives { activity?.titles.append(narrative) }
            } else if parent == .description {
                if let narrative, currentDescription?.narratives.count ?? 0 <= Catalogue.maxNarratives { currentDescription?.narratives.append(narrative) }
            }
        case .description where parent == .iatiActivity:
            if let currentDescription, activity?.descriptions.count ?? 0 <= Catalogue.maxDescriptions { activity?.descriptions.append(currentDescription) }
            currentDescription = nil
        case .reportingOrg, .participatingOrg, .providerOrg, .receiverOrg:
            guard let organisation, organisationElement == tag else { break }
            switch tag {
            case .reportingOrg: activity?.reportingOrg = organisation
            case .participatingOrg: activity?.participants.append(organisation)
            case .providerOrg: transaction?.provider = organisation
            default: transaction?.receiver = organisation
            }
            self.organisation = nil
            organisationElement = nil
        case .transaction where parent == .iatiActivity:
            if let transaction { activity?.transactions.append(transaction) }
            transaction = nil
        case .iatiActivity where parent == .iatiActivities:
            if let activity {
                activityCount += 1
                onActivity(activity)
            }
            activity = nil
        default:
            break
        }
    }

    /// `text` without the XML white space (space, tab, CR, LF: XML 1.0 §2.3 `S`) at its ends.
    static func trimmed(_ text: String) -> String {
        let bytes = text.utf8
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = bytes.lastIndex(where: { !isSpace($0) })!
        if first == bytes.startIndex, bytes.index(after: last) == bytes.endIndex { return text }
        return String(text[first...last])
    }

    /// What the file is when its first bytes show it is not XML (``sniff(head:)``), read from
    /// `fd` at its current offset.
    static func sniff(fd: Int32) -> String? {
        var head = [UInt8](repeating: 0, count: 4096)
        let count = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { return nil }
        return sniff(head: head.prefix(count))
    }

    /// As ``sniff(head:)``, for the file at `path`.
    static func sniff(path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return sniff(fd: fd)
    }

    /// What the file is when its first bytes show it is not XML: empty, gzip, ZIP, PDF, or
    /// text that does not begin with '<' (after a UTF-8 byte-order mark and white space); nil
    /// when it may be XML (UTF-16 with its byte-order mark is left to the parser).
    static func sniff(head: ArraySlice<UInt8>) -> String? {
        var head = head
        if head.isEmpty { return "the file is empty" }
        if head.starts(with: [0x1F, 0x8B]) { return "the file is gzip-compressed (it begins with gzip's signature); decompress it first, e.g. 'gunzip FILE.gz'" }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return "the file is a ZIP archive (.zip, .xlsx, .docx); extract the XML file from it first" }
        if head.starts(with: Array("%PDF".utf8)) { return "the file is a PDF document; an IATI activity file is XML" }
        if head.starts(with: [0xFE, 0xFF]) || head.starts(with: [0xFF, 0xFE]) { return nil }
        if head.starts(with: [0xEF, 0xBB, 0xBF]) { head = head.dropFirst(3) }
        head = head.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        guard let first = head.first else { return "the file holds only white space" }
        if first == UInt8(ascii: "<") { return nil }
        let firstLine = head.prefix { $0 != 0x0A }
        let kind = first == UInt8(ascii: "{") || first == UInt8(ascii: "[") ? "it looks like JSON"
            : firstLine.contains(UInt8(ascii: ",")) || firstLine.contains(UInt8(ascii: ";")) || firstLine.contains(0x09) ? "it looks like a CSV or other text table"
            : "it looks like plain text"
        return "the file does not begin with '<', as an XML document does: \(kind)"
    }

    /// libxml2's error in words: those a damaged or wrong file typically gives in ours, the
    /// others in libxml2's own message (its first line, at most 200 bytes).
    static func describe(code: Int32, message: String) -> String {
        let words: String? = switch code {
        case Int32(XML_ERR_DOCUMENT_EMPTY.rawValue): "no root element: the text does not begin with an XML element"
        case Int32(XML_ERR_DOCUMENT_END.rawValue): "the document ends early (is the file cut short?)"
        case Int32(XML_ERR_INVALID_CHAR.rawValue): "a character XML does not allow here (is the file UTF-8, or in the encoding its declaration names?)"
        case Int32(XML_ERR_TAG_NAME_MISMATCH.rawValue): "an end tag does not match its start tag"
        case Int32(XML_ERR_TAG_NOT_FINISHED.rawValue): "a tag is not finished (is the file cut short?)"
        case Int32(XML_ERR_NOT_WELL_BALANCED.rawValue): "the elements are not properly nested (an end tag is missing or misplaced)"
        case Int32(XML_ERR_EXTRA_CONTENT.rawValue): "there is content after the root element ends"
        case Int32(XML_ERR_UNDECLARED_ENTITY.rawValue), Int32(XML_WAR_UNDECLARED_ENTITY.rawValue):
            "an entity reference other than XML's five (&amp; &lt; &gt; &quot; &apos;) and character references: entities are not expanded here"
        default: nil
        }
        if let words { return words }
        var text = Array(message.utf8.prefix { $0 != 0x0A }.prefix(200))
        while let last = text.last, last == 0x20 || last == 0x2E { text.removeLast() }
        return text.isEmpty ? "libxml2 reports an error it does not name" : "libxml2: " + String(decoding: text, as: UTF8.self)
    }
}
