import AccordModel

/// Finds conflicts (SyncProtocol.md §7): two offices changing the same field of the same subject
/// without either having seen the other's change, decided from the `seen` vector each event
/// carries (Format.md §7.1). The projection still picks a winner (the greater ``Stamp``); a
/// conflict stays listed until a later event that has seen both versions sets the field again.
///
/// Money is never netted automatically: disbursements of one funding that were recorded
/// concurrently and together exceed its commitment are listed too.
///
/// Like the fold, the result does not depend on the order events are added in.
public struct ConflictScanner: Sendable {
    /// One write of a field.
    public struct Write: Sendable, Equatable {
        public var site: String
        public var seq: UInt64
        public var id: String
        public var stamp: Stamp
        public var seen: [String: UInt64]
        /// The value written, as canonical JSON text.
        public var value: String

        /// Whether this write's office had seen `other` when it wrote this one.
        func hasSeen(_ other: Write) -> Bool {
            other.site == site ? other.seq < seq : (seen[other.site] ?? 0) >= other.seq
        }
    }

    /// A conflict: concurrent writes that no later write has resolved.
    public struct Conflict: Sendable, Equatable, CustomStringConvertible {
        public var subject: String
        /// The field (`status`, `name`, …), or `money` for disbursements beyond a commitment.
        public var field: String
        /// The concurrent writes, greatest stamp (the projection's winner) first.
        public var writes: [Write]
        public var note: String

        public var description: String {
            "\(subject) \(field): " + writes.map { "\($0.site):\($0.seq) \($0.value)" }.joined(separator: " vs ") + " — \(note)"
        }
    }

    /// Unresolved writes per "subject field": the writes no other write has seen.
    private var frontiers: [String: [Write]] = [:]
    private var committed: [String: CurrencySums] = [:]
    private var disbursements: [String: [(write: Write, amount: ExactDecimal, currency: String)]] = [:]

    public init() {}

    /// Adds one event.
    public mutating func add(_ event: Event) {
        let (type, data) = Upcaster.upcast(type: event.type.rawValue, data: event.data)
        let subject = event.subject.description
        var seen: [String: UInt64] = [:]
        for (site, seq) in event.seen { seen[site.rawValue] = seq.rawValue }
        func write(_ value: JSONValue) -> Write {
            Write(site: event.site.rawValue, seq: event.seq.rawValue, id: event.id.hex, stamp: Stamp(event), seen: seen, value: value.description)
        }
        if type.hasPrefix("finance.") {
            let fields = Fields(data)
            let money = fields.object("value").map(Fields.init) ?? fields
            guard let text = money.string("amount"), let amount = ExactDecimal(text), let currency = money.string("currency") else { return }
            if type == "finance.committed.v2" { committed[subject, default: CurrencySums()].add(amount, currency) }
            if type == "finance.disbursed.v1" { disbursements[subject, default: []].append((write(.string("\(text) \(currency)")), amount, currency)) }
            return
        }
        var fields: [(String, JSONValue)] = []
        switch type {
        case "action.agreed.v1", "action.started.v1", "action.completed.v1", "action.cancelled.v1":
            fields = [("status", .string(ActionStatus(eventType: type)?.rawValue ?? type))]
        case "action.proposed.v1":
            fields = data.members.map { ($0.key, $0.value) } + [("status", .string("proposed"))]
        case "industry.milestone.reached.v1":
            fields = [("milestone", data["milestone"] ?? .null)]
        case "stakeholder.registered.v1", "stakeholder.updated.v1", "agreement.signed.v1", "industry.project.registered.v1",
             "industry.offtake.signed.v1", "research.project.started.v1":
            fields = data.members.map { ($0.key, $0.value) }
        default:
            return
        }
        for (field, value) in fields {
            insert(write(value), into: subject + " " + field)
        }
    }

    private mutating func insert(_ write: Write, into key: String) {
        var frontier = frontiers[key] ?? []
        if frontier.contains(where: { $0.id == write.id || $0.hasSeen(write) }) { return }
        frontier.removeAll { write.hasSeen($0) }
        frontier.append(write)
        frontiers[key] = frontier
    }

    /// The unresolved conflicts, by subject and field.
    public func conflicts() -> [Conflict] {
        var result: [Conflict] = []
        for key in frontiers.keys.sorted() {
            let writes = frontiers[key]!.sorted { $0.stamp > $1.stamp }
            guard writes.count > 1, Set(writes.map(\.value)).count > 1 else { continue }
            let parts = key.split(separator: " ", maxSplits: 1).map(String.init)
            result.append(Conflict(subject: parts[0], field: parts[1], writes: writes,
                                   note: "changed concurrently at \(Set(writes.map(\.site)).sorted().joined(separator: " and ")); the state shows \(writes[0].site):\(writes[0].seq)'s value until a later change that has seen both"))
        }
        for subject in disbursements.keys.sorted() {
            let list = disbursements[subject]!
            for currency in Set(list.map(\.currency)).sorted() {
                let inCurrency = list.filter { $0.currency == currency }
                let total = inCurrency.reduce(ExactDecimal.zero) { $0 + $1.amount }
                let limit = committed[subject]?[currency] ?? .zero
                guard limit < total else { continue }
                let concurrent = inCurrency.filter { a in inCurrency.contains { b in a.write.id != b.write.id && !a.write.hasSeen(b.write) && !b.write.hasSeen(a.write) } }
                guard concurrent.count > 1 else { continue }
                result.append(Conflict(subject: subject, field: "money", writes: concurrent.map(\.write).sorted { $0.stamp > $1.stamp },
                                       note: "disbursements recorded concurrently total \(total) \(currency), beyond the commitment of \(limit) \(currency); nothing is netted — record a correction"))
            }
        }
        return result
    }
}
