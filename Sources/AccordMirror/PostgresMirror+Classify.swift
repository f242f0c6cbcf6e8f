import AccordModel

/// Sorting a transaction's events against the database's checkpoints (Mirror.md §3, step 4).
extension PostgresMirror {
    /// An event of the journal at or behind its feed's checkpoint: where it is and its id.
    struct Behind {
        var site: String
        var seq: UInt64
        var id: EventID
    }

    /// Sorts the events of a transaction (Mirror.md §3, step 4): the indexes of those beyond
    /// their feed's checkpoint (`fresh`, each the next of its feed), those at or behind it
    /// (`behind`, to be compared with the database's), and where each feed's checkpoint moves.
    /// Synchronous, and reading the events in place: no event is copied.
    /// - Throws: ``MirrorError`` `.fork` when an event is not the next of its feed, or the
    ///   event at the checkpoint is not the one the database holds there.
    static func classify(_ events: [Event], checkpoints: [String: (seq: UInt64, lastID: String)], target: MirrorTarget, partnership: String) throws
        -> (fresh: [Int], behind: [Behind], moved: [String: (seq: UInt64, lastID: String)])
    {
        var fresh: [Int] = []
        fresh.reserveCapacity(events.count)
        var behind: [Behind] = []
        var moved: [String: (seq: UInt64, lastID: String)] = [:]
        try events.withUnsafeBufferPointer { events in
            for index in events.indices {
                let site = events[index].site.rawValue
                let seq = events[index].seq.rawValue
                let known = moved[site] ?? checkpoints[site]
                if let known, seq <= known.seq {
                    if seq == known.seq, events[index].id.hex != known.lastID {
                        throw fork(target: target, partnership: partnership, site: site, seq: known.seq, held: known.lastID, journal: events[index].id.short)
                    }
                    behind.append(Behind(site: site, seq: seq, id: events[index].id))
                    continue
                }
                let expected = (known?.seq ?? 0) + 1
                guard seq == expected, events[index].prev?.hex == known?.lastID else {
                    let prev = events[index].prev?.short ?? "nothing"
                    throw MirrorError(.fork, "Event '\(events[index].id.short)' of partnership '\(partnership)' site '\(site)' has sequence \(seq) and follows '\(prev)', but the database \(target) holds that feed up to \(known?.seq ?? 0) ('\(known?.lastID.prefix(12) ?? "")'). Run 'accord verify'; mirror into another database if the feeds forked.")
                }
                fresh.append(index)
                moved[site] = (seq, events[index].id.hex)
            }
        }
        return (fresh, behind, moved)
    }
}
