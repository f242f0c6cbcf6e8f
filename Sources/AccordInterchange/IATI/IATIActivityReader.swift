import AccordModel
import CLibXML2
import Foundation
import Glibc

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
}
