import AccordModel
import AccordStore

/// The state digest and the version vector it covers, as a signed note (Trust.md §5.2).
///
/// ```
/// accord/<partnership>/<site>/state
/// digest <64 hex digits of the state digest>
/// feed <site> <seq> <64 hex digits of the event id>      (one line per feed, by site name's bytes)
/// ```
/// signed with the site key under the name of the site's feed origin. Its first line is not a
/// feed's origin and its second is not a size, so it can never be taken for a checkpoint.
public enum StateNote {
    /// The note's text.
    public static func text(partnership: String, site: SiteID, digest: String, logs: FeedLogs) -> [UInt8] {
        var text = Checkpoint.origin(partnership: partnership, site: site) + "/state\ndigest " + digest + "\n"
        for (feed, tree) in logs.trees.sorted(by: { $0.key < $1.key }) {
            text += "feed \(feed) \(tree.size) \(logs.lastIDs[feed]?.hex ?? "")\n"
        }
        return Array(text.utf8)
    }

    /// The signed note of `journal`'s state `digest` over `logs`.
    /// - Throws: ``AccordError`` `.notFound` without a private key.
    public static func sign(journal: EventJournal, digest: String, logs: FeedLogs) throws -> SignedNote {
        let text = text(partnership: journal.partnership, site: journal.site, digest: digest, logs: logs)
        return SignedNote(text: text, signatures: [try CheckpointStore.feedSigner(for: journal).sign(text)])
    }
}
