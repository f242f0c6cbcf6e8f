import AccordModel
import AccordProjections
import AccordStore
import Foundation
import FoundationXML

/// Writes the finance events of a journal as an IATI 2.03 activity file that validates against
/// the official schema (Journal/Import.md, "IATI export"): one `iati-activity` per funding, its
/// elements in the schema's order, one `transaction` per finance event. What an import kept
/// (`funding.described.v1`, `stakeholder.participated.v1`) is written as it was read; for the
/// rest, what can be derived from the journal is derived and reported in ``Summary/notSupplied``,
/// and what cannot (the reporting organisation and its type) comes from ``Options``.
/// Built with Foundation's `XMLDocument`, which escapes text.
public enum IATIExporter {
    /// What the export holds.
    public struct Summary: Sendable {
        /// `iati-activity` elements written: one per funding.
        public var activities = 0
        /// `transaction` elements written: one per finance event.
        public var transactions = 0
        /// What Accord could not supply from what it recorded, with the number of activities
        /// concerned, in a stable order: each entry says what was written instead.
        public var notSupplied: [(what: String, activities: Int)] = []

        mutating func note(_ what: String) {
            if let index = notSupplied.firstIndex(where: { $0.what == what }) {
                notSupplied[index].activities += 1
            } else {
                notSupplied.append((what, 1))
            }
        }
    }

    /// What the journal cannot say and the publisher gives: needed only for fundings that have
    /// no recorded reporting organisation (Accord-native ones, or imported before Accord kept it).
    public struct Options: Sendable {
        /// The publisher's IATI organisation identifier (`reporting-org/@ref`, e.g. `XI-IATI-EC_INTPA`).
        public var reportingOrg: String?
        /// The publisher's OrganisationType code (`reporting-org/@type`, ``IATIExporter/organisationTypes``).
        public var reportingOrgType: String?
        /// The publisher's name (`reporting-org/narrative`); its ref when absent.
        public var reportingName: String?

        /// Options for an export.
        /// - Parameters:
        ///   - reportingOrg: `--reporting-org`.
        ///   - reportingOrgType: `--reporting-org-type`.
        ///   - reportingName: `--reporting-name`.
        public init(reportingOrg: String? = nil, reportingOrgType: String? = nil, reportingName: String? = nil) {
            self.reportingOrg = reportingOrg
            self.reportingOrgType = reportingOrgType
            self.reportingName = reportingName
        }
    }

    /// The IATI OrganisationType codelist (2.03): 10 government, 11 local government, 15 other
    /// public sector, 21 international NGO, 22 national NGO, 23 regional NGO, 24 partner country
    /// based NGO, 30 public private partnership, 40 multilateral, 60 foundation, 70 private
    /// sector, 71–73 private sector in provider, aid recipient or third country, 80 academic,
    /// training and research, 90 other.
    public static let organisationTypes = ["10", "11", "15", "21", "22", "23", "24", "30", "40", "60", "70", "71", "72", "73", "80", "90"]

    /// The OrganisationType of a stakeholder kind, where one follows from it: government 10,
    /// industrial 70 (private sector), research 80; financial and civil-society name no single
    /// type (public or private bank; international or national NGO), so none is written.
    static let typeOfKind: [String: String] = ["government": "10", "industrial": "70", "research": "80"]

    /// The IATI transaction type code of a finance event: its `iatiType`, else by its type
    /// (pledged 12, committed 2, disbursed 3, spent 4).
    static func code(type: String, data: JSONObject) -> String? {
        if let code = data["iatiType"]?.stringValue { return code }
        switch type {
        case "finance.pledged.v1": return "12"
        case "finance.committed.v1", "finance.committed.v2": return "2"
        case "finance.disbursed.v1": return "3"
        case "finance.spent.v1": return "4"
        default: return nil
        }
    }

    /// The activity identifier a funding came from (its events' `iati:<identifier> …` source),
    /// else `<reportingOrg>-<funding id>` (IATI: identifiers begin with the reporting org's ref).
    static func activityIdentifier(funding: String, sources: [String], reportingOrg: String) -> String {
        importedIdentifier(sources: sources) ?? reportingOrg + "-" + funding
    }

    /// The activity identifier in the first IATI transaction source of `sources`, if any.
    static func importedIdentifier(sources: [String]) -> String? {
        for source in sources {
            if let parsed = parseTransactionSource(source) { return parsed.activity }
        }
        return nil
    }

    /// The activity identifier and transaction `@ref` in a transaction's source identity
    /// `iati:<activity> transaction ref=<ref> type=<code> date=… value=…` (either may hold spaces:
    /// the activity ends at the last " transaction ", the ref at the last " type=").
    static func parseTransactionSource(_ source: String) -> (activity: String, ref: String?)? {
        guard source.hasPrefix("iati:"), let marker = source.range(of: " transaction ", options: .backwards) else { return nil }
        let activity = String(source[source.index(source.startIndex, offsetBy: 5)..<marker.lowerBound])
        let rest = source[marker.upperBound...]
        guard rest.hasPrefix("ref="), let type = rest.range(of: " type=", options: .backwards) else { return (activity, nil) }
        return (activity, String(rest[rest.index(rest.startIndex, offsetBy: 4)..<type.lowerBound]))
    }

    /// The IATI XML for the finance events of `journal`, valid against the IATI 2.03 schema.
    /// - Parameters:
    ///   - options: the reporting organisation for fundings that have none recorded.
    ///   - generated: `generated-datetime`, RFC 3339 UTC.
    /// - Returns: the XML and what it holds, with what Accord could not supply.
    /// - Throws: ``AccordError`` `.badInput` when no funding has finance events (an activity file
    ///   needs at least one activity), or a funding needs `--reporting-org` or
    ///   `--reporting-org-type` and it is not given (the message names the option); journal read errors.
    public static func export(_ journal: EventJournal, options: Options, generated: Timestamp) throws -> (xml: Data, summary: Summary) {
        struct Transaction { var code: String; var data: JSONObject; var time: Timestamp; var source: String? }
        struct Participation { var stakeholder: String; var role: String; var name: String?; var ref: String?; var type: String? }
        var fundings: [String: [Transaction]] = [:]
        var described: [String: JSONObject] = [:]
        var participations: [String: [Participation]] = [:]
        var events = try journal.events()
        while let event = try events.next() {
            let type = event.type.rawValue
            if type == "funding.described.v1", event.subject.kind == "funding" {
                // The latest in journal order holds (a later import of a changed activity).
                described[event.subject.id] = event.data
                continue
            }
            if type == "stakeholder.participated.v1", let funding = event.data["funding"]?.stringValue, let role = event.data["role"]?.stringValue {
                let known = participations[funding, default: []]
                if !known.contains(where: { sameBytes($0.stakeholder, event.subject.id) && sameBytes($0.role, role) }) {
                    participations[funding, default: []].append(Participation(stakeholder: event.subject.id, role: role, name: event.data["name"]?.stringValue,
                                                                            ref: event.data["iatiRef"]?.stringValue, type: event.data["iatiType"]?.stringValue))
                }
                continue
            }
            guard event.subject.kind == "funding", type.hasPrefix("finance.") else { continue }
            let (upcast, data) = Upcaster.upcast(type: type, data: event.data)
            guard let code = code(type: upcast, data: data) else { continue }
            fundings[event.subject.id, default: []].append(Transaction(code: code, data: data, time: event.time, source: data[Catalogue.sourceField]?.stringValue))
        }
        guard !fundings.isEmpty else {
            throw AccordError(.badInput, "Nothing to export: no funding in this journal has finance events, and an IATI activity file must hold at least one iati-activity (IATI 2.03 schema). Record or import finance events first; no file was written.")
        }
        let state = try StateBuilder(journal: journal).build().state
        func element(_ name: String, _ attributes: [(String, String)] = [], text: String? = nil) -> XMLElement {
            let node = text.map { XMLElement(name: name, stringValue: $0) } ?? XMLElement(name: name)
            for (key, value) in attributes { node.addAttribute(XMLNode.attribute(withName: key, stringValue: value) as! XMLNode) }
            return node
        }
        /// The `narrative` children of kept narratives, `xml:lang` kept.
        func narratives(_ value: JSONValue?) -> [XMLElement]? {
            guard case .array(let items)? = value, !items.isEmpty else { return nil }
            let nodes = items.compactMap { item -> XMLElement? in
                guard case .object(let object) = item, let text = object["text"]?.stringValue else { return nil }
                return element("narrative", object["lang"]?.stringValue.map { [("xml:lang", $0)] } ?? [], text: text)
            }
            return nodes.isEmpty ? nil : nodes
        }
        func organisation(_ name: String, stakeholder: String, extra: [(String, String)] = []) -> XMLElement {
            let known = state.stakeholders[stakeholder]
            let node = element(name, [("ref", known?.iatiRef?.value ?? stakeholder)] + extra)
            node.addChild(element("narrative", text: known?.name?.value ?? stakeholder))
            return node
        }
        let root = element("iati-activities", [("version", "2.03"), ("generated-datetime", generated.text)])
        var summary = Summary()
        for funding in fundings.keys.sorted() {
            let transactions = fundings[funding]!
            let about = described[funding] ?? JSONObject()
            let activity = element("iati-activity", [("last-updated-datetime", (transactions.map(\.time).max() ?? generated).text)])

            // iati-identifier: as imported, else <reporting org>-<funding id>.
            let recordedRef = about["reportingOrg"]?.stringValue
            let imported = importedIdentifier(sources: transactions.compactMap(\.source))
            guard let reportingRef = recordedRef ?? options.reportingOrg else {
                throw AccordError(.badInput, "Funding '\(funding)' has no recorded reporting organisation (it was not imported from IATI, or was imported before Accord kept it); give --reporting-org REF, the publisher's IATI organisation identifier, e.g. XI-IATI-EC_INTPA. No file was written.")
            }
            activity.addChild(element("iati-identifier", text: imported ?? reportingRef + "-" + funding))

            // reporting-org: ref, type and name(s) as imported, else from the options.
            guard let reportingType = about["reportingOrgType"]?.stringValue ?? options.reportingOrgType else {
                throw AccordError(.badInput, "Funding '\(funding)' has no recorded reporting organisation type, which IATI requires (reporting-org/@type); give --reporting-org-type CODE from the OrganisationType codelist (10 government, 15 other public sector, 21 international NGO, 40 multilateral, 70 private sector, 80 academic and research, 90 other). No file was written.")
            }
            if recordedRef == nil { summary.note("reporting-org: from --reporting-org (none recorded)") }
            if about["reportingOrgType"] == nil { summary.note("reporting-org type: from --reporting-org-type (none recorded)") }
            let reporting = element("reporting-org", [("ref", reportingRef), ("type", reportingType)])
            if let names = narratives(about["reportingOrgName"]) {
                names.forEach(reporting.addChild)
            } else {
                if options.reportingName == nil { summary.note("reporting-org name: its ref (no name recorded; give --reporting-name)") }
                reporting.addChild(element("narrative", text: options.reportingName ?? reportingRef))
            }
            activity.addChild(reporting)

            // title: as imported, else the funding id.
            let title = element("title")
            if let names = narratives(about["title"]) {
                names.forEach(title.addChild)
            } else {
                summary.note("title: the funding id (no title recorded)")
                title.addChild(element("narrative", text: funding))
            }
            activity.addChild(title)

            // description (at least one): as imported, else a sentence saying none is recorded.
            var wroteDescription = false
            if case .array(let items)? = about["descriptions"] {
                for case .object(let item) in items {
                    guard let texts = narratives(item["narratives"]) else { continue }
                    let node = element("description", item["type"]?.stringValue.map { [("type", $0)] } ?? [])
                    texts.forEach(node.addChild)
                    activity.addChild(node)
                    wroteDescription = true
                }
            }
            if !wroteDescription {
                summary.note("description: a sentence saying none is recorded")
                let node = element("description", [("type", "1")])
                node.addChild(element("narrative", [("xml:lang", "en")], text: "Funding \(funding) of the partnership \(journal.partnership), exported from its Accord journal. No description is recorded in Accord."))
                activity.addChild(node)
            }

            // participating-org (at least one): as imported, else the providers (1 funding) and
            // receivers (4 implementing) of its finance events, else the reporting org (2 accountable).
            var wroteParticipant = false
            for participation in participations[funding] ?? [] {
                var attributes: [(String, String)] = []
                if let ref = participation.ref { attributes.append(("ref", ref)) }
                attributes.append(("role", participation.role))
                if let type = participation.type { attributes.append(("type", type)) }
                let node = element("participating-org", attributes)
                node.addChild(element("narrative", text: participation.name ?? participation.ref ?? participation.stakeholder))
                activity.addChild(node)
                wroteParticipant = true
            }
            if !wroteParticipant {
                var derived: [(String, String)] = []
                for (field, role) in [("provider", "1"), ("receiver", "4")] {
                    for transaction in transactions {
                        guard let id = transaction.data[field]?.stringValue, id != "unspecified",
                              !derived.contains(where: { $0.0 == id && $0.1 == role }) else { continue }
                        derived.append((id, role))
                    }
                }
                for (id, role) in derived {
                    let known = state.stakeholders[id]
                    var attributes: [(String, String)] = []
                    if let ref = known?.iatiRef?.value { attributes.append(("ref", ref)) }
                    attributes.append(("role", role))
                    if let kind = known?.kind?.value, let type = typeOfKind[kind] { attributes.append(("type", type)) }
                    let node = element("participating-org", attributes)
                    node.addChild(element("narrative", text: known?.name?.value ?? id))
                    activity.addChild(node)
                }
                if derived.isEmpty {
                    summary.note("participating-org: the reporting organisation as accountable (2); no organisation recorded")
                    let node = element("participating-org", [("ref", reportingRef), ("role", "2"), ("type", reportingType)])
                    node.addChild(element("narrative", text: options.reportingName ?? reportingRef))
                    activity.addChild(node)
                } else {
                    summary.note("participating-org: providers as funding (1) and receivers as implementing (4), from the finance events")
                }
            }

            // activity-status: as imported, else 1 pipeline (pledges only) or 2 implementation.
            if let status = about["status"]?.stringValue {
                activity.addChild(element("activity-status", [("code", status)]))
            } else {
                summary.note("activity-status: derived from the finance events (1 pipeline with pledges only, else 2 implementation)")
                let pledgesOnly = transactions.allSatisfy { $0.code == "12" || $0.code == "13" }
                activity.addChild(element("activity-status", [("code", pledgesOnly ? "1" : "2")]))
            }

            // activity-date (at least one): as imported, else the first disbursement or
            // expenditure as actual start (2), else the first transaction as planned start (1).
            var wroteDate = false
            if case .array(let items)? = about["dates"] {
                for case .object(let item) in items {
                    guard let type = item["type"]?.stringValue, let date = item["date"]?.stringValue else { continue }
                    activity.addChild(element("activity-date", [("type", type), ("iso-date", date)]))
                    wroteDate = true
                }
            }
            if !wroteDate {
                summary.note("activity-date: derived from the finance events (first disbursement or expenditure as actual start, else first transaction as planned start)")
                let spent = transactions.filter { $0.code == "3" || $0.code == "4" }.compactMap { $0.data["date"]?.stringValue }.min()
                let first = transactions.compactMap { $0.data["date"]?.stringValue }.min() ?? String(generated.text.prefix(10))
                activity.addChild(element("activity-date", [("type", spent == nil ? "1" : "2"), ("iso-date", spent ?? first)]))
            }

            for transaction in transactions {
                let data = transaction.data
                let value = data["value"].flatMap { value -> JSONObject? in if case .object(let object) = value { return object } else { return nil } }
                guard let amount = (value?["amount"] ?? data["amount"])?.stringValue, let currency = (value?["currency"] ?? data["currency"])?.stringValue,
                      let date = data["date"]?.stringValue else { continue }
                var attributes: [(String, String)] = []
                if let source = transaction.source, let ref = parseTransactionSource(source)?.ref {
                    attributes.append(("ref", ref))
                }
                let node = element("transaction", attributes)
                node.addChild(element("transaction-type", [("code", transaction.code)]))
                node.addChild(element("transaction-date", [("iso-date", date)]))
                node.addChild(element("value", [("currency", currency), ("value-date", data["valueDate"]?.stringValue ?? date)], text: amount))
                if let provider = data["provider"]?.stringValue, provider != "unspecified" { node.addChild(organisation("provider-org", stakeholder: provider)) }
                if let receiver = data["receiver"]?.stringValue, receiver != "unspecified" { node.addChild(organisation("receiver-org", stakeholder: receiver)) }
                activity.addChild(node)
                summary.transactions += 1
            }
            root.addChild(activity)
            summary.activities += 1
        }
        let document = XMLDocument(rootElement: root)
        document.version = "1.0"
        document.characterEncoding = "UTF-8"
        return (document.xmlData(options: [.nodePrettyPrint]), summary)
    }
}
