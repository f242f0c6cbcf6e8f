import AccordModel

extension IATIImporter {
    /// The events of one activity; problems and skipped items go to `report`.
    static func convert(_ activity: IATIActivity, file: String, report: inout ImportReport) -> [ImportedEvent] {
        report.count("activities")
        guard let identifier = activity.identifier else {
            skipUnidentified(activity, report: &report)
            return []
        }
        let context = ActivityContext(identifier: identifier, funding: fundingID(identifier),
                                      reporting: activity.reportingOrg.flatMap(Self.stakeholderID) ?? Catalogue.unspecifiedStakeholder, file: file)
        let described = describedEvent(of: activity, context, report: &report).map { [$0] } ?? []
        return described + participationEvents(of: activity, context, report: &report) + financeEvents(of: activity, context, report: &report)
    }

    /// What the events of one activity share.
    struct ActivityContext {
        /// The activity's `iati-identifier`.
        var identifier: String
        /// Its funding id (``fundingID(_:)``).
        var funding: String
        /// The stakeholder id of its reporting organisation, or `unspecified`.
        var reporting: String
        /// The file's path as given.
        var file: String
    }

    /// Records an activity without identifier as skipped: nothing of it can be told apart from
    /// another activity's on a later import.
    private static func skipUnidentified(_ activity: IATIActivity, report: inout ImportReport) {
        if !activity.transactions.isEmpty || !activity.participants.isEmpty {
            report.skipped["activity without iati-identifier (its transactions and participating organisations are not imported)", default: 0] += 1
            report.count("transactions skipped with their activity", activity.transactions.count)
        } else {
            report.skipped["activity without iati-identifier, transactions or participating organisations", default: 0] += 1
        }
    }

}

extension IATIImporter {
    /// Participating organisations → stakeholders with their role in this funding.
    private static func participationEvents(of activity: IATIActivity, _ context: ActivityContext, report: inout ImportReport) -> [ImportedEvent] {
        var events: [ImportedEvent] = []
        var participations = Set<BytewiseText>()
        for (index, organisation) in activity.participants.enumerated() {
            report.count("participating organisations")
            if let event = participationEvent(organisation, number: index + 1, context, seen: &participations, report: &report) {
                events.append(event)
            }
        }
        return events
    }

    /// The `stakeholder.participated.v1` event of one organisation, or nil when it is skipped
    /// or refused (recorded in `report`); `seen` holds the identities of those already made.
    private static func participationEvent(_ organisation: IATIOrganisation, number: Int, _ context: ActivityContext,
                                           seen: inout Set<BytewiseText>, report: inout ImportReport) -> ImportedEvent? {
        let item = "participating-org \(number) of activity \(context.identifier)"
        guard let stakeholder = stakeholderID(organisation) else {
            report.skipped["participating-org with neither @ref nor a name", default: 0] += 1
            return nil
        }
        guard let role = organisation.role else {
            report.skipped["participating-org without @role", default: 0] += 1
            return nil
        }
        guard Catalogue.organisationRoles.contains(role) else {
            report.problems.append(ImportProblem(file: context.file, line: organisation.line, item: item,
                message: "@role is '\(role.prefix(20))'; the OrganisationRole codelist has 1 (funding), 2 (accountable), 3 (extending), 4 (implementing)."))
            return nil
        }
        let base = "iati:\(clean(context.identifier)) participating-org id=\(stakeholder) role=\(role)"
        guard seen.insert(BytewiseText(base)).inserted else {
            report.skipped["participating-org listed twice with the same role", default: 0] += 1
            return nil
        }
        var data: [(key: String, value: JSONValue)] = [
            ("name", .string(importText(organisation.name ?? "") ?? organisation.ref ?? stakeholder)),
            ("funding", .string(context.funding)), ("role", .string(role)),
        ]
        if let ref = organisation.ref.flatMap(importText) { data.append(("iatiRef", .string(ref))) }
        if let type = organisation.type.flatMap(importText) { data.append(("iatiType", .string(type))) }
        return make("stakeholder.participated.v1", "stakeholder/" + stakeholder, data, identity: base, line: organisation.line, item: item, file: context.file, report: &report)
    }

}

extension IATIImporter {
    /// A transaction's values, checked.
    struct CheckedTransaction {
        /// The IATI TransactionType code.
        var code: String
        /// The event type of that code.
        var type: String
        /// The value, as a normalised decimal.
        var amount: String
        /// The ISO 4217 currency.
        var currency: String
        /// `transaction-date/@iso-date`, else `value/@value-date`.
        var date: String
    }

    /// Transactions → finance events.
    private static func financeEvents(of activity: IATIActivity, _ context: ActivityContext, report: inout ImportReport) -> [ImportedEvent] {
        var events: [ImportedEvent] = []
        var occurrences: [BytewiseText: Int] = [:]  // by bytes: NFC and NFD refs are two transactions
        for transaction in activity.transactions {
            let item = "transaction \(transaction.position) of activity \(context.identifier)"
            guard let checked = check(transaction, defaultCurrency: activity.defaultCurrency, item: item, file: context.file, report: &report) else { continue }
            let base = "iati:\(clean(context.identifier)) transaction \(transaction.ref.map { "ref=\(clean($0))" } ?? "position=\(transaction.position)") type=\(checked.code) date=\(checked.date) value=\(checked.amount) \(checked.currency)"
            occurrences[BytewiseText(base), default: 0] += 1
            let n = occurrences[BytewiseText(base)]!
            let identity = n == 1 ? base : base + " #\(n)"
            let data = financeData(transaction, checked, context)
            if let event = make(checked.type, "funding/" + context.funding, data, identity: identity, line: transaction.line, item: item, file: context.file, report: &report) {
                events.append(event)
            }
        }
        return events
    }

    /// Checks a transaction's type, value, currency and dates, and counts it; nil with a
    /// problem recorded when one is missing or wrong.
    private static func check(_ transaction: IATITransaction, defaultCurrency: String?, item: String, file: String, report: inout ImportReport) -> CheckedTransaction? {
        func refuse(_ message: String) -> CheckedTransaction? {
            report.problems.append(ImportProblem(file: file, line: transaction.line, item: item, message: message))
            return nil
        }
        guard let code = transaction.typeCode else { return refuse("it has no transaction-type/@code.") }
        guard let type = IATITransactionType.eventType(for: code) else {
            return refuse("transaction-type code '\(code.prefix(20))' is not in the IATI TransactionType codelist (1–13).")
        }
        report.count("transactions")
        report.count("transactions of type \(code)")
        guard let raw = transaction.value else { return refuse("it has no value.") }
        guard let amount = normalizedDecimal(raw) else {
            return refuse("the value '\(raw.prefix(40))' is not a decimal number with at most 18 digits before the point and 9 after it.")
        }
        guard let currency = transaction.currency ?? defaultCurrency else {
            return refuse("no currency: neither value/@currency nor the activity's @default-currency is given.")
        }
        guard Codes.isCurrency(currency) else { return refuse("the currency '\(currency.prefix(12))' is not an ISO 4217 code.") }
        guard let date = transaction.date ?? transaction.valueDate else {
            return refuse("no date: neither transaction-date/@iso-date nor value/@value-date is given.")
        }
        guard (try? CalendarDate(parsing: date)) != nil else { return refuse("the date '\(date.prefix(40))' is not a date YYYY-MM-DD.") }
        if let valueDate = transaction.valueDate, (try? CalendarDate(parsing: valueDate)) == nil {
            return refuse("value/@value-date '\(valueDate.prefix(40))' is not a date YYYY-MM-DD.")
        }
        return CheckedTransaction(code: code, type: type, amount: amount, currency: currency, date: date)
    }

    /// The data of a transaction's finance event: provider and receiver (the reporting
    /// organisation on the side the transaction type implies, when not given), the value
    /// (`value` object for `finance.committed.v2`), date, IATI type code and value date.
    private static func financeData(_ transaction: IATITransaction, _ checked: CheckedTransaction, _ context: ActivityContext) -> [(key: String, value: JSONValue)] {
        let incoming = IATITransactionType.incoming.contains(checked.code)
        let provider = transaction.provider.flatMap(stakeholderID) ?? (incoming ? Catalogue.unspecifiedStakeholder : context.reporting)
        let receiver = transaction.receiver.flatMap(stakeholderID) ?? (incoming ? context.reporting : Catalogue.unspecifiedStakeholder)
        var data: [(key: String, value: JSONValue)] = [("provider", .string(provider)), ("receiver", .string(receiver))]
        if checked.type == "finance.committed.v2" {
            data.append(("value", .object(JSONObject([("amount", .string(checked.amount)), ("currency", .string(checked.currency))]))))
        } else {
            data += [("amount", .string(checked.amount)), ("currency", .string(checked.currency))]
        }
        data += [("date", .string(checked.date)), ("iatiType", .string(checked.code))]
        if let valueDate = transaction.valueDate { data.append(("valueDate", .string(valueDate))) }
        return data
    }
}

extension IATIImporter {
    /// The `funding.described.v1` event of an activity: its title, descriptions, status, dates
    /// and reporting organisation as written (Journal/Import.md, "What an activity says about
    /// itself"); nil when it has none of these, or when one is refused (recorded in `report`).
    ///
    /// Its source identity is `iati:<identifier> described sha256=<16 hex digits>` of the
    /// canonical JSON of its data: importing the same file again adds nothing, and a later file
    /// that changes the title (or any of these) adds a new event, which then holds.
    static func describedEvent(of activity: IATIActivity, _ context: ActivityContext, report: inout ImportReport) -> ImportedEvent? {
        let item = "activity \(context.identifier)"
        var refused = false
        func refuse(_ line: Int, _ message: String) {
            report.problems.append(ImportProblem(file: context.file, line: line, item: item, message: message))
            refused = true
        }
        func narratives(_ list: [IATINarrative], limit: Int, what: String, line: Int) -> JSONValue? {
            guard !list.isEmpty else { return nil }
            if list.count > Catalogue.maxNarratives {
                refuse(line, "\(what) has more than \(Catalogue.maxNarratives) narratives; at most \(Catalogue.maxNarratives) (languages) are kept.")
                return nil
            }
            var items: [JSONValue] = []
            for narrative in list {
                let bytes = narrative.text.utf8.count
                if bytes > limit {
                    refuse(narrative.line, "a narrative of \(what) is \(bytes) bytes; at most \(limit) are kept, and Accord does not cut text it must publish again. Shorten it in the source.")
                    continue
                }
                var members: [(key: String, value: JSONValue)] = [("text", .string(narrative.text))]
                if let lang = narrative.lang, !lang.isEmpty { members.append(("lang", .string(lang))) }
                items.append(.object(JSONObject(members)))
            }
            return .array(items)
        }
        var data: [(key: String, value: JSONValue)] = []
        if let title = narratives(activity.titles, limit: Catalogue.narrativeTextLimit, what: "the title", line: activity.line) {
            data.append(("title", title))
        }
        let descriptions = activity.descriptions.filter { !$0.narratives.isEmpty }
        if activity.descriptions.count > descriptions.count {
            report.skipped["description without narrative text", default: 0] += activity.descriptions.count - descriptions.count
        }
        if activity.descriptions.count > Catalogue.maxDescriptions {
            refuse(activity.descriptions[Catalogue.maxDescriptions].line, "the activity has more than \(Catalogue.maxDescriptions) description elements; at most \(Catalogue.maxDescriptions) are kept.")
        } else if !descriptions.isEmpty {
            var items: [JSONValue] = []
            for description in descriptions {
                guard let texts = narratives(description.narratives, limit: Catalogue.descriptionTextLimit, what: "a description", line: description.line) else { continue }
                var members: [(key: String, value: JSONValue)] = []
                if let type = description.type.flatMap(importText) { members.append(("type", .string(type))) }
                members.append(("narratives", texts))
                items.append(.object(JSONObject(members)))
            }
            data.append(("descriptions", .array(items)))
        }
        if let status = activity.status {
            if Catalogue.activityStatuses.contains(where: { sameBytes($0, status) }) {
                data.append(("status", .string(status)))
            } else {
                report.skipped["activity-status code outside the ActivityStatus codelist (1–6)", default: 0] += 1
            }
        }
        var dates: [JSONValue] = []
        for date in activity.dates {
            guard let type = date.type, Catalogue.activityDateTypes.contains(where: { sameBytes($0, type) }),
                  let day = date.date, (try? CalendarDate(parsing: day)) != nil else {
                report.skipped["activity-date without a type 1–4 or a YYYY-MM-DD iso-date", default: 0] += 1
                continue
            }
            dates.append(.object(JSONObject([("type", .string(type)), ("date", .string(day))])))
        }
        if activity.dates.count > Catalogue.maxActivityDates {
            refuse(activity.dates[Catalogue.maxActivityDates].line, "the activity has more than \(Catalogue.maxActivityDates) activity-date elements; at most \(Catalogue.maxActivityDates) are kept.")
        } else if !dates.isEmpty {
            data.append(("dates", .array(dates)))
        }
        if let reporting = activity.reportingOrg {
            if let ref = reporting.ref.flatMap(importText) { data.append(("reportingOrg", .string(ref))) }
            if let type = reporting.type.flatMap(importText) { data.append(("reportingOrgType", .string(type))) }
            if let name = narratives(reporting.narratives, limit: Catalogue.narrativeTextLimit, what: "reporting-org", line: reporting.line) {
                data.append(("reportingOrgName", name))
            }
        }
        guard !refused, !data.isEmpty else { return nil }
        report.count("activities described")
        let hash: String
        do {
            hash = String(Digest.sha256Hex(try CanonicalJSON.encode(.object(JSONObject(data)))).prefix(16))
        } catch {
            report.problems.append(ImportProblem(file: context.file, line: activity.line, item: item, message: "its title or descriptions cannot be written as JSON: \(error)"))
            return nil
        }
        let identity = "iati:\(clean(context.identifier)) described sha256=\(hash)"
        return make("funding.described.v1", "funding/" + context.funding, data, identity: identity, line: activity.line, item: item, file: context.file, report: &report)
    }
}
