import AccordModel

extension SyncGate {
    /// The gate's answer for the usual input, found without indexing every event by id and
    /// place: each site's events, in the order received, one unbroken stretch of its feed (each
    /// `seq` one more than the one before, each `prev` the id before), as a bundle or a push
    /// carries them. In such a stretch a signed event covers exactly the events before it, so
    /// the covered part of a stretch is its events up to the last one whose signature verifies.
    ///
    /// Returns nil, and ``admitAnyOrder(_:histories:heads:now:)`` decides with its own errors,
    /// for any other input and wherever the rules could end otherwise: a site not trusted, a key
    /// event (it changes the keys that later signatures are checked under), a signature that
    /// does not verify where the gate refuses it, one that a revoked key made, a covered clock
    /// reading too far ahead. So both give the same answer for every input
    /// (`GateChainTests` compares them).
    ///
    /// A push of 30,000 events spent a third of its server time in the general walk's maps and
    /// copies (issue 16).
    package static func admitChains(_ events: [Event], histories: [SiteID: KeyHistory], heads: [SiteID: SequenceNumber], now: Timestamp) -> Admitted? {
        // Each site's stretch: the indices of its events, in input order; sites in order of
        // first appearance (few per input: a linear search is cheaper than hashing each event).
        var stretches: [(site: SiteID, history: KeyHistory, indices: [Int])] = []
        var current = -1
        for index in events.indices {
            if current < 0 || stretches[current].site != events[index].site {
                current = stretches.firstIndex { $0.site == events[index].site } ?? -1
                if current < 0 {
                    guard let history = histories[events[index].site] else { return nil }
                    stretches.append((events[index].site, history, []))
                    current = stretches.count - 1
                }
            }
            if let last = stretches[current].indices.last {
                guard events[index].seq == events[last].seq.next, events[index].prev == events[last].id else { return nil }
            }
            guard !KeyHistory.isKeyEvent(events[index]) else { return nil }
            stretches[current].indices.append(index)
        }
        var feeds: [SiteID: [Event]] = [:]
        var covered = 0
        let latest = now.milliseconds + maxClockLeadMilliseconds
        for stretch in stretches {
            let first = events[stretch.indices[0]].seq, last = events[stretch.indices[stretch.indices.count - 1]].seq
            let head = heads[stretch.site] ?? SequenceNumber(0)
            // How far the feed is known without a gap: through the stretch if it reaches the
            // head's next event, else only through the head (the general walk's `knownThrough`).
            let knownThrough = first <= head.next && head < last ? last : head
            var lastValid = -1
            for position in stretch.indices.indices where events[stretch.indices[position]].signature != nil {
                switch stretch.history.check(events[stretch.indices[position]]) {
                case .valid:
                    lastValid = position
                case .revoked:
                    return nil
                case .invalid:
                    // Refused where every event before it is known; else left uncovered.
                    if events[stretch.indices[position]].seq <= knownThrough.next { return nil }
                }
            }
            guard lastValid >= 0 else { continue }
            var feed: [Event] = []
            feed.reserveCapacity(lastValid + 1)
            for index in stretch.indices[...lastValid] {
                guard events[index].hlc.milliseconds <= latest else { return nil }
                feed.append(events[index])
            }
            covered += feed.count
            feeds[stretch.site] = feed
        }
        return Admitted(feeds: feeds, notCovered: events.count - covered, revoked: [])
    }
}
