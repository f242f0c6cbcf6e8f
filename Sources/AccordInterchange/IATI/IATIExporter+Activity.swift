import AccordModel
import AccordProjections
import AccordStore
import Foundation
import FoundationXML

extension IATIExporter {
    /// A finance event as the export writes it.
    struct Transaction {
        /// The finance event's id, hex (for retractions).
        var id: String
        /// Its IATI TransactionType code.
        var code: String
        /// Its data, upcast.
        var data: JSONObject
        /// When it was recorded.
        var time: Timestamp
        /// `data.source`, if imported.
        var source: String?
    }

    /// A `stakeholder.participated.v1` as the export writes it.
    struct Participation {
        var stakeholder: String
        var role: String
        var name: String?
        var ref: String?
        var type: String?
    }

    /// What the journal records for the export, read in one pass.
    struct Recorded {
        /// Funding id → its finance events, in journal order.
        var transactions: [String: [Transaction]] = [:]
        /// Funding id → the data of its `funding.described.v1` with the greatest HLC (then id):
        /// the same at every office whatever order sync delivered them in.
        var described: [String: JSONObject] = [:]
        /// Funding id → its participations, once per stakeholder and role, in journal order.
        var participations: [String: [Participation]] = [:]

        init(_ journal: EventJournal) throws {
            var latest: [String: (hlc: HybridTimestamp, id: String)] = [:]
            var events = try journal.events()
            while let event = try events.next() {
                let type = event.type.rawValue
                if type == "funding.described.v1", event.subject.kind == "funding" {
                    let stamp = (hlc: event.hlc, id: event.id.hex)
                    if let held = latest[event.subject.id], (held.hlc, held.id) >= (stamp.hlc, stamp.id) { continue }
                    latest[event.subject.id] = stamp
                    described[event.subject.id] = event.data
                } else if type == "stakeholder.participated.v1", let funding = event.data["funding"]?.stringValue, let role = event.data["role"]?.stringValue {
                    let known = participations[funding, default: []]
                    guard !known.contains(where: { sameBytes($0.stakeholder, event.subject.id) && sameBytes($0.role, role) }) else { continue }
                    participations[funding, default: []].append(Participation(stakeholder: event.subject.id, role: role, name: event.data["name"]?.stringValue,
                                                                            ref: event.data["iatiRef"]?.stringValue, type: event.data["iatiType"]?.stringValue))
                } else if event.subject.kind == "funding", type.hasPrefix("finance.") {
                    let (upcast, data) = Upcaster.upcast(type: type, data: event.data)
                    guard let code = IATIExporter.code(type: upcast, data: data) else { continue }
                    transactions[event.subject.id, default: []].append(Transaction(id: event.id.hex, code: code, data: data, time: event.time, source: data[Catalogue.sourceField]?.stringValue))
                }
            }
        }
    }

    /// Writes one `iati-activity` per funding, its elements in the schema's sequence, and notes
    /// in ``Summary`` what it had to derive (Journal/Import.md, "IATI export").
    struct ActivityWriter {
        let recorded: Recorded
        let state: PartnershipState
        let options: Options
        let partnership: String
        let generated: Timestamp
        var summary = Summary()

        static func element(_ name: String, _ attributes: [(String, String)] = [], text: String? = nil) -> XMLElement {
            let node = text.map { XMLElement(name: name, stringValue: $0) } ?? XMLElement(name: name)
            for (key, value) in attributes { node.addAttribute(XMLNode.attribute(withName: key, stringValue: value) as! XMLNode) }
            return node
        }

        /// The `narrative` elements of kept narratives, `xml:lang` kept; nil when there are none.
        static func narratives(_ value: JSONValue?) -> [XMLElement]? {
            guard case .array(let items)? = value, !items.isEmpty else { return nil }
            let nodes = items.compactMap { item -> XMLElement? in
                guard case .object(let object) = item, let text = object["text"]?.stringValue else { return nil }
                return element("narrative", object["lang"]?.stringValue.map { [("xml:lang", $0)] } ?? [], text: text)
            }
            return nodes.isEmpty ? nil : nodes
        }

        /// The `iati-activity` of `funding`.
        mutating func activity(_ funding: String) throws -> XMLElement {
            let transactions = recorded.transactions[funding] ?? []
            let about = recorded.described[funding] ?? JSONObject()
            let activity = Self.element("iati-activity", [("last-updated-datetime", (transactions.map(\.time).max() ?? generated).text)])
            let reporting = try reportingOrg(funding, about)
            // iati-identifier: as imported, else <reporting org>-<funding id>.
            let imported = IATIExporter.importedIdentifier(sources: transactions.compactMap(\.source))
            activity.addChild(Self.element("iati-identifier", text: imported ?? reporting.ref + "-" + funding))
            activity.addChild(reporting.node)
            activity.addChild(title(funding, about))
            descriptions(funding, about).forEach(activity.addChild)
            participants(funding, transactions, reporting: reporting).forEach(activity.addChild)
            activity.addChild(status(about, transactions))
            dates(about, transactions).forEach(activity.addChild)
            for transaction in transactions {
                if let node = self.transaction(transaction) {
                    activity.addChild(node)
                    summary.transactions += 1
                }
            }
            summary.activities += 1
            return activity
        }

        /// `reporting-org`: ref, type and name(s) as imported, else from the options.
        mutating func reportingOrg(_ funding: String, _ about: JSONObject) throws -> (ref: String, type: String, node: XMLElement) {
            let recordedRef = about["reportingOrg"]?.stringValue
            guard let ref = recordedRef ?? options.reportingOrg else {
                throw AccordError(.badInput, "Funding '\(funding)' has no recorded reporting organisation (it was not imported from IATI, or was imported before Accord kept it); give --reporting-org REF, the publisher's IATI organisation identifier, e.g. XI-IATI-EC_INTPA. No file was written.")
            }
            guard let type = about["reportingOrgType"]?.stringValue ?? options.reportingOrgType else {
                throw AccordError(.badInput, "Funding '\(funding)' has no recorded reporting organisation type, which IATI requires (reporting-org/@type); give --reporting-org-type CODE from the OrganisationType codelist (10 government, 15 other public sector, 21 international NGO, 40 multilateral, 70 private sector, 80 academic and research, 90 other). No file was written.")
            }
            if recordedRef == nil { summary.note("reporting-org: from --reporting-org (none recorded)") }
            if about["reportingOrgType"] == nil { summary.note("reporting-org type: from --reporting-org-type (none recorded)") }
            let node = Self.element("reporting-org", [("ref", ref), ("type", type)])
            if let names = Self.narratives(about["reportingOrgName"]) {
                names.forEach(node.addChild)
            } else {
                if options.reportingName == nil { summary.note("reporting-org name: its ref (no name recorded; give --reporting-name)") }
                node.addChild(Self.element("narrative", text: options.reportingName ?? ref))
            }
            return (ref, type, node)
        }

        /// `title`: as recorded, else the funding id.
        mutating func title(_ funding: String, _ about: JSONObject) -> XMLElement {
            let title = Self.element("title")
            if let names = Self.narratives(about["title"]) {
                names.forEach(title.addChild)
            } else {
                summary.note("title: the funding id (no title recorded)")
                title.addChild(Self.element("narrative", text: funding))
            }
            return title
        }

        /// `description` (at least one): as recorded, else a sentence saying none is recorded.
        mutating func descriptions(_ funding: String, _ about: JSONObject) -> [XMLElement] {
            var nodes: [XMLElement] = []
            if case .array(let items)? = about["descriptions"] {
                for case .object(let item) in items {
                    guard let texts = Self.narratives(item["narratives"]) else { continue }
                    let node = Self.element("description", item["type"]?.stringValue.map { [("type", $0)] } ?? [])
                    texts.forEach(node.addChild)
                    nodes.append(node)
                }
            }
            if nodes.isEmpty {
                summary.note("description: a sentence saying none is recorded")
                let node = Self.element("description", [("type", "1")])
                node.addChild(Self.element("narrative", [("xml:lang", "en")],
                                           text: "Funding \(funding) of the partnership \(partnership), exported from its Accord journal. No description is recorded in Accord."))
                nodes.append(node)
            }
            return nodes
        }

        /// `participating-org` (at least one): as imported, else the providers (1 funding) and
        /// receivers (4 implementing) of its finance events, else the reporting organisation
        /// (2 accountable).
        mutating func participants(_ funding: String, _ transactions: [Transaction], reporting: (ref: String, type: String, node: XMLElement)) -> [XMLElement] {
            var nodes: [XMLElement] = []
            for participation in recorded.participations[funding] ?? [] {
                var attributes: [(String, String)] = []
                if let ref = participation.ref { attributes.append(("ref", ref)) }
                attributes.append(("role", participation.role))
                if let type = participation.type { attributes.append(("type", type)) }
                let node = Self.element("participating-org", attributes)
                node.addChild(Self.element("narrative", text: participation.name ?? participation.ref ?? participation.stakeholder))
                nodes.append(node)
            }
            guard nodes.isEmpty else { return nodes }
            var derived: [(id: String, role: String)] = []
            for (field, role) in [("provider", "1"), ("receiver", "4")] {
                for transaction in transactions {
                    guard let id = transaction.data[field]?.stringValue, id != "unspecified",
                          !derived.contains(where: { $0.id == id && $0.role == role }) else { continue }
                    derived.append((id, role))
                }
            }
            for (id, role) in derived {
                let known = state.stakeholders[id]
                var attributes: [(String, String)] = []
                if let ref = known?.iatiRef?.value { attributes.append(("ref", ref)) }
                attributes.append(("role", role))
                if let kind = known?.kind?.value, let type = IATIExporter.typeOfKind[kind] { attributes.append(("type", type)) }
                let node = Self.element("participating-org", attributes)
                node.addChild(Self.element("narrative", text: known?.name?.value ?? id))
                nodes.append(node)
            }
            if derived.isEmpty {
                summary.note("participating-org: the reporting organisation as accountable (2); no organisation recorded")
                let node = Self.element("participating-org", [("ref", reporting.ref), ("role", "2"), ("type", reporting.type)])
                node.addChild(Self.element("narrative", text: options.reportingName ?? reporting.ref))
                nodes.append(node)
            } else {
                summary.note("participating-org: providers as funding (1) and receivers as implementing (4), from the finance events")
            }
            return nodes
        }

        /// `activity-status`: as recorded, else 1 (pipeline) with pledges only, else 2 (implementation).
        mutating func status(_ about: JSONObject, _ transactions: [Transaction]) -> XMLElement {
            if let status = about["status"]?.stringValue { return Self.element("activity-status", [("code", status)]) }
            summary.note("activity-status: derived from the finance events (1 pipeline with pledges only, else 2 implementation)")
            let pledgesOnly = transactions.allSatisfy { $0.code == "12" || $0.code == "13" }
            return Self.element("activity-status", [("code", pledgesOnly ? "1" : "2")])
        }

        /// `activity-date` (at least one): as recorded, else the first disbursement or
        /// expenditure as actual start (2), else the first transaction as planned start (1).
        mutating func dates(_ about: JSONObject, _ transactions: [Transaction]) -> [XMLElement] {
            var nodes: [XMLElement] = []
            if case .array(let items)? = about["dates"] {
                for case .object(let item) in items {
                    guard let type = item["type"]?.stringValue, let date = item["date"]?.stringValue else { continue }
                    nodes.append(Self.element("activity-date", [("type", type), ("iso-date", date)]))
                }
            }
            guard nodes.isEmpty else { return nodes }
            summary.note("activity-date: derived from the finance events (first disbursement or expenditure as actual start, else first transaction as planned start)")
            let spent = transactions.filter { $0.code == "3" || $0.code == "4" }.compactMap { $0.data["date"]?.stringValue }.min()
            let first = transactions.compactMap { $0.data["date"]?.stringValue }.min() ?? String(generated.text.prefix(10))
            return [Self.element("activity-date", [("type", spent == nil ? "1" : "2"), ("iso-date", spent ?? first)])]
        }

        /// One `transaction`: `@ref` when imported with one (kept exactly), type, date, value
        /// with currency and value date, provider and receiver (left out when `unspecified`).
        func transaction(_ transaction: Transaction) -> XMLElement? {
            let data = transaction.data
            let value = data["value"].flatMap { value -> JSONObject? in if case .object(let object) = value { return object } else { return nil } }
            guard let amount = (value?["amount"] ?? data["amount"])?.stringValue, let currency = (value?["currency"] ?? data["currency"])?.stringValue,
                  let date = data["date"]?.stringValue else { return nil }
            var attributes: [(String, String)] = []
            if let source = transaction.source, let ref = IATIExporter.parseTransactionSource(source)?.ref {
                attributes.append(("ref", ref))
            }
            let node = Self.element("transaction", attributes)
            node.addChild(Self.element("transaction-type", [("code", transaction.code)]))
            node.addChild(Self.element("transaction-date", [("iso-date", date)]))
            node.addChild(Self.element("value", [("currency", currency), ("value-date", data["valueDate"]?.stringValue ?? date)], text: amount))
            if let provider = data["provider"]?.stringValue, provider != "unspecified" { node.addChild(organisation("provider-org", stakeholder: provider)) }
            if let receiver = data["receiver"]?.stringValue, receiver != "unspecified" { node.addChild(organisation("receiver-org", stakeholder: receiver)) }
            return node
        }

        func organisation(_ name: String, stakeholder: String) -> XMLElement {
            let known = state.stakeholders[stakeholder]
            let node = Self.element(name, [("ref", known?.iatiRef?.value ?? stakeholder)])
            node.addChild(Self.element("narrative", text: known?.name?.value ?? stakeholder))
            return node
        }
    }
}
