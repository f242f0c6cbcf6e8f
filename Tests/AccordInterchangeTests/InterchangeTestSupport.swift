import AccordModel
import AccordProjections
import AccordTesting
import Foundation
import FoundationXML
import Testing

/// Runs `accord` against `journal` and returns the result.
@discardableResult
func accord(_ arguments: [String], journal: String? = nil, input: String = "") throws -> AccordExecutable.Result {
    try AccordExecutable.run(arguments + (journal.map { ["--journal", $0] } ?? []), input: Array(input.utf8))
}

/// A new journal made with `accord init`, in `temp`.
func newJournal(_ temp: TemporaryDirectory, name: String = "journal", site: String = "brussels", partnership: String? = nil) throws -> String {
    let path = temp.child(name)
    let result = try accord(["init", "--site", site] + (partnership.map { ["--partnership", $0] } ?? []), journal: path)
    #expect(result.status == 0, "\(result.stderr)")
    return path
}

/// The rows of `accord state VIEW --json` that have all of `keys` and none of `without`.
func stateRows(_ journal: String, view: String, keys: Set<String>, without: Set<String> = []) throws -> [[String: String]] {
    let result = try accord(["state", view, "--json"], journal: journal)
    #expect(result.status == 0, "\(result.stderr)")
    var rows: [[String: String]] = []
    for line in result.stdout.split(separator: 0x0a) {
        // Counts are JSON numbers (state --json types them); compare everything as text here.
        guard let raw = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { continue }
        let object = raw.compactMapValues { ($0 as? String) ?? ($0 as? Int).map(String.init) }
        if keys.isSubset(of: object.keys), without.isDisjoint(with: object.keys) { rows.append(object) }
    }
    return rows
}

/// What an IATI file holds, counted with Foundation's DOM parser (`XMLDocument`), independently
/// of the importer's streaming reader.
struct IATIExpectation {
    /// (transaction type code, currency) → (count, exact sum).
    var byTypeAndCurrency: [String: [String: (count: Int, sum: ExactDecimal)]] = [:]
    var transactions = 0

    init(file: String, activity: String? = nil) throws {
        let document = try XMLDocument(contentsOf: URL(fileURLWithPath: file), options: [])
        for node in try document.nodes(forXPath: "/iati-activities/iati-activity") {
            guard let element = node as? XMLElement else { continue }
            if let activity, (try element.nodes(forXPath: "iati-identifier").first?.stringValue)?.trimmingCharacters(in: .whitespacesAndNewlines) != activity { continue }
            let defaultCurrency = element.attribute(forName: "default-currency")?.stringValue
            for transaction in try element.nodes(forXPath: "transaction") {
                let code = try transaction.nodes(forXPath: "transaction-type/@code").first?.stringValue ?? "?"
                let value = try transaction.nodes(forXPath: "value").first
                let currency = try transaction.nodes(forXPath: "value/@currency").first?.stringValue ?? defaultCurrency ?? "?"
                let text = (value?.stringValue ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                let amount = try #require(ExactDecimal(text), "value '\(text)' in \(file)")
                var entry = byTypeAndCurrency[code, default: [:]][currency] ?? (0, ExactDecimal.zero)
                entry.count += 1
                entry.sum = entry.sum + amount
                byTypeAndCurrency[code, default: [:]][currency] = entry
                transactions += 1
            }
        }
    }

    /// The finance stage the importer files a type code under.
    static func stage(_ code: String) -> String {
        switch code {
        case "2", "11": return "committed"
        case "3": return "disbursed"
        case "4": return "spent"
        case "12", "13": return "pledged"
        default: return "iati-" + code
        }
    }
}
