import AccordModel

extension EventJournal {
    /// Each trusted site's keys over time (Trust.md "Keys over time"): its anchor
    /// (`keys/<site>.pub`, Format.md §8) and the key events of its feed held in this journal,
    /// recorded in `seq` order.
    ///
    /// Key events are checked as they were when they were written (``KeyHistory/record(_:)``); one
    /// that does not pass (only a damaged journal holds one) ends that site's history there, and
    /// `verify` reports it.
    /// - Parameter trusted: the anchors, when the caller has read them (else ``trustedKeys()``).
    /// - Returns: a history for every trusted site.
    /// - Complexity: one replay of the journal (O(journal size)); memory O(key events).
    /// - Throws: what ``trustedKeys()`` and reading the segments throw.
    public func keyHistories(trusted: [SiteID: SitePublicKey]? = nil) throws -> [SiteID: KeyHistory] {
        let anchors = try trusted ?? trustedKeys()
        var histories = anchors.mapValues { KeyHistory(anchor: $0) }
        var broken: Set<SiteID> = []
        var events = try self.events()
        while let event = try events.next() {
            guard KeyHistory.isKeyEvent(event), !broken.contains(event.site), histories[event.site] != nil else { continue }
            do {
                try histories[event.site]!.record(event)
            } catch {
                broken.insert(event.site)
            }
        }
        return histories
    }

    /// The key in force for each trusted site after the key events this journal holds
    /// (``KeyHistory/current``): the key that its sync requests, answers and TLS certificates
    /// must be signed or made with (SyncProtocol.md §4.3.1, §4.4; Trust.md "Transport").
    /// - Throws: as ``keyHistories(trusted:)``.
    public func currentKeys() throws -> [SiteID: SitePublicKey] {
        try keyHistories().mapValues(\.current)
    }

    /// What a peer's transport signature or TLS certificate is checked under (Trust.md
    /// "Transport"): each trusted site's key in force, and the SHA-256 of its committed next
    /// key where its feed adopted pre-rotation (a key whose digest it is, is the site's: it
    /// rotated, and the rotation has not arrived here yet).
    /// - Throws: as ``keyHistories(trusted:)``.
    public func transportKeys() throws -> (current: [SiteID: SitePublicKey], committed: [SiteID: String]) {
        let histories = try keyHistories()
        return (histories.mapValues(\.current), histories.compactMapValues(\.nextDigest))
    }
}
