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
        // Kept in separate arrays: reading one field of an array of tuples copied the tuple.
        var sites: [SiteID] = [], keys: [KeyHistory] = [], stretches: [[Int]] = []
        var current = -1
        for index in events.indices {
            if current < 0 || sites[current] != events[index].site {
                current = sites.firstIndex(of: events[index].site) ?? -1
                if current < 0 {
                    guard let history = histories[events[index].site] else { return nil }
                    sites.append(events[index].site)
                    keys.append(history)
                    stretches.append([])
                    current = sites.count - 1
                }
            }
            if let last = stretches[current].last {
                guard events[index].seq == events[last].seq.next, events[index].prev == events[last].id else { return nil }
            }
            guard !KeyHistory.isKeyEvent(events[index]) else { return nil }
            stretches[current].append(index)
        }
        var feeds: [SiteID: [Event]] = [:]
        var covered = 0
        let latest = now.milliseconds + maxClockLeadMilliseconds
        for (number, stretch) in stretches.enumerated() {
            let first = events[stretch[0]].seq, last = events[stretch[stretch.count - 1]].seq
            let head = heads[sites[number]] ?? SequenceNumber(0)
            // How far the feed is known without a gap: through the stretch if it reaches the
            // head's next event, else only through the head (the general walk's `knownThrough`).
            let knownThrough = first <= head.next && head < last ? last : head
            var lastValid = -1
            for position in stretch.indices where events[stretch[position]].signature != nil {
                switch keys[number].check(events[stretch[position]]) {
                case .valid:
                    lastValid = position
                case .revoked:
                    return nil
                case .invalid:
                    // Refused where every event before it is known; else left uncovered.
                    if events[stretch[position]].seq <= knownThrough.next { return nil }
                }
            }
            guard lastValid >= 0 else { continue }
            for index in stretch[...lastValid] where events[index].hlc.milliseconds > latest { return nil }
            covered += lastValid + 1
            if sites.count == 1, lastValid == events.count - 1 {
                // The whole input is one covered stretch (a push of one feed): the feed is the
                // input itself, shared rather than copied event by event.
                feeds[sites[number]] = events
            } else {
                feeds[sites[number]] = stretch[...lastValid].map { events[$0] }
            }
        }
        return Admitted(feeds: feeds, notCovered: events.count - covered, revoked: [])
    }
}
