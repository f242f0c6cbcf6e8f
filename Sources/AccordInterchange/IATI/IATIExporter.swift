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
        var recorded = try Recorded(journal)
        let state = try StateBuilder(journal: journal).build().state
        // Retracted transactions (event.retracted.v1, Decision 0011) are not reported.
        for (funding, transactions) in recorded.transactions {
            let kept = transactions.filter { !state.isRetracted($0.id, subject: "funding/" + funding) }
            recorded.transactions[funding] = kept.isEmpty ? nil : kept
        }
        guard !recorded.transactions.isEmpty else {
            throw AccordError(.badInput, "Nothing to export: no funding in this journal has finance events, and an IATI activity file must hold at least one iati-activity (IATI 2.03 schema). Record or import finance events first; no file was written.")
        }
        var writer = ActivityWriter(recorded: recorded, state: state, options: options,
                                    partnership: "\(journal.partnership)", generated: generated)
        let root = ActivityWriter.element("iati-activities", [("version", "2.03"), ("generated-datetime", generated.text)])
        for funding in recorded.transactions.keys.sorted() {
            root.addChild(try writer.activity(funding))
        }
        let document = XMLDocument(rootElement: root)
        document.version = "1.0"
        document.characterEncoding = "UTF-8"
        return (document.xmlData(options: [.nodePrettyPrint]), writer.summary)
    }
}
