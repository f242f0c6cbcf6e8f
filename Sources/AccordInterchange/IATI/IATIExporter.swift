import AccordModel
import AccordProjections
import AccordStore
import Foundation
import FoundationXML

/// Writes the finance events of a journal as an IATI 2.03 activity file (Journal/Import.md,
/// "IATI export"): one `iati-activity` per funding, one `transaction` per finance event, with
/// the organisations that took part. Built with Foundation's `XMLDocument`, which escapes text.
public enum IATIExporter {
    /// What the export holds.
    public struct Summary: Sendable {
        /// `iati-activity` elements written: one per funding.
        public var activities = 0
        /// `transaction` elements written: one per finance event.
        public var transactions = 0
    }

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
        for source in sources {
            if let parsed = parseTransactionSource(source) { return parsed.activity }
        }
        return reportingOrg + "-" + funding
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

    /// The IATI XML for the finance events of `journal`.
    /// - Parameters:
    ///   - reportingOrg: the IATI organisation identifier of the publisher (e.g. `XI-IATI-EC_INTPA`).
    ///   - generated: `generated-datetime`, RFC 3339 UTC.
    /// - Throws: journal read errors.
    public static func export(_ journal: EventJournal, reportingOrg: String, reportingName: String?, generated: Timestamp) throws -> (xml: Data, summary: Summary) {
        struct Transaction { var id: String; var code: String; var data: JSONObject; var time: Timestamp; var source: String? }
        var fundings: [String: [Transaction]] = [:]
        var order: [String] = []
        var events = try journal.events()
        while let event = try events.next() {
            guard event.subject.kind == "funding", event.type.rawValue.hasPrefix("finance.") else { continue }
            let (type, data) = Upcaster.upcast(type: event.type.rawValue, data: event.data)
            guard let code = code(type: type, data: data) else { continue }
            if fundings[event.subject.id] == nil { order.append(event.subject.id) }
            fundings[event.subject.id, default: []].append(Transaction(id: event.id.hex, code: code, data: data, time: event.time, source: data[Catalogue.sourceField]?.stringValue))
        }
        let state = try StateBuilder(journal: journal).build().state
        func organisation(_ element: String, stakeholder: String, extra: [(String, String)] = []) -> XMLElement {
            let node = XMLElement(name: element)
            let known = state.stakeholders[stakeholder]
            node.addAttribute(XMLNode.attribute(withName: "ref", stringValue: known?.iatiRef?.value ?? stakeholder) as! XMLNode)
            for (name, value) in extra { node.addAttribute(XMLNode.attribute(withName: name, stringValue: value) as! XMLNode) }
            let narrative = XMLElement(name: "narrative", stringValue: known?.name?.value ?? stakeholder)
            node.addChild(narrative)
            return node
        }
        func element(_ name: String, _ attributes: [(String, String)] = [], text: String? = nil) -> XMLElement {
            let node = text.map { XMLElement(name: name, stringValue: $0) } ?? XMLElement(name: name)
            for (key, value) in attributes { node.addAttribute(XMLNode.attribute(withName: key, stringValue: value) as! XMLNode) }
            return node
        }
        let root = element("iati-activities", [("version", "2.03"), ("generated-datetime", generated.text)])
        var summary = Summary()
        for funding in order.sorted() {
            // Retracted transactions (event.retracted.v1, Decision 0007) are not reported.
            let transactions = fundings[funding]!.filter { !state.isRetracted($0.id, subject: "funding/" + funding) }
            let activity = element("iati-activity", [("last-updated-datetime", (transactions.map(\.time).max() ?? generated).text)])
            activity.addChild(element("iati-identifier", text: activityIdentifier(funding: funding, sources: transactions.compactMap(\.source), reportingOrg: reportingOrg)))
            let reporting = element("reporting-org", [("ref", reportingOrg)])
            reporting.addChild(element("narrative", text: reportingName ?? reportingOrg))
            activity.addChild(reporting)
            let title = element("title")
            title.addChild(element("narrative", text: funding))
            activity.addChild(title)
            for (stakeholder, roles) in (state.participants?[funding] ?? [:]).sorted(by: { $0.key < $1.key }) {
                for role in roles { activity.addChild(organisation("participating-org", stakeholder: stakeholder, extra: [("role", role)])) }
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
