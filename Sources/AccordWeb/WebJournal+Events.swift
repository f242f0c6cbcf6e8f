import AccordModel
import AccordProjections
import AccordSegments
import AccordStore

/// An event's page: the event read from its batch (whole, or from the batch's access points),
/// its signature status, and what it changed (Journal/UI.md §8).
extension WebJournal {
    /// One event, how its batch's signature checks, and the state of its subject just before it
    /// (the events recorded before it, Stamp order) — nil when no event has `id`.
    struct Found {
        var event: Event
        var signature: String
    }

    /// What `event` changed, as its page shows it (``EventPages/event(_:around:names:)``).
    struct Around {
        /// The state folded from the events (of the subjects the page shows) recorded before it.
        var before: PartnershipState
        /// That state with the event folded too.
        var after: PartnershipState
        /// For a stakeholder: the fundings that name it as provider or receiver, before and after
        /// (a stakeholder's event changes no funding); nil: counted in the states.
        var fundings: Int?
    }

    /// What `event` changed: the state folded from the events recorded before it
    /// (``Stamp/isRecorded(before:)``), and that state with `event` folded too — of the events
    /// its subject's rows depend on only (Journal/UI.md §8): its subject's, then those of the
    /// subjects its rows name (a funding's provider, receiver and action, an action's leads, a
    /// project's sponsor). Each is found by the index and read from its batch. A stakeholder's
    /// fundings are counted from the index alone: those of `current` that name it as provider
    /// or receiver and have a `finance.*` event recorded before `event`.
    func states(around event: Event, current: PartnershipState) throws -> Around {
        try withCurrentIndex { index in
            var subjects: Set<UInt32> = []
            if let own = index.texts.id(of: event.subject.description) { subjects.insert(own) }
            var around = try fold(subjects, around: event, index: index)
            var named: Set<UInt32> = subjects
            for state in [around.before, around.after] {
                for subject in Self.subjects(namedBy: event.subject, in: state) {
                    if let id = index.texts.id(of: subject) { named.insert(id) }
                }
            }
            if named != subjects { around = try fold(named, around: event, index: index) }
            if event.subject.kind == "stakeholder" {
                let id = event.subject.id
                var fundings: Set<UInt32> = []
                for funding in current.fundings.values where sameBytes(funding.provider.value, id) || sameBytes(funding.receiver.value, id) {
                    if let subject = index.texts.id(of: "funding/" + funding.id) { fundings.insert(subject) }
                }
                var finance: [UInt32: Bool] = [:]
                var counted: Set<UInt32> = []
                let target = Stamp(event)
                for row in 0..<index.count where fundings.contains(index.subjects[row]) && !counted.contains(index.subjects[row]) {
                    let type = index.types[row]
                    let isFinance = finance[type] ?? index.texts.bytes(type).starts(with: "finance.".utf8)
                    finance[type] = isFinance
                    if isFinance, index.isRecorded(row, before: target) { counted.insert(index.subjects[row]) }
                }
                around.fundings = counted.count
            }
            return around
        }
    }

    /// The subjects whose state the rows of `subject` show (``SubjectPages/rows(kind:id:state:fundingTitles:fundings:)``),
    /// besides itself and a stakeholder's fundings.
    static func subjects(namedBy subject: Subject, in state: PartnershipState) -> [String] {
        let id = subject.id
        switch subject.kind {
        case "funding":
            guard let f = state.fundings[id] else { return [] }
            return ["stakeholder/" + f.provider.value, "stakeholder/" + f.receiver.value] + (f.action.map { ["action/" + $0.value] } ?? [])
        case "action":
            return (state.actions[id]?.leads?.value ?? []).map { "stakeholder/" + $0 }
        case "project":
            return state.projects[id]?.sponsor.map { ["stakeholder/" + $0.value] } ?? []
        default:
            return []
        }
    }

    /// Folds the events about `subjects` recorded before `event`, in journal order, reading each
    /// batch that holds some of them once; then `event`.
    private func fold(_ subjects: Set<UInt32>, around event: Event, index: LogIndex) throws -> Around {
        let target = Stamp(event)
        var before = PartnershipState()
        // The rows in journal order, a batch's rows together: each batch read once, only the
        // records wanted decoded.
        // A large batch's records are read from its access points when the index knows them all.
        var pending: (start: SegmentPosition, indices: [Int], access: (framing: BatchFraming, points: [AccessPoint], records: [EventJournal.IndexedRecord])?)?
        func flush() throws {
            guard let (start, indices, access) = pending else { return }
            let events = if let access {
                try journal.events(inBatchAt: start, framing: access.framing, points: access.points, records: access.records)
            } else {
                try journal.events(inBatchAt: start, at: indices).events
            }
            for other in events where Stamp(other).isRecorded(before: target) && !sameBytes(other.id.hex, event.id.hex) {
                PartnershipProjection.apply(other, to: &before)
            }
            pending = nil
        }
        for row in 0..<index.count where subjects.contains(index.subjects[row]) {
            let (start, position) = index.position(of: row)
            if pending?.start != start {
                try flush()
                pending = (start, [], index.access(of: row).map { ($0.framing, $0.points, []) })
            }
            pending?.indices.append(position)
            if pending?.access != nil {
                if let record = index.access(of: row)?.record { pending?.access?.records.append(record) } else { pending?.access = nil }
            }
        }
        try flush()
        var after = before
        PartnershipProjection.apply(event, to: &after)
        return Around(before: before, after: after)
    }

    /// The event with `id` (64 lowercase hex digits), found by the index and read from its batch,
    /// with its batch's signature status; nil when the journal holds no such event.
    func event(_ id: String) throws -> Found? {
        try withCurrentIndex { index -> Found? in
            guard let row = index.row(ofHex: id) else { return nil }
            let (start, position) = index.position(of: row)
            let read: (events: [Event], last: Event)
            if let access = index.access(of: row), let lastRow = index.lastRow(ofBatchOf: row),
               let last = index.access(of: lastRow) {
                // From the access points; a record carrying a signature (which its id does not
                // cover) only when the signature verifies, else the whole member is read.
                let keys = try? journal.currentKeys()
                let events = try journal.events(
                    inBatchAt: start, framing: access.framing, points: access.points, records: [access.record, last.record],
                    acceptSigned: { event in
                        guard let signature = event.signature, let key = keys?[event.site] else { return false }
                        return key.verifies(signature, forBatchEndingAt: event.id)
                    })
                read = ([events[0]], events[1])
            } else {
                read = try journal.events(inBatchAt: start, at: [position])
            }
            guard let found = read.events.first, sameBytes(found.id.hex, id) else {
                throw AccordError(.damaged, "The batch at \(start) no longer holds event \(id.prefix(12))… where it was indexed; if the journal was restored from a backup, restart 'accord ui'.")
            }
            return Found(event: found, signature: signatureStatus(of: found, batchEnd: read.last))
        }
    }

    /// Whether the page of the event with `id` reads its record from its batch's access points
    /// rather than the whole member (false for an unknown id).
    func readsFromAccessPoints(_ id: String) throws -> Bool {
        try withCurrentIndex { index in
            guard let row = index.row(ofHex: id) else { return false }
            return index.access(of: row) != nil && index.lastRow(ofBatchOf: row).flatMap { index.access(of: $0) } != nil
        }
    }

    private func signatureStatus(of event: Event, batchEnd: Event) -> String {
        let own = sameBytes(event.id.hex, batchEnd.id.hex)
        let which = own ? "This event ends its batch and carries its signature" : "This event is covered by the signature on the last event of its batch (\(batchEnd.id.short)…, sequence \(batchEnd.seq))"
        guard let signature = batchEnd.signature else { return which + ", but that event carries no signature. Run 'accord verify --details'." }
        guard let key = (try? journal.currentKeys())?[event.site] else {
            return which + "; this journal trusts no key for site '\(event.site)', so it is not checked here. Run 'accord verify'."
        }
        if key.verifies(signature, forBatchEndingAt: batchEnd.id) {
            return which + ": it verifies under the key of site '\(event.site)' in force."
        }
        return which + ": it does not verify under the key of site '\(event.site)' in force (it may predate a key rotation). Run 'accord verify --details'."
    }
}
