/// The event catalogue (v1): each type's subject kind and its `data` fields, with per-type
/// validation. Journal/Format.md §7.5 holds its table, generated from this code and compared with
/// it by `FormatCatalogueTests`: a change here changes that table. Extend it; never rename what
/// is here.
public enum Catalogue {
    /// What a field must hold.
    public enum FieldKind: Sendable {
        /// Non-empty text, at most 4,096 bytes, without control characters.
        case text
        /// A lower-case slug identifier (a stakeholder, action … id).
        case reference
        /// A non-empty array of slug identifiers.
        case references
        /// One of the listed values.
        case oneOf([String])
        /// A non-empty array of values from the list.
        case listOf([String])
        /// ISO 3166-1 alpha-2, or `EU`.
        case country
        /// `YYYY-MM-DD`.
        case date
        /// A decimal string; negative allowed (a correction).
        case signedDecimal
        /// A decimal string, zero or more.
        case decimal
        /// An ISO 4217 code.
        case currency
        /// A JSON integer ≥ 0.
        case count
        /// An `http` or `https` URL: at most 2,048 bytes, no space and no control character
        /// (below U+0020, and U+007F), as text (Format.md §7.5).
        case url
        /// An object `{"amount": decimal string, "currency": ISO 4217 code}`.
        case money
        /// A non-empty array of at most ``Catalogue/maxNarratives`` objects `{"text": …, "lang": …}`:
        /// an IATI element's narratives, kept byte for byte. `text` is non-empty, at most `limit`
        /// bytes, and may hold tab, line feed and carriage return but no other control character;
        /// `lang` (optional) is the narrative's `xml:lang`, 1–64 bytes without space or control
        /// character.
        case narratives(limit: Int)
        /// A non-empty array of at most ``Catalogue/maxDescriptions`` objects
        /// `{"type": …, "narratives": […]}`: IATI activity descriptions; `type` (optional) is the
        /// DescriptionType code as written (text), `narratives` as ``narratives(limit:)`` with
        /// ``Catalogue/descriptionTextLimit``.
        case descriptions
        /// A non-empty array of at most ``Catalogue/maxActivityDates`` objects
        /// `{"type": "1"…"4", "date": "YYYY-MM-DD"}`: IATI activity dates (ActivityDateType).
        case activityDates
        /// An event id: 64 lower-case hex digits (Format.md §7.3).
        case eventID
        /// An Ed25519 public key: the standard base64 (RFC 4648 §4, with padding) of its 32 raw
        /// bytes, 44 characters, as in `keys/<site>.pub` (Format.md §8; Trust.md "Key events").
        case publicKey
        /// The SHA-256 of a public key's 32 raw bytes, 64 lower-case hex digits: a commitment to
        /// the next key (Trust.md "The digest rule").
        case keyDigest
        /// A sequence number of the event's own feed: a JSON integer from 1 to 999,999,999.
        case sequenceNumber
    }

    /// One type of the catalogue.
    public struct Entry: Sendable {
        /// The event type's name, e.g. `finance.committed.v1`.
        public let type: String
        /// The subject kind: `stakeholder` in `stakeholder/<id>`; ``anyKind`` for the
        /// corrections that may concern any subject (`event.retracted.v1`, `subject.retired.v1`).
        public let subjectKind: String
        /// The fields `data` must hold, with their kinds, in catalogue order.
        public let required: [(String, FieldKind)]
        /// The fields `data` may hold, with their kinds; any other field is refused.
        public let optional: [(String, FieldKind)]
        /// At least one field must be present (for `*.updated.*`, where all are optional).
        public let needsSomeField: Bool
        /// Whether a subject of `kind` fits this type.
        public func allows(kind: String) -> Bool { subjectKind == Catalogue.anyKind || sameBytes(subjectKind, kind) }
        /// `required`, `optional` and `source`.
        var allowed: [(String, FieldKind)] { required + optional + [(Catalogue.sourceField, FieldKind.text)] }
    }

    /// Each type's allowed fields by name, built once (`Entry.allowed`).
    private static let fieldKinds: [String: [String: (name: String, kind: FieldKind)]] = entries.mapValues { entry in
        Dictionary(entry.allowed.map { ($0.0, (name: $0.0, kind: $0.1)) }, uniquingKeysWith: { first, _ in first })
    }

    /// The longest `text` field, in bytes (Format.md §7.5, `MAX_TEXT`).
    public static let maxTextBytes = 4096
    /// The longest `url` field, in bytes (Format.md §7.5, `MAX_URL`).
    public static let maxURLBytes = 2048
    /// The most digits of a `count` field (Format.md §7.5, `MAX_COUNT_DIGITS`): 0 … 999,999,999.
    public static let maxCountDigits = 9
    /// The subject kind of the types whose subject may be of any kind (`*`).
    public static let anyKind = "*"
    /// The statuses an action may be reopened to (`action.reopened.v1`, `data.status`).
    public static let reopenStatuses = ["proposed", "agreed", "started"]

    /// Value chains of the partnership.
    public static let valueChains = ["raw-materials", "batteries", "renewable-hydrogen"]
    /// The three areas of cooperation of the memorandum of 7 November 2022.
    public static let pillars = ["value-chain-integration", "supply-chain-resilience", "skills-research-innovation"]
    /// The values of a stakeholder's `kind` (Format.md §7.5).
    public static let stakeholderKinds = ["government", "industrial", "financial", "research", "civil-society"]
    /// The values of a finance event's `instrument` (Format.md §7.5).
    public static let instruments = ["grant", "loan", "equity", "guarantee"]
    /// The values of a project milestone, in the order a project passes them (Format.md §7.5).
    public static let milestones = ["concept", "feasibility", "fid", "construction", "operational"]

    private static let stakeholderFields: [(String, FieldKind)] = [
        ("name", .text), ("kind", .oneOf(stakeholderKinds)), ("country", .country),
    ]
    private static let stakeholderOptional: [(String, FieldKind)] = [("valueChains", .listOf(valueChains)), ("iatiRef", .text)]
    private static let financeRequired: [(String, FieldKind)] = [
        ("provider", .reference), ("receiver", .reference), ("amount", .signedDecimal), ("currency", .currency), ("date", .date),
    ]
    private static let financeOptional: [(String, FieldKind)] = [
        ("instrument", .oneOf(instruments)), ("valueChain", .oneOf(valueChains)), ("action", .reference), ("iatiType", .text),
        ("valueDate", .date), ("corrects", .eventID),
    ]
    /// IATI organisation roles (codelist `OrganisationRole`): 1 funding, 2 accountable,
    /// 3 extending, 4 implementing.
    public static let organisationRoles = ["1", "2", "3", "4"]
    /// IATI activity status codes (codelist `ActivityStatus`): 1 pipeline, 2 implementation,
    /// 3 finalisation, 4 closed, 5 cancelled, 6 suspended.
    public static let activityStatuses = ["1", "2", "3", "4", "5", "6"]
    /// IATI activity date types (codelist `ActivityDateType`): 1 planned start, 2 actual start,
    /// 3 planned end, 4 actual end.
    public static let activityDateTypes = ["1", "2", "3", "4"]
    /// At most this many narratives (languages) in one narratives field (Format.md §7.5).
    public static let maxNarratives = 8
    /// At most this many descriptions in `funding.described.v1` (IATI has four description types).
    public static let maxDescriptions = 4
    /// At most this many activity dates in `funding.described.v1`.
    public static let maxActivityDates = 16
    /// The byte limit of one description narrative: descriptions run longer than the 4,096
    /// bytes of other text. With the other limits a `funding.described.v1` event stays far
    /// below the 1 MiB record limit (Format.md §4, §7.5).
    public static let descriptionTextLimit = 8192
    /// The byte limit of other narratives (titles, names): the catalogue's text limit.
    public static let narrativeTextLimit = 4096

    /// Every type may carry `source`: the identity of the record it was imported from
    /// (Journal/Import.md), which makes imports idempotent.
    public static let sourceField = "source"

    /// The stakeholder id an import writes in `provider`, `receiver` or `sponsor` when its source
    /// names no organisation there (Journal/Import.md); the command checks accept it in those
    /// single-stakeholder fields without a registration (Format.md §9.6), so that a transaction
    /// of such a funding can be recorded by hand as it was imported.
    public static let unspecifiedStakeholder = "unspecified"

    /// Every known type, by name.
    public static let entries: [String: Entry] = {
        var all: [Entry] = [
            Entry(type: "stakeholder.registered.v1", subjectKind: "stakeholder", required: stakeholderFields, optional: stakeholderOptional, needsSomeField: false),
            Entry(type: "stakeholder.updated.v1", subjectKind: "stakeholder", required: [], optional: stakeholderFields + stakeholderOptional, needsSomeField: true),
            Entry(type: "agreement.signed.v1", subjectKind: "agreement", required: [("title", .text), ("parties", .references), ("date", .date)], optional: [("place", .text)], needsSomeField: false),
            Entry(type: "action.proposed.v1", subjectKind: "action", required: [("title", .text), ("pillar", .oneOf(pillars))],
                  optional: [("valueChains", .listOf(valueChains)), ("leads", .references), ("due", .date)], needsSomeField: false),
            Entry(type: "action.cancelled.v1", subjectKind: "action", required: [("reason", .text)], optional: [], needsSomeField: false),
            Entry(type: "industry.project.registered.v1", subjectKind: "project",
                  required: [("name", .text), ("sponsor", .reference), ("valueChain", .oneOf(valueChains)), ("country", .country)],
                  optional: [("capacity", .decimal), ("capacityUnit", .text)], needsSomeField: false),
            Entry(type: "industry.milestone.reached.v1", subjectKind: "project", required: [("milestone", .oneOf(milestones)), ("date", .date)], optional: [], needsSomeField: false),
            Entry(type: "industry.offtake.signed.v1", subjectKind: "offtake",
                  required: [("buyer", .reference), ("seller", .reference), ("commodity", .text), ("quantity", .decimal), ("unit", .text)],
                  optional: [("from", .date), ("to", .date)], needsSomeField: false),
            Entry(type: "research.project.started.v1", subjectKind: "research", required: [("title", .text), ("partners", .references)],
                  optional: [("field", .text), ("budget", .decimal), ("currency", .currency)], needsSomeField: false),
            Entry(type: "research.output.published.v1", subjectKind: "research", required: [("title", .text), ("date", .date)], optional: [("url", .url)], needsSomeField: false),
            Entry(type: "skills.programme.delivered.v1", subjectKind: "programme",
                  required: [("title", .text), ("provider", .reference), ("participants", .count), ("date", .date)], optional: [], needsSomeField: false),
        ]
        for step in ["agreed", "started", "completed"] {
            all.append(Entry(type: "action.\(step).v1", subjectKind: "action", required: [], optional: [("note", .text)], needsSomeField: false))
        }
        for step in ["pledged", "committed", "disbursed", "spent"] {
            all.append(Entry(type: "finance.\(step).v1", subjectKind: "funding", required: financeRequired, optional: financeOptional, needsSomeField: false))
        }
        // v2 of a commitment: the amount and its currency travel together as one `value`, and the
        // IATI transaction type is explicit. v1 events stay valid and are read through an upcaster.
        all.append(Entry(type: "finance.committed.v2", subjectKind: "funding",
                         required: [("provider", .reference), ("receiver", .reference), ("value", .money), ("date", .date), ("iatiType", .text)],
                         optional: [("instrument", .oneOf(instruments)), ("valueChain", .oneOf(valueChains)), ("action", .reference), ("valueDate", .date),
                                    ("corrects", .eventID)],
                         needsSomeField: false))
        // Imported finance transactions of the IATI types that are none of the four stages
        // (1 incoming funds, 5 interest, 6 loan repayment, 7 reimbursement, 8 and 9 equity,
        // 10 credit guarantee): kept with their code (Journal/Import.md).
        all.append(Entry(type: "finance.transaction.recorded.v1", subjectKind: "funding",
                         required: financeRequired + [("iatiType", .text)],
                         optional: financeOptional.filter { $0.0 != "iatiType" }, needsSomeField: false))
        // An organisation taking part in a funding (an IATI participating-org), with its role.
        all.append(Entry(type: "stakeholder.participated.v1", subjectKind: "stakeholder",
                         required: [("name", .text), ("funding", .reference), ("role", .oneOf(organisationRoles))],
                         optional: [("iatiRef", .text), ("iatiType", .text)], needsSomeField: false))
        // What an IATI activity says about itself (Journal/Import.md): title, descriptions,
        // status, dates and its reporting organisation, each narrative byte for byte.
        all.append(Entry(type: "funding.described.v1", subjectKind: "funding", required: [],
                         optional: [("title", .narratives(limit: narrativeTextLimit)), ("descriptions", .descriptions),
                                    ("status", .oneOf(activityStatuses)), ("dates", .activityDates),
                                    ("reportingOrg", .text), ("reportingOrgType", .text),
                                    ("reportingOrgName", .narratives(limit: narrativeTextLimit))],
                         needsSomeField: true))
        // Corrections (Decision 0011): an event retracted by id, an action reopened, a subject
        // retired. The first and last concern any subject: the retracted event's, the retired one.
        all.append(Entry(type: "event.retracted.v1", subjectKind: anyKind, required: [("event", .eventID), ("reason", .text)], optional: [], needsSomeField: false))
        all.append(Entry(type: "action.reopened.v1", subjectKind: "action", required: [("reason", .text)], optional: [("status", .oneOf(reopenStatuses))], needsSomeField: false))
        all.append(Entry(type: "subject.retired.v1", subjectKind: anyKind, required: [("reason", .text)], optional: [], needsSomeField: false))
        // Checkpoints (Trust.md §5): a feed's signed checkpoint, and a witness's cosignature of
        // another feed's checkpoint, so that both sync and travel in bundles.
        all.append(Entry(type: "checkpoint.signed.v1", subjectKind: "checkpoint",
                         required: [("origin", .text), ("size", .count), ("root", .text), ("signature", .text)], optional: [], needsSomeField: false))
        all.append(Entry(type: "checkpoint.cosigned.v1", subjectKind: "checkpoint",
                         required: [("origin", .text), ("size", .count), ("root", .text), ("witness", .text), ("cosignature", .text)],
                         optional: [], needsSomeField: false))
        // Key events (Decision 0015, Trust.md "Keys over time"): a site's keys over time, in its
        // own feed, about `key/<site>`. Each ends its batch and carries its signature.
        all.append(Entry(type: KeyHistory.inceptionType, subjectKind: KeyHistory.subjectKind, required: [("next", .keyDigest)], optional: [], needsSomeField: false))
        all.append(Entry(type: KeyHistory.rotationType, subjectKind: KeyHistory.subjectKind, required: [("key", .publicKey), ("next", .keyDigest)], optional: [], needsSomeField: false))
        all.append(Entry(type: KeyHistory.revocationType, subjectKind: KeyHistory.subjectKind,
                         required: [("key", .publicKey), ("next", .keyDigest), ("fromSeq", .sequenceNumber)], optional: [("reason", .text)], needsSomeField: false))
        return Dictionary(uniqueKeysWithValues: all.map { ($0.type, $0) })
    }()

    /// Checks an event's type, subject and data against the catalogue.
    ///
    /// A draft is first checked over the bytes of its names and values against the catalogue
    /// compiled into flat tables (`CatalogueTable`), which allocates nothing; a draft that check
    /// does not accept is checked again by ``validateReference(type:subject:data:)``, which gives
    /// the verdict and names the first error, in the order of its checks.
    /// - Parameters:
    ///   - type: the event type's name (Format.md §7.5).
    ///   - subject: the subject; its kind must be the type's.
    ///   - data: the event's `data`.
    /// - Throws: ``AccordError`` `.badInput` naming the field (`type`, `subject`, `data.amount` …).
    public static func validate(type: String, subject: Subject, data: JSONObject) throws {
        if CatalogueTable.shared.accepts(type: type, subjectKind: subject.kind, data: data) { return }
        try validateReference(type: type, subject: subject, data: data)
    }

    /// The catalogue check as written first, over `String` lookups and `JSONValue` walks: the
    /// reference ``validate(type:subject:data:)`` falls back on for every draft its byte check
    /// does not accept, and that the tests hold the byte check to.
    /// - Throws: as ``validate(type:subject:data:)``.
    package static func validateReference(type: String, subject: Subject, data: JSONObject) throws {
        guard let entry = entries[type] else {
            let known = entries.keys.sorted().joined(separator: ", ")
            throw AccordError(.badInput, "Field 'type': unknown event type '\(type.prefix(80))'. Known types: \(known).", field: "type")
        }
        guard entry.allows(kind: subject.kind) else {
            throw AccordError(.badInput, "Field 'subject': a '\(type)' event is about '\(entry.subjectKind)/<id>', not '\(subject)'.", field: "subject")
        }
        let kinds = fieldKinds[type] ?? [:]
        // Field names are looked up by hash (Swift's `String` equality is canonical equivalence),
        // then compared by bytes: another normalisation of a field's name is not that field.
        var memberKinds: [FieldKind] = []
        memberKinds.reserveCapacity(data.members.count)
        for member in data.members {
            guard let field = kinds[member.key], sameBytes(field.name, member.key) else {
                let names = entry.allowed.map(\.0).joined(separator: ", ")
                throw AccordError(.badInput, "Field 'data.\(member.key.prefix(60))' is not a field of '\(type)'; its fields are: \(names).", field: "data.\(member.key)")
            }
            memberKinds.append(field.kind)
        }
        for (name, _) in entry.required where data[name] == nil {
            throw AccordError(.badInput, "Field 'data.\(name)' is missing; '\(type)' requires \(entry.required.map(\.0).joined(separator: ", ")).", field: "data.\(name)")
        }
        if entry.needsSomeField, data.members.isEmpty {
            throw AccordError(.badInput, "Field 'data' is empty; '\(type)' needs at least one of \(entry.optional.map(\.0).joined(separator: ", ")).", field: "data")
        }
        for (member, kind) in zip(data.members, memberKinds) {
            try check(member.value, as: kind, field: "data." + member.key)
        }
    }

    /// Checks `value` against `kind`. The field's path (`data.amount`, `data.leads[2]`) is
    /// built only when the check fails: building it for every field cost a third of an append.
    static func check(_ value: JSONValue, as kind: FieldKind, field fieldPath: @autoclosure () -> String) throws {
        var field: String { fieldPath() }
        func fail(_ expected: String) -> AccordError {
            AccordError(.badInput, "Field '\(field)' must be \(expected), not \(value.kindDescription)\(preview(value)).", field: field)
        }
        func text() throws -> String {
            guard case .string(let string) = value else {
                if case .number = value, kind.isDecimal {
                    throw AccordError(.badInput, "Field '\(field)' is a JSON number; write it as a decimal string, e.g. \"80.60\", so that no digit is lost to binary floating point.", field: field)
                }
                throw fail(kind.expectation)
            }
            return string
        }
        switch kind {
        case .text:
            let string = try text()
            // In UTF-8, a byte below 0x80 is always a whole scalar: checking bytes is checking scalars.
            guard !string.isEmpty, string.utf8.count <= maxTextBytes, !string.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
                throw fail("non-empty text of at most 4,096 bytes without control characters")
            }
        case .reference:
            guard Slug.isValid(try text()) else { throw fail(kind.expectation) }
        case .references:
            guard case .array(let items) = value, !items.isEmpty else { throw fail(kind.expectation) }
            for (index, item) in items.enumerated() { try check(item, as: .reference, field: "\(fieldPath())[\(index)]") }
        case .oneOf(let options):
            let string = try text()
            guard options.contains(where: { sameBytes($0, string) }) else {
                throw AccordError(.badInput, "Field '\(field)' is '\(string.prefix(60))'; it must be one of: \(options.joined(separator: ", ")).", field: field)
            }
        case .listOf(let options):
            guard case .array(let items) = value, !items.isEmpty else { throw fail(kind.expectation) }
            for (index, item) in items.enumerated() { try check(item, as: .oneOf(options), field: "\(fieldPath())[\(index)]") }
        case .country:
            guard Codes.isCountry(try text()) else { throw fail(kind.expectation) }
        case .date:
            let string = try text()
            // Parsed again, naming the field, only when it fails.
            if (try? CalendarDate(parsing: string)) == nil { _ = try CalendarDate(parsing: string, field: field) }
        case .signedDecimal, .decimal:
            let string = try text()
            guard DecimalText.isValid(string, allowNegative: kind.isSigned) else { throw fail(kind.expectation) }
        case .currency:
            let string = try text()
            guard Codes.isCurrency(string) else {
                throw AccordError(.badInput, "Field '\(field)' is '\(string.prefix(12))', not an ISO 4217 currency code (e.g. EUR, KZT, USD).", field: field)
            }
        case .count:
            guard case .number(let literal) = value, CanonicalJSON.isCanonicalInteger(literal), !literal.hasPrefix("-"), literal.utf8.count <= maxCountDigits else {
                throw fail(kind.expectation)
            }
        case .money:
            guard case .object(let money) = value else { throw fail(kind.expectation) }
            for key in money.keys where key != "amount" && key != "currency" {
                throw AccordError(.badInput, "Field '\(field).\(key.prefix(40))' is not allowed; a value holds amount and currency.", field: "\(field).\(key)")
            }
            guard let amount = money["amount"] else { throw AccordError(.badInput, "Field '\(field).amount' is missing.", field: "\(field).amount") }
            guard let currency = money["currency"] else { throw AccordError(.badInput, "Field '\(field).currency' is missing.", field: "\(field).currency") }
            try check(amount, as: .signedDecimal, field: fieldPath() + ".amount")
            try check(currency, as: .currency, field: fieldPath() + ".currency")
        case .narratives(let limit):
            guard case .array(let items) = value, !items.isEmpty, items.count <= maxNarratives else {
                throw fail("a non-empty array of at most \(maxNarratives) narratives")
            }
            for (index, item) in items.enumerated() {
                try checkNarrative(item, limit: limit, field: "\(fieldPath())[\(index)]")
            }
        case .descriptions:
            guard case .array(let items) = value, !items.isEmpty, items.count <= maxDescriptions else {
                throw fail("a non-empty array of at most \(maxDescriptions) descriptions")
            }
            for (index, item) in items.enumerated() {
                let path = "\(fieldPath())[\(index)]"
                let object = try members(item, allowed: ["type", "narratives"], required: ["narratives"], field: path)
                if let type = object["type"] { try check(type, as: .text, field: path + ".type") }
                try check(object["narratives"]!, as: .narratives(limit: descriptionTextLimit), field: path + ".narratives")
            }
        case .activityDates:
            guard case .array(let items) = value, !items.isEmpty, items.count <= maxActivityDates else {
                throw fail("a non-empty array of at most \(maxActivityDates) activity dates")
            }
            for (index, item) in items.enumerated() {
                let path = "\(fieldPath())[\(index)]"
                let object = try members(item, allowed: ["type", "date"], required: ["type", "date"], field: path)
                try check(object["type"]!, as: .oneOf(activityDateTypes), field: path + ".type")
                try check(object["date"]!, as: .date, field: path + ".date")
            }
        case .eventID:
            let string = try text()
            guard string.utf8.count == 64, string.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
                throw fail(kind.expectation)
            }
        case .publicKey:
            let string = try text()
            guard string.utf8.count == 44, let raw = Base64.decode(string), raw.count == 32, SitePublicKey.weakness(of: raw) == nil,
                  Base64.encode(raw) == string else { throw fail(kind.expectation) }
        case .keyDigest:
            let string = try text()
            guard string.utf8.count == 64, string.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
                throw fail(kind.expectation)
            }
        case .sequenceNumber:
            guard case .number(let literal) = value, CanonicalJSON.isCanonicalInteger(literal), !literal.hasPrefix("-"), literal != "0",
                  literal.utf8.count <= maxCountDigits else { throw fail(kind.expectation) }
        case .url:
            let string = try text()
            // The scheme by bytes: `hasPrefix` compares characters, and "https://" followed by a
            // combining mark is no prefix there, though Format.md's `url` allows it.
            guard string.utf8.starts(with: "https://".utf8) || string.utf8.starts(with: "http://".utf8), string.utf8.count <= maxURLBytes,
                  !string.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else { throw fail(kind.expectation) }
        }
    }

    /// `value` as an object holding only `allowed` members and every `required` one.
    private static func members(_ value: JSONValue, allowed: [String], required: [String], field: String) throws -> JSONObject {
        guard case .object(let object) = value else {
            throw AccordError(.badInput, "Field '\(field)' must be an object with \(allowed.joined(separator: ", ")), not \(value.kindDescription).", field: field)
        }
        for key in object.keys where !allowed.contains(where: { sameBytes($0, key) }) {
            throw AccordError(.badInput, "Field '\(field).\(key.prefix(40))' is not allowed; it holds \(allowed.joined(separator: ", ")).", field: "\(field).\(key)")
        }
        for key in required where object[key] == nil {
            throw AccordError(.badInput, "Field '\(field).\(key)' is missing.", field: "\(field).\(key)")
        }
        return object
    }

    /// One narrative `{"text": …, "lang": …}` (``FieldKind/narratives(limit:)``).
    private static func checkNarrative(_ value: JSONValue, limit: Int, field: String) throws {
        let object = try members(value, allowed: ["text", "lang"], required: ["text"], field: field)
        guard case .string(let text) = object["text"]!, !text.isEmpty, text.utf8.count <= limit,
              !text.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D) || $0 == 0x7F }) else {
            throw AccordError(.badInput, "Field '\(field).text' must be non-empty text of at most \(limit) bytes without control characters other than tab, line feed and carriage return.", field: field + ".text")
        }
        if let lang = object["lang"] {
            guard case .string(let code) = lang, !code.isEmpty, code.utf8.count <= 64, !code.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
                throw AccordError(.badInput, "Field '\(field).lang' must be a language code of 1 to 64 bytes without space or control character, e.g. EN.", field: field + ".lang")
            }
        }
    }

    private static func preview(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return " '\(s.prefix(40))'"
        case .number(let n): return " \(n.prefix(24))"
        default: return ""
        }
    }
}

extension Catalogue.FieldKind {
    var isDecimal: Bool {
        switch self {
        case .decimal, .signedDecimal: return true
        default: return false
        }
    }

    var isSigned: Bool {
        if case .signedDecimal = self { return true }
        return false
    }

    /// What the field must hold, in words ("a date YYYY-MM-DD"), for errors and `accord catalogue`.
    public var expectation: String {
        switch self {
        case .text: return "text"
        case .reference: return "an identifier (lower-case letters, digits and dashes)"
        case .references: return "a non-empty array of identifiers"
        case .oneOf(let options): return "one of \(options.joined(separator: ", "))"
        case .listOf(let options): return "a non-empty array of \(options.joined(separator: ", "))"
        case .country: return "an ISO 3166-1 alpha-2 country code or EU"
        case .date: return "a date YYYY-MM-DD"
        case .signedDecimal: return "a decimal string such as \"1234567.89\" or \"-250.00\" (at most 18 digits before the point, 9 after)"
        case .decimal: return "a decimal string such as \"1.5\" (zero or more)"
        case .currency: return "an ISO 4217 currency code"
        case .count: return "a whole number from 0 to 999,999,999"
        case .url: return "an http or https URL"
        case .money: return "an object with \"amount\" (a decimal string) and \"currency\" (ISO 4217)"
        case .narratives: return "a non-empty array of narratives {\"text\", \"lang\"}"
        case .descriptions: return "a non-empty array of descriptions {\"type\", \"narratives\"}"
        case .activityDates: return "a non-empty array of activity dates {\"type\", \"date\"}"
        case .eventID: return "an event id (64 lower-case hex digits, as 'accord log' prints it)"
        case .publicKey: return "an Ed25519 public key (the base64 of its 32 bytes, 44 characters)"
        case .keyDigest: return "the SHA-256 of a public key's 32 bytes (64 lower-case hex digits)"
        case .sequenceNumber: return "a sequence number of the site's feed (a whole number from 1 to 999,999,999)"
        }
    }
}
