import AccordModel
import Foundation
import FoundationXML

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

/// Reads an IATI activity file (root `iati-activities`) as a stream with Foundation's
/// `XMLParser` (libxml2's push parser underneath): memory holds one activity at a time,
/// whatever the file's size. Of an activity's narratives, descriptions and dates it keeps one
/// more than the catalogue keeps (``Catalogue/maxNarratives`` …), enough for the importer to
/// refuse the activity without holding all of them.
public final class IATIActivityReader: NSObject, XMLParserDelegate {
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
    }

    private let onActivity: (IATIActivity) -> Void
    private weak var parser: XMLParser?
    private var stack: [String] = []
    private var activity: IATIActivity?
    private var organisation: IATIOrganisation?
    private var organisationElement: String?
    private var transaction: IATITransaction?
    private var currentDescription: IATIDescription?
    private var narrativeLang: String?
    private var narrativeLine = 0
    private var text = ""
    private var collecting = false
    private var failure: Failure?
    /// `iati-activities/@version`, once read.
    public private(set) var version: String?
    /// Activities read so far.
    public private(set) var activityCount = 0

    private init(onActivity: @escaping (IATIActivity) -> Void) {
        self.onActivity = onActivity
    }

    /// Streams the activities of the file at `path` to `onActivity`, in document order.
    /// - Returns: the file's `iati-activities/@version` (nil when absent).
    /// - Throws: an internal failure (malformed XML, another root element, an IATI 1.x version, an
    ///   unreadable file); activities already passed to `onActivity` stay passed.
    @discardableResult
    public static func read(path: String, onActivity: @escaping (IATIActivity) -> Void) throws -> String? {
        guard let stream = InputStream(fileAtPath: path) else { throw Failure.unreadable(path) }
        if let what = sniff(path: path) { throw Failure.notXML(what) }
        let parser = XMLParser(stream: stream)
        parser.shouldProcessNamespaces = false
        parser.shouldResolveExternalEntities = false
        let reader = IATIActivityReader(onActivity: onActivity)
        reader.parser = parser
        parser.delegate = reader
        let ok = parser.parse()
        if let failure = reader.failure { throw failure }
        // A document that ends early, or has no root element, is not well-formed (XML 1.0 §2.1).
        if !ok || !reader.rootSeen || !reader.stack.isEmpty {
            let error = parser.parserError.map(describe) ?? "the document ends early or is empty"
            throw Failure.malformed(line: parser.lineNumber, column: parser.columnNumber, message: error)
        }
        return reader.version
    }

    private var rootSeen = false
    private var line: Int { parser?.lineNumber ?? 0 }

    /// `XMLParserDelegate`: an element starts.
    public func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        func attribute(_ key: String) -> String? {
            guard let value = attributes[key].map(Self.trimmed), !value.isEmpty else { return nil }
            return value
        }
        if !rootSeen {
            rootSeen = true
            guard name == "iati-activities" else {
                failure = .wrongRoot(line: line, name: name)
                parser.abortParsing()
                return
            }
            version = attribute("version")
            if let version, version.hasPrefix("1.") {
                failure = .unsupportedVersion(line: line, version: version)
                parser.abortParsing()
                return
            }
            stack.append(name)
            return
        }
        let parent = stack.last
        stack.append(name)
        switch name {
        case "iati-activity" where parent == "iati-activities":
            activity = IATIActivity(line: line, defaultCurrency: attribute("default-currency"))
        case "iati-identifier" where parent == "iati-activity", "value" where parent == "transaction":
            begin()
            if name == "value" {
                transaction?.currency = attribute("currency")
                transaction?.valueDate = attribute("value-date")
            }
        case "reporting-org" where parent == "iati-activity", "participating-org" where parent == "iati-activity",
             "provider-org" where parent == "transaction", "receiver-org" where parent == "transaction":
            organisation = IATIOrganisation(ref: attribute("ref"), role: attribute("role"), type: attribute("type"), line: line)
            organisationElement = name
        case "narrative":
            let inActivityText = (parent == "title" || parent == "description") && stack.count >= 3 && stack[stack.count - 3] == "iati-activity"
            if organisation != nil || inActivityText {
                begin()
                narrativeLang = attributes["xml:lang"]
                narrativeLine = line
            }
        case "description" where parent == "iati-activity":
            currentDescription = IATIDescription(type: attributes["type"], line: line)
        case "activity-status" where parent == "iati-activity":
            if activity?.statusLine == nil {
                activity?.status = attribute("code")
                activity?.statusLine = line
            }
        case "activity-date" where parent == "iati-activity" && (activity?.dates.count ?? 0) <= Catalogue.maxActivityDates:
            activity?.dates.append(IATIActivityDate(type: attribute("type"), date: attribute("iso-date"), line: line))
        case "transaction" where parent == "iati-activity":
            transaction = IATITransaction(position: (activity?.transactions.count ?? 0) + 1, line: line, ref: attribute("ref"))
        case "transaction-type" where parent == "transaction":
            transaction?.typeCode = attribute("code")
        case "transaction-date" where parent == "transaction":
            transaction?.date = attribute("iso-date")
        case "recipient-country" where parent == "iati-activity":
            if let code = attribute("code") { activity?.recipientCountries.append(code) }
        default:
            break
        }
    }

    private func begin() {
        collecting = true
        text = ""
    }

    private func collected() -> String? {
        collecting = false
        let value = Self.trimmed(text)
        return value.isEmpty ? nil : value
    }

    /// `XMLParserDelegate`: text inside the current element.
    public func parser(_ parser: XMLParser, foundCharacters string: String) {
        if collecting, text.utf8.count <= Self.maxTextBytes { text += string }
    }

    /// Text of one element is collected up to this many bytes (then one more chunk at most):
    /// far beyond any limit of the catalogue, so that longer text is still refused as too long,
    /// while memory stays bounded.
    public static let maxTextBytes = 65_536

    /// `XMLParserDelegate`: a CDATA section, kept as text.
    public func parser(_ parser: XMLParser, foundCDATA block: Data) {
        if collecting, text.utf8.count <= Self.maxTextBytes { text += String(decoding: block, as: UTF8.self) }
    }

    /// `XMLParserDelegate`: an element ends.
    public func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        stack.removeLast()
        let parent = stack.last
        switch name {
        case "iati-identifier" where parent == "iati-activity":
            if let value = collected(), activity?.identifier == nil { activity?.identifier = value }
        case "value" where parent == "transaction":
            transaction?.value = collected()
        case "narrative" where collecting:
            let raw = text
            let value = collected()
            // A narrative of only white space says nothing: it is not kept.
            let narrative = value == nil ? nil : IATINarrative(text: raw, lang: narrativeLang, line: narrativeLine)
            if organisation != nil {
                if organisation?.name == nil { organisation?.name = value }
                if let narrative, organisation?.narratives.count ?? 0 <= Catalogue.maxNarratives { organisation?.narratives.append(narrative) }
            } else if parent == "title" {
                if activity?.title == nil { activity?.title = value }
                if let narrative, activity?.titles.count ?? 0 <= Catalogue.maxNarratives { activity?.titles.append(narrative) }
            } else if parent == "description" {
                if let narrative, currentDescription?.narratives.count ?? 0 <= Catalogue.maxNarratives { currentDescription?.narratives.append(narrative) }
            }
        case "description" where parent == "iati-activity":
            if let currentDescription, activity?.descriptions.count ?? 0 <= Catalogue.maxDescriptions { activity?.descriptions.append(currentDescription) }
            currentDescription = nil
        case "reporting-org", "participating-org", "provider-org", "receiver-org":
            guard let organisation, organisationElement == name else { break }
            switch name {
            case "reporting-org": activity?.reportingOrg = organisation
            case "participating-org": activity?.participants.append(organisation)
            case "provider-org": transaction?.provider = organisation
            default: transaction?.receiver = organisation
            }
            self.organisation = nil
            organisationElement = nil
        case "transaction" where parent == "iati-activity":
            if let transaction { activity?.transactions.append(transaction) }
            transaction = nil
        case "iati-activity" where parent == "iati-activities":
            if let activity {
                activityCount += 1
                onActivity(activity)
            }
            activity = nil
        default:
            break
        }
    }

    /// `XMLParserDelegate`: the file is not well-formed XML; the first error is kept with its line and column.
    public func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        if failure == nil {
            failure = .malformed(line: parser.lineNumber, column: parser.columnNumber, message: Self.describe(parseError))
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

    /// What the file is when its first bytes show it is not XML: empty, gzip, ZIP, PDF, or
    /// text that does not begin with '<' (after a UTF-8 byte-order mark and white space); nil
    /// when it may be XML (UTF-16 with its byte-order mark is left to the parser).
    static func sniff(path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var head = [UInt8]((try? handle.read(upToCount: 4096)) ?? Data())[...]
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

    /// libxml2's error, in words where its code is one a damaged or wrong file typically gives.
    static func describe(_ error: Error) -> String {
        let nsError = error as NSError
        let words: String? = switch XMLParser.ErrorCode(rawValue: nsError.code) {
        case .emptyDocumentError?: "no root element: the text does not begin with an XML element"
        case .prematureDocumentEndError?: "the document ends early (is the file cut short?)"
        case .invalidCharacterError?: "a character XML does not allow here (is the file UTF-8, or in the encoding its declaration names?)"
        case .tagNameMismatchError?: "an end tag does not match its start tag"
        case .unfinishedTagError?: "a tag is not finished (is the file cut short?)"
        case .notWellBalancedError?: "the elements are not properly nested (an end tag is missing or misplaced)"
        case .extraContentError?: "there is content after the root element ends"
        default: nil
        }
        return words.map { "\($0) (libxml2 error \(nsError.code))" } ?? "libxml2 error \(nsError.code)"
    }
}
