import AccordModel
import AccordTesting
import Testing

/// `Catalogue.validate` checks drafts over bytes first and falls back on the reference check
/// (`validateReference`, the check as first written) for what that does not accept. These tests
/// hold the two to the same verdict, field and message over realistic drafts and over every
/// catalogue type damaged field by field.
@Suite("The catalogue's byte check agrees with the reference check")
struct CatalogueByteCheckTests {
    /// A check's outcome: accepted, or the error's field and message.
    enum Outcome: Equatable, CustomStringConvertible {
        case accepted
        case refused(field: String?, message: String)

        var description: String {
            switch self {
            case .accepted: return "accepted"
            case .refused(let field, let message): return "refused [\(field ?? "-")] \(message)"
            }
        }
    }

    static func outcome(_ check: () throws -> Void) -> Outcome {
        do {
            try check()
            return .accepted
        } catch let error as AccordError {
            return .refused(field: error.field, message: error.message)
        } catch {
            return .refused(field: nil, message: "not an AccordError: \(error)")
        }
    }

    /// Checks one draft both ways; returns whether the byte check alone accepted it.
    @discardableResult
    static func expectAgreement(type: String, subject: Subject, data: JSONObject, _ label: @autoclosure () -> String,
                                sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let checked = outcome { try Catalogue.validate(type: type, subject: subject, data: data) }
        let reference = outcome { try Catalogue.validateReference(type: type, subject: subject, data: data) }
        #expect(checked == reference, "\(label()): \(checked) against the reference's \(reference)", sourceLocation: sourceLocation)
        let byBytes = Catalogue.acceptsOverBytes(type: type, subject: subject, data: data)
        if byBytes {
            #expect(reference == .accepted, "\(label()): the byte check accepts what the reference refuses: \(reference)", sourceLocation: sourceLocation)
        }
        return byBytes
    }

    // MARK: - Samples of every type

    static let hex64 = String(repeating: "0123456789abcdef", count: 4)
    static let publicKey = (try? SiteKey(seed: Fixtures.seed("brussels")).publicKey.base64) ?? ""

    /// A valid value of each kind.
    static func sample(_ kind: Catalogue.FieldKind) -> JSONValue {
        switch kind {
        case .text: return .string("Memorandum on raw materials, Astana — Қазақстан")
        case .reference: return .string("european-commission")
        case .references: return .array([.string("eib"), .string("kz-miid")])
        case .oneOf(let options): return .string(options[options.count - 1])
        case .listOf(let options): return .array(options.map { .string($0) })
        case .country: return .string("KZ")
        case .date: return .string("2024-02-29")
        case .signedDecimal: return .string("-250000.50")
        case .decimal: return .string("12.5")
        case .currency: return .string("KZT")
        case .count: return .number("120")
        case .url: return .string("https://eu-kazakhstan.example/report?id=7")
        case .money: return .object(JSONObject([("amount", .string("80.60")), ("currency", .string("EUR"))]))
        case .narratives: return .array([narrative("Title", lang: "en"), narrative("Атауы\tбірінші", lang: "kk")])
        case .descriptions:
            return .array([.object(JSONObject([("type", .string("1")), ("narratives", .array([narrative("A description\nof two lines")]))]))])
        case .activityDates: return .array([activityDate("1", "2023-01-15"), activityDate("4", "2026-12-31")])
        case .eventID, .keyDigest: return .string(hex64)
        case .publicKey: return .string(publicKey)
        case .sequenceNumber: return .number("7")
        }
    }

    static func narrative(_ text: String, lang: String? = nil) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("text", .string(text))]
        if let lang { members.append(("lang", .string(lang))) }
        return .object(JSONObject(members))
    }

    static func activityDate(_ type: String, _ date: String) -> JSONValue {
        .object(JSONObject([("type", .string(type)), ("date", .string(date))]))
    }

    /// Every type with a subject of its kind and every field it allows, valid.
    static var types: [(entry: Catalogue.Entry, subject: Subject)] {
        Catalogue.entries.values.sorted { $0.type.utf8.lexicographicallyPrecedes($1.type.utf8) }.map { entry in
            let kind = entry.subjectKind == Catalogue.anyKind ? "funding" : entry.subjectKind
            return (entry, (try? Subject("\(kind)/sample-1"))!)
        }
    }

    static func fullData(_ entry: Catalogue.Entry) -> JSONObject {
        var members = (entry.required + entry.optional).map { (key: $0.0, value: sample($0.1)) }
        members.append((key: Catalogue.sourceField, value: .string("iati:XI-IATI-EC_INTPA-2023-1#3")))
        return JSONObject(members)
    }

    /// Wrong values for a field of `kind`: other JSON kinds, and damaged values of its own kind.
    static func damaged(_ kind: Catalogue.FieldKind) -> [JSONValue] {
        var values: [JSONValue] = [
            .null, .bool(true), .number("1"), .number("1.5"), .number("-0"), .string(""), .array([]), .object(JSONObject()),
            .string("x\u{01}y"), .string("x\u{7F}"), .string("tab\there"), .string(String(repeating: "a", count: Catalogue.maxTextBytes + 1)),
            .string("Upper"), .string("-lead"), .string("a--b"), .string("trail-"), .string("e\u{301}"), .string("\u{E9}"),
            .string("\u{212A}Z"), .string("\u{212A}ZT"), .string("kz"), .string("XX"), .string("EURO"), .string("eur"),
            .string("2023-02-29"), .string("2024-13-01"), .string("2024-1-01"), .string("01"), .string("1."), .string("-1"), .string("1e3"),
            .string("ftp://x"), .string("https://a b"), .string("http://\u{301}x"), .string("https://"), .string("HTTPS://X"),
            .string(String(repeating: "A", count: 64)), .string(String(hex64.dropLast())), .string(publicKey.lowercased()),
            .number("1000000000"), .number("0"), .number("-1"), .number("007"),
            .array([.null]), .array([.string("")]), .array([.string("Not-a-slug")]),
        ]
        switch kind {
        case .oneOf(let options), .listOf(let options):
            let option = options[0]
            values += [.string(option + " "), .string(option.uppercased()), .array([.string(option), .string("nope")])]
        case .money:
            values += [
                .object(JSONObject([("amount", .string("1.00"))])), .object(JSONObject([("currency", .string("EUR"))])),
                .object(JSONObject([("amount", .number("1")), ("currency", .string("EUR"))])),
                .object(JSONObject([("amount", .string("1.00")), ("currency", .string("EUR")), ("note", .string("x"))])),
                .object(JSONObject([("amount", .string("1.00")), ("currency", .string("\u{212A}ZT"))])),
                .object(JSONObject([("amount", .string("1.00")), ("currency\u{301}", .string("EUR"))])),
            ]
        case .narratives, .descriptions:
            let long = String(repeating: "n", count: Catalogue.descriptionTextLimit + 1)
            values += [
                .array(Array(repeating: narrative("t"), count: Catalogue.maxNarratives + 1)),
                .array([narrative("")]), .array([narrative("a\u{0B}b")]), .array([narrative(long)]), .array([narrative("t", lang: "e n")]),
                .array([narrative("t", lang: "")]), .array([.object(JSONObject([("lang", .string("en"))]))]),
                .array([.object(JSONObject([("text", .string("t")), ("tone", .string("dry"))]))]),
                .array([.object(JSONObject([("narratives", .array([narrative("d")])), ("type", .number("1"))]))]),
                .array([.object(JSONObject([("type", .string("1"))]))]),
                .array(Array(repeating: .object(JSONObject([("narratives", .array([narrative("d")]))])), count: Catalogue.maxDescriptions + 1)),
            ]
        case .activityDates:
            values += [
                .array([activityDate("5", "2023-01-01")]), .array([activityDate("1", "2023-02-30")]),
                .array([.object(JSONObject([("type", .string("1"))]))]),
                .array(Array(repeating: activityDate("1", "2023-01-01"), count: Catalogue.maxActivityDates + 1)),
            ]
        default: break
        }
        return values
    }

    // MARK: - Tests

    @Test func realisticDraftsGetTheSameVerdictAndAreAcceptedOverBytes() {
        for (index, draft) in Fixtures.realisticDrafts(count: 2_000).enumerated() {
            let byBytes = Self.expectAgreement(type: draft.type.rawValue, subject: draft.subject, data: draft.data, "realistic draft \(index)")
            #expect(byBytes, "realistic draft \(index) (\(draft.type)) is left to the reference check")
        }
    }

    @Test func everyTypeWithAllItsFieldsIsAcceptedByBothAndOverBytesUnlessItHoldsAKey() {
        for (entry, subject) in Self.types {
            let data = Self.fullData(entry)
            let byBytes = Self.expectAgreement(type: entry.type, subject: subject, data: data, "\(entry.type), every field")
            let holdsKey = (entry.required + entry.optional).contains { if case .publicKey = $0.1 { return true } else { return false } }
            #expect(byBytes == !holdsKey, "\(entry.type): the byte check \(byBytes ? "accepts" : "leaves") it")
            #expect(Catalogue.acceptsOverBytes(type: entry.type, subject: subject, data: data) || holdsKey)
            // Only what is required (and one optional field where one is needed).
            var members = entry.required.map { (key: $0.0, value: Self.sample($0.1)) }
            if entry.needsSomeField, let first = entry.optional.first { members.append((key: first.0, value: Self.sample(first.1))) }
            Self.expectAgreement(type: entry.type, subject: subject, data: JSONObject(members), "\(entry.type), required fields only")
        }
    }

    @Test func everyFieldRemovedDamagedOrRenamedGetsTheSameErrorAsTheReference() {
        for (entry, subject) in Self.types {
            let full = Self.fullData(entry)
            for (position, member) in full.members.enumerated() {
                let kind = (entry.required + entry.optional).first { $0.0 == member.key }?.1 ?? .text
                var removed = full.members
                removed.remove(at: position)
                Self.expectAgreement(type: entry.type, subject: subject, data: JSONObject(removed), "\(entry.type) without \(member.key)")
                for value in Self.damaged(kind) {
                    var changed = full.members
                    changed[position].value = value
                    Self.expectAgreement(type: entry.type, subject: subject, data: JSONObject(changed), "\(entry.type).\(member.key) = \(value)")
                }
                // Another normalisation of the name, a name with a mark added, an upper-case name.
                for name in [member.key + "\u{301}", member.key.uppercased(), member.key.replacingFirstASCII("k", with: "\u{212A}"), " " + member.key] {
                    var renamed = full.members
                    renamed[position].key = name
                    Self.expectAgreement(type: entry.type, subject: subject, data: JSONObject(renamed), "\(entry.type) with \(member.key) named \(name)")
                }
                // The member twice: the reference checks only the first for some kinds.
                var twice = full.members
                twice.append(member)
                Self.expectAgreement(type: entry.type, subject: subject, data: JSONObject(twice), "\(entry.type) with \(member.key) twice")
                var twiceDamaged = full.members
                twiceDamaged.append((key: member.key, value: .null))
                Self.expectAgreement(type: entry.type, subject: subject, data: JSONObject(twiceDamaged), "\(entry.type) with \(member.key) twice, once null")
            }
            // An extra field, an empty object, another subject kind.
            Self.expectAgreement(type: entry.type, subject: subject, data: JSONObject(full.members + [(key: "extra", value: .string("x"))]), "\(entry.type) + extra")
            Self.expectAgreement(type: entry.type, subject: subject, data: JSONObject(), "\(entry.type) with empty data")
            for kind in ["stakeholder", "action", "key", "other"] where kind != subject.kind {
                Self.expectAgreement(type: entry.type, subject: (try? Subject("\(kind)/x"))!, data: full, "\(entry.type) about \(kind)/x")
            }
        }
    }

    @Test func unknownAndAlmostKnownTypesGetTheSameErrorAsTheReference() {
        let data = Self.fullData(Catalogue.entries["finance.committed.v1"]!)
        let subject = (try? Subject("funding/f-1"))!
        for type in ["", "finance.committed.v9", "Finance.committed.v1", "finance.committed.v1 ", "finance.comitted.v1",
                     "finance.committe\u{301}d.v1", "finance.committed.v1\u{0}", "\u{212A}ey.inception.v1", String(repeating: "x", count: 300)] {
            Self.expectAgreement(type: type, subject: subject, data: data, "type \(type.debugDescription)")
        }
    }

    @Test func randomlyDamagedRealisticDraftsGetTheSameVerdictFieldAndMessage() {
        var random = SeededRandom(seed: 16)
        let drafts = Fixtures.realisticDrafts(count: 500)
        let types = Self.types
        let pool: [JSONValue] = Self.damaged(.money) + Self.damaged(.narratives(limit: 4096)) + Self.damaged(.activityDates)
            + Self.damaged(.oneOf(Catalogue.valueChains)) + types.flatMap { ($0.entry.required + $0.entry.optional).map { Self.sample($0.1) } }
        let names = types.flatMap { ($0.entry.required + $0.entry.optional).map(\.0) } + ["source", "extra", "Name", "name\u{301}", ""]
        for round in 0..<6_000 {
            var draft = drafts[Int(random.next() % UInt64(drafts.count))]
            var type = draft.type.rawValue
            var subject = draft.subject
            var members = draft.data.members
            for _ in 0..<(1 + Int(random.next() % 3)) {
                switch random.next() % 6 {
                case 0 where !members.isEmpty: members[Int(random.next() % UInt64(members.count))].value = pool[Int(random.next() % UInt64(pool.count))]
                case 1 where !members.isEmpty: members[Int(random.next() % UInt64(members.count))].key = names[Int(random.next() % UInt64(names.count))]
                case 2 where !members.isEmpty: members.remove(at: Int(random.next() % UInt64(members.count)))
                case 3: members.append((key: names[Int(random.next() % UInt64(names.count))], value: pool[Int(random.next() % UInt64(pool.count))]))
                case 4: type = types[Int(random.next() % UInt64(types.count))].entry.type
                default: subject = types[Int(random.next() % UInt64(types.count))].subject
                }
            }
            draft = EventDraft(type: EventType(type), subject: subject, data: JSONObject(members))
            Self.expectAgreement(type: type, subject: subject, data: draft.data, "random case \(round): \(type) \(subject) \(draft.data)")
        }
    }

    @Test func textInEitherNormalisationIsCheckedTheSameByBothChecks() {
        let entry = Catalogue.entries["stakeholder.registered.v1"]!
        let subject = (try? Subject("stakeholder/s"))!
        for name in ["Caf\u{E9} Astana", "Cafe\u{301} Astana", "\u{212A}azakh \u{2126}hm", "Қазақстан"] {
            var members = Self.fullData(entry).members
            members[0].value = .string(name)
            let byBytes = Self.expectAgreement(type: entry.type, subject: subject, data: JSONObject(members), "name \(name.debugDescription)")
            #expect(byBytes)
        }
    }
}

extension String {
    /// The text with its first `ascii` byte replaced by `replacement` (unchanged without one).
    fileprivate func replacingFirstASCII(_ ascii: Character, with replacement: String) -> String {
        guard let index = firstIndex(of: ascii) else { return self }
        return String(self[..<index]) + replacement + String(self[self.index(after: index)...])
    }
}
