import AccordModel
import AccordProjections
import AccordSegments
import AccordStore
import AccordSync
import AccordTesting
import Foundation

/// Offices of one partnership that trust each other, in a temporary folder.
final class Partnership {
    let temp = TemporaryDirectory("sync")
    var journals: [String: EventJournal] = [:]
    var clocks: [String: Int64] = [:]
    var appended: [String: Int] = [:]

    init(_ sites: [String], partnership: String = "eu-kz-2022") throws {
        for site in sites {
            journals[site] = try EventJournal.create(at: temp.child(site), site: SiteID(site), seed: Fixtures.seed(site), partnership: partnership)
            clocks[site] = 0
        }
        for receiver in journals.values {
            for sender in journals.values where sender.site != receiver.site {
                try receiver.trust(try sender.signingKey().publicKey, for: sender.site)
            }
        }
    }

    subscript(site: String) -> EventJournal { journals[site]! }

    /// Appends `drafts` at `site`, its clock `skew` seconds off, without command checks.
    @discardableResult
    func append(_ site: String, _ drafts: [EventDraft], skew: Int64 = 0) throws -> [Event] {
        clocks[site]! += 60
        let writer = try journals[site]!.openWriter()
        defer { writer.close() }
        let events = try writer.append(drafts, now: Fixtures.time(clocks[site]! + skew))
        appended[site, default: 0] += events.count
        return events
    }

    /// Every record of a journal, as a set of ids, and the count of records.
    func ids(_ site: String) throws -> (ids: Set<String>, count: Int) {
        var events = try journals[site]!.events()
        var ids = Set<String>()
        var count = 0
        while let event = try events.next() {
            ids.insert(event.id.hex)
            count += 1
        }
        return (ids, count)
    }

    func digest(_ site: String) throws -> String {
        try StateBuilder(journal: journals[site]!).build(useReadModel: false).state.digest()
    }

    /// Sends a bundle of what `from` holds beyond what `to` holds, and applies it the way
    /// `accord bundle apply` does (the header checked against the receiver while reading).
    @discardableResult
    func bundle(from: String, to: String) throws -> SyncSummary {
        let path = temp.child("\(from)-to-\(to)-\(UUID().uuidString.prefix(6)).bundle")
        try Bundle.make(from: journals[from]!, beyond: try journals[to]!.versionVector()).write(to: path)
        let bundle = try Bundle.read(path, checkingAgainst: journals[to]!)
        _ = try bundle.verify(against: journals[to]!)
        let session = try SyncSession(journal: journals[to]!)
        defer { session.close() }
        return try session.apply(bundle.records)
    }
}
