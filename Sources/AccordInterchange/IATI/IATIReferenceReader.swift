import AccordModel
import Foundation
import FoundationXML

/// The reader the import used before ``IATIActivityReader``: Foundation's `XMLParser`, every
/// callback bridged to `String`. It is kept only as the reference the tests hold the streaming
/// reader to (same activities, same lines, over every shared IATI file); the import does not use it.
///
/// It reads an IATI activity file (root `iati-activities`) as a stream: memory holds one
/// activity at a time. Of an activity's narratives, descriptions and dates it keeps one more
/// than the catalogue keeps (``Catalogue/maxNarratives`` …).
public final class IATIReferenceReader: NSObject, XMLParserDelegate {
    typealias Failure = IATIActivityReader.Failure

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
        if let what = IATIActivityReader.sniff(path: path) { throw Failure.notXML(what) }
        let parser = XMLParser(stream: stream)
        parser.shouldProcessNamespaces = false
        parser.shouldResolveExternalEntities = false
        let reader = IATIReferenceReader(onActivity: onActivity)
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
            guard let value = attributes[key].map(IATIActivityReader.trimmed), !value.isEmpty else { return nil }
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
        let value = IATIActivityReader.trimmed(text)
        return value.isEmpty ? nil : value
    }

    /// `XMLParserDelegate`: text inside the current element.
    public func parser(_ parser: XMLParser, foundCharacters string: String) {
        if collecting, text.utf8.count <= IATIActivityReader.maxTextBytes { text += string }
    }

    /// `XMLParserDelegate`: a CDATA section, kept as text.
    public func parser(_ parser: XMLParser, foundCDATA block: Data) {
        if collecting, text.utf8.count <= IATIActivityReader.maxTextBytes { text += String(decoding: block, as: UTF8.self) }
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
