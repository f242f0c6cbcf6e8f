import AccordModel
import AccordSegments
import AccordStore
import Foundation

/// Fixtures for tests: fixed keys, fixed times, realistic events, and the paths of the
/// repository's golden journals and of `../shared/data`.
public enum Fixtures {
    /// The repository root, found from this file's location.
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `Journal/Fixtures/<name>` in the repository.
    public static func journalFixture(_ name: String) -> String { repositoryRoot + "/Journal/Fixtures/" + name }

    /// `../shared/data/<name>` beside the repository.
    public static func sharedData(_ name: String) -> String { repositoryRoot + "/../shared/data/" + name }

    /// `../shared/data/<name>`, checked to exist: tests that read real data call this, so that
    /// where the data set is absent the test fails with one clear issue naming what is
    /// missing, rather than with an obscure error from whatever opens it first.
    /// - Parameter name: the path inside `../shared/data`, e.g. `iati/who-activities-2021-05-26.xml`.
    /// - Returns: the file's or folder's path.
    /// - Throws: ``MissingSharedData`` (recorded by Swift Testing as the test's issue) naming
    ///   the missing path and the folder that should hold it.
    public static func sharedDataFile(_ name: String) throws -> String {
        let path = sharedData(name)
        guard FileManager.default.fileExists(atPath: path) else {
            let root = URL(fileURLWithPath: repositoryRoot + "/../shared/data").standardizedFileURL.path
            throw MissingSharedData(path: URL(fileURLWithPath: path).standardizedFileURL.path, root: root,
                                    rootExists: FileManager.default.fileExists(atPath: root))
        }
        return path
    }

    /// A fixed 32-byte key seed derived from a label (fixtures only; never for real sites).
    public static func seed(_ label: String) -> [UInt8] {
        var bytes = Array(label.utf8)
        while bytes.count < 32 { bytes += Array(label.utf8) + [UInt8(bytes.count)] }
        return Array(bytes.prefix(32))
    }

    /// A fixed instant, `2022-11-07T10:00:00Z` plus `offsetSeconds`.
    public static func time(_ offsetSeconds: Int64 = 0) -> Timestamp {
        Timestamp(seconds: 1_667_815_200 + offsetSeconds, nanoseconds: 0)
    }

    /// Creates a journal for `site` with the fixture key of that site.
    public static func makeJournal(at path: String, site: String = "brussels") throws -> EventJournal {
        try EventJournal.create(at: path, site: SiteID(site), seed: seed(site))
    }

    /// Parses a JSON object literal (for test data).
    public static func object(_ json: String) -> JSONObject {
        guard case .object(let object)? = try? JSONParser.parse(Array(json.utf8)) else {
            preconditionFailure("not a JSON object: \(json)")
        }
        return object
    }

    /// A draft from a type, a subject and a JSON object literal.
    public static func draft(_ type: String, _ subject: String, _ json: String, time: Timestamp? = nil) -> EventDraft {
        // The subjects used in tests are valid by construction.
        EventDraft(type: EventType(type), subject: (try? Subject(subject))!, data: object(json), time: time)
    }

    /// `count` realistic events of every catalogue type, about 300–450 bytes each once stored.
    public static func realisticDrafts(count: Int, startingAt start: Int = 0) -> [EventDraft] {
        (start..<(start + count)).map { realisticDraft($0) }
    }

    /// The `n`-th realistic event: a deterministic mix of all catalogue types. Subjects repeat
    /// after 20,000 events, as a long-running partnership revisits the same fundings and projects.
    public static func realisticDraft(_ n: Int) -> EventDraft {
        let s = n % 20_000  // the subject's number
        let chains = ["raw-materials", "batteries", "renewable-hydrogen"]
        let chain = chains[n % 3]
        let funders = ["eib", "ebrd", "european-commission", "kz-development-bank", "team-europe"]
        let funder = funders[n % funders.count]
        let currencies = ["EUR", "KZT", "USD"]
        let amount = "\(1_000 + (n * 7_919) % 9_000_000).\(String(format: "%02d", n % 100))"
        let date = "20\(23 + n % 3)-\(String(format: "%02d", 1 + n % 12))-\(String(format: "%02d", 1 + n % 28))"
        switch n % 10 {
        case 0:
            return draft("stakeholder.registered.v1", "stakeholder/org-\(s)", #"{"name":"Organisation \#(n) for \#(chain) cooperation in Central Asia","kind":"industrial","country":"KZ","valueChains":["\#(chain)"],"iatiRef":"XI-IATI-EC_INTPA-\#(n)"}"#)
        case 1:
            return draft("action.proposed.v1", "action/joint-action-\(s)", #"{"title":"Joint action \#(n): pilot projects and capacity building along the \#(chain) value chain","pillar":"value-chain-integration","valueChains":["\#(chain)"],"leads":["european-commission","kz-miid"],"due":"\#(date)"}"#)
        case 2, 3:
            return draft("finance.committed.v1", "funding/f-\(s)", #"{"provider":"\#(funder)","receiver":"kz-miid","amount":"\#(amount)","currency":"\#(currencies[n % 3])","date":"\#(date)","instrument":"grant","valueChain":"\#(chain)","action":"joint-action-\#(n - 1)","iatiType":"2"}"#)
        case 4, 5:
            return draft("finance.disbursed.v1", "funding/f-\(s - 2)", #"{"provider":"\#(funder)","receiver":"kz-miid","amount":"\#(amount)","currency":"\#(currencies[n % 3])","date":"\#(date)","instrument":"loan","valueChain":"\#(chain)","iatiType":"3"}"#)
        case 6:
            return draft("industry.project.registered.v1", "project/plant-\(s)", #"{"name":"Green hydrogen and ammonia plant \#(n), Mangystau region","sponsor":"org-\#(n - 6)","valueChain":"\#(chain)","country":"KZ","capacity":"\#(n % 2000).5","capacityUnit":"MW"}"#)
        case 7:
            return draft("industry.offtake.signed.v1", "offtake/o-\(s)", #"{"buyer":"org-\#(n - 7)","seller":"org-\#(n % 50)","commodity":"lithium carbonate","quantity":"\#(n % 900).25","unit":"kt","from":"\#(date)","to":"2030-12-31"}"#)
        case 8:
            return draft("research.project.started.v1", "research/r-\(s)", #"{"title":"Research project \#(n) on \#(chain) processing and recycling technologies","partners":["nazarbayev-university","kit"],"field":"materials science","budget":"\#(amount)","currency":"EUR"}"#)
        default:
            return draft("skills.programme.delivered.v1", "programme/p-\(s)", #"{"title":"Training programme \#(n) for mining and refining engineers on ESG standards","provider":"erma","participants":\#(10 + n % 90),"date":"\#(date)"}"#)
        }
    }
}

/// A file of the shared data set (`../shared/data`) that a test needs is not there.
public struct MissingSharedData: Error, CustomStringConvertible {
    /// The missing file or folder, as an absolute path.
    public var path: String
    /// The data set's folder, as an absolute path.
    public var root: String
    /// Whether the data set's folder exists at all.
    public var rootExists: Bool

    /// What is missing and what to do.
    public var description: String {
        rootExists
            ? "The shared data file '\(path)' is missing from '\(root)'; this test reads it. Restore the data set (see README, \"Importing real data\")."
            : "The shared data set '\(root)' is missing (this test reads '\(path)'); put the data set beside the repository, at ../shared/data (see README, \"Importing real data\")."
    }
}
