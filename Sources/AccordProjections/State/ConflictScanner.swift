import AccordModel

/// Finds conflicts (SyncProtocol.md §7): two offices changing the same field of the same subject
/// without either having seen the other's change, decided from the `seen` vector each event
/// carries (Format.md §7.1). The projection still picks a winner (the greater ``Stamp``); a
/// conflict stays listed until a later event that has seen both versions sets the field again.
///
/// Money is never netted automatically: disbursements of one funding that were recorded
/// concurrently and together exceed its commitment are listed too; retracted commitments and
/// disbursements (`event.retracted.v1`, Decision 0011) are left out of that comparison.
///
/// Like the fold, the result does not depend on the order events are added in. Text (subjects,
/// field names, values, currencies) is compared by its UTF-8 bytes.
public struct ConflictScanner: Sendable {
    /// One write of a field.
    public struct Write: Sendable, Equatable {
        /// The site that wrote it.
        public var site: String
        /// The sequence number of its event in that site's feed.
        public var seq: UInt64
        /// The id (64 hex digits) of its event.
        public var id: String
        /// Its place in the fold order.
        public var stamp: Stamp
        /// What its site had seen of each other site when it wrote: site → last sequence number.
        public var seen: [String: UInt64]
        /// The value written, as canonical JSON text.
        public var value: String

        /// Whether this write's office had seen `other` when it wrote this one.
        func hasSeen(_ other: Write) -> Bool {
            sameBytes(other.site, site) ? other.seq < seq : (seen[other.site] ?? 0) >= other.seq
        }

        /// Whether neither write had seen the other.
        func isConcurrent(with other: Write) -> Bool {
            !sameBytes(id, other.id) && !hasSeen(other) && !other.hasSeen(self)
        }
    }

    /// A conflict: concurrent writes that no later write has resolved.
    public struct Conflict: Sendable, Equatable, CustomStringConvertible {
        /// The subject (`kind/id`) whose field was written.
        public var subject: String
        /// The field (`status`, `name`, …), or `money` for disbursements beyond a commitment.
        public var field: String
        /// The concurrent writes, greatest stamp (the projection's winner) first.
        public var writes: [Write]
        /// What happened and what the state shows, one sentence.
        public var note: String

        /// `SUBJECT FIELD: SITE:SEQ VALUE vs … — NOTE`, one line.
        public var description: String {
            "\(subject) \(field): " + writes.map { "\($0.site):\($0.seq) \($0.value)" }.joined(separator: " vs ") + " — \(note)"
        }
    }

    /// A disbursement, with its amount read.
    private struct Disbursement: Sendable {
        var write: Write
        var amount: ExactDecimal
        var currency: String
    }

    /// Unresolved writes per field of a subject: the writes no other write has seen.
    private var frontiers: [FieldKey: [Write]] = [:]
    /// Commitments per funding subject, in the order added.
    private var commitments: [BytewiseText: [Disbursement]] = [:]
    /// Retracted events: ``Retraction/key(event:subject:)`` of each retraction added. Money the
    /// scanner compares leaves out retracted commitments and disbursements (Decision 0011).
    private var retracted: Set<BytewiseText> = []
    /// Disbursements per funding subject, in the order added.
    private var disbursements: [BytewiseText: [Disbursement]] = [:]

    /// A scanner that has seen no events.
    public init() {}

    /// Adds one event.
    /// - Complexity: O(fields × unresolved writes of each field).
    public mutating func add(_ event: Event) {
        let (type, data) = Upcaster.upcast(type: event.type.rawValue, data: event.data)
        let subject = event.subject.description
        if sameBytes(type, "event.retracted.v1") {
            if let target = data["event"]?.stringValue { retracted.insert(BytewiseText(Retraction.key(event: target, subject: subject))) }
            return
        }
        if type.utf8.starts(with: "finance.".utf8) {
            addMoney(type: type, data: data, subject: subject, event: event)
            return
        }
        for (field, value) in Self.fieldsWritten(type: type, data: data) {
            insert(Write(event, value: value), into: FieldKey(subject: subject, field: field))
        }
    }

    /// The fields an event of `type` writes, with their values; none for types without
    /// registers.
    private static func fieldsWritten(type: String, data: JSONObject) -> [(String, JSONValue)] {
        if sameBytes(type, "action.reopened.v1") {
            return [("status", data["status"] ?? .string(ActionStatus.started.rawValue))]
        }
        if EventTypes.lifecycle.contains(where: { sameBytes($0, type) }) {
            return [("status", .string(ActionStatus(eventType: type)?.rawValue ?? type))]
        }
        if sameBytes(type, "action.proposed.v1") {
            return data.members.map { ($0.key, $0.value) } + [("status", .string("proposed"))]
        }
        if sameBytes(type, "industry.milestone.reached.v1") {
            return [("milestone", data["milestone"] ?? .null)]
        }
        if EventTypes.registers.contains(where: { sameBytes($0, type) }) {
            return data.members.map { ($0.key, $0.value) }
        }
        return []
    }

    /// Keeps commitments and disbursements, to compare them in ``conflicts()``.
    private mutating func addMoney(type: String, data: JSONObject, subject: String, event: Event) {
        let fields = Fields(data)
        let money = fields.object("value").map(Fields.init) ?? fields
        guard let text = money.string("amount"), let amount = ExactDecimal(text), let currency = money.string("currency") else { return }
        let key = BytewiseText(subject)
        if sameBytes(type, "finance.committed.v2") {
            commitments[key, default: []].append(Disbursement(write: Write(event, value: .string("\(text) \(currency)")), amount: amount, currency: currency))
        }
        if sameBytes(type, "finance.disbursed.v1") {
            let write = Write(event, value: .string("\(text) \(currency)"))
            disbursements[key, default: []].append(Disbursement(write: write, amount: amount, currency: currency))
        }
    }

    /// Adds `write` to the frontier of `key`, unless a write there has seen it (or is it);
    /// drops the writes it has seen.
    private mutating func insert(_ write: Write, into key: FieldKey) {
        var frontier = frontiers[key] ?? []
        if frontier.contains(where: { sameBytes($0.id, write.id) || $0.hasSeen(write) }) { return }
        frontier.removeAll { write.hasSeen($0) }
        frontier.append(write)
        frontiers[key] = frontier
    }

    /// The unresolved conflicts: those of fields by subject and field, then those of money by
    /// subject and currency (each in UTF-8 byte order).
    public func conflicts() -> [Conflict] {
        fieldConflicts() + moneyConflicts()
    }

    private func fieldConflicts() -> [Conflict] {
        frontiers.keys.sorted().compactMap { key in
            let writes = frontiers[key]!.sorted { $0.stamp > $1.stamp }
            guard writes.count > 1, writes.contains(where: { !sameBytes($0.value, writes[0].value) }) else { return nil }
            let sites = bytewiseUnique(writes.map(\.site)).joined(separator: " and ")
            return Conflict(subject: key.subject.text, field: key.field.text, writes: writes,
                            note: "changed concurrently at \(sites); the state shows \(writes[0].site):\(writes[0].seq)'s value until a later change that has seen both")
        }
    }

    private func moneyConflicts() -> [Conflict] {
        var result: [Conflict] = []
        for subject in disbursements.keys.sorted() {
            let list = disbursements[subject]!
            for currency in bytewiseUnique(list.map(\.currency)) {
                if let conflict = moneyConflict(subject: subject, currency: currency, in: list) { result.append(conflict) }
            }
        }
        return result
    }

    /// The conflict of the disbursements of `subject` in `currency`, if they exceed its
    /// commitment and more than one of them was recorded concurrently.
    private func moneyConflict(subject: BytewiseText, currency: String, in list: [Disbursement]) -> Conflict? {
        func live(_ money: Disbursement) -> Bool {
            sameBytes(money.currency, currency) && !retracted.contains(BytewiseText(Retraction.key(event: money.write.id, subject: subject.text)))
        }
        let inCurrency = list.filter(live)
        let total = inCurrency.reduce(ExactDecimal.zero) { $0 + $1.amount }
        let limit = (commitments[subject] ?? []).filter(live).reduce(ExactDecimal.zero) { $0 + $1.amount }
        guard limit < total else { return nil }
        let concurrent = inCurrency.filter { a in inCurrency.contains { b in a.write.isConcurrent(with: b.write) } }
        guard concurrent.count > 1 else { return nil }
        return Conflict(subject: subject.text, field: "money", writes: concurrent.map(\.write).sorted { $0.stamp > $1.stamp },
                        note: "disbursements recorded concurrently total \(total) \(currency), beyond the commitment of \(limit) \(currency); nothing is netted — record a correction")
    }
}

extension ConflictScanner.Write {
    /// The write of `value` by `event`.
    init(_ event: Event, value: JSONValue) {
        var seen: [String: UInt64] = [:]
        for (site, seq) in event.seen { seen[site.rawValue] = seq.rawValue }
        self.init(site: event.site.rawValue, seq: event.seq.rawValue, id: event.id.hex, stamp: Stamp(event), seen: seen, value: value.description)
    }
}

/// `texts` without repeats (by bytes), in UTF-8 byte order.
private func bytewiseUnique(_ texts: [String]) -> [String] {
    var unique: [String] = []
    for text in texts.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) where !(unique.last.map { sameBytes($0, text) } ?? false) {
        unique.append(text)
    }
    return unique
}

// The scanner in a read-model file (Format.md §9.4.3, `conflicts`): what it keeps, field by field.
extension ConflictScanner: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws {
        try out.count(frontiers.count)
        for (key, writes) in frontiers {
            try out.text(key.subject.text)
            try out.text(key.field.text)
            try writes.encode(to: &out)
        }
        for lists in [commitments, disbursements] {
            try out.count(lists.count)
            for (subject, list) in lists {
                try out.text(subject.text)
                try out.count(list.count)
                for money in list {
                    try money.write.encode(to: &out)
                    try money.amount.encode(to: &out)
                    try out.text(money.currency)
                }
            }
        }
        try out.count(retracted.count)
        for key in retracted { try out.text(key.text) }
    }

    public init(from input: inout ReadModelDecoder) throws {
        self.init()
        for _ in 0..<(try input.count(each: 12)) {
            let key = FieldKey(subject: try input.text(), field: try input.text())
            let writes = try [Write](from: &input)
            guard frontiers.updateValue(writes, forKey: key) == nil else { throw ReadModelRejection("A field appears twice, before byte \(input.offset).") }
        }
        var lists: [[BytewiseText: [Disbursement]]] = []
        for _ in 0..<2 {
            var map: [BytewiseText: [Disbursement]] = [:]
            for _ in 0..<(try input.count(each: 8)) {
                let subject = BytewiseText(try input.text())
                var list: [Disbursement] = []
                for _ in 0..<(try input.count()) {
                    let write = try Write(from: &input), amount = try ExactDecimal(from: &input), currency = try input.text()
                    list.append(Disbursement(write: write, amount: amount, currency: currency))
                }
                guard map.updateValue(list, forKey: subject) == nil else { throw ReadModelRejection("A funding appears twice, before byte \(input.offset).") }
            }
            lists.append(map)
        }
        commitments = lists[0]
        disbursements = lists[1]
        for _ in 0..<(try input.count(each: 4)) { retracted.insert(BytewiseText(try input.text())) }
    }
}

extension ConflictScanner.Write: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws {
        try out.text(site)
        try out.u64(seq)
        try out.text(id)
        try stamp.encode(to: &out)
        try seen.encode(to: &out)
        try out.text(value)
    }

    public init(from input: inout ReadModelDecoder) throws {
        self.init(site: try input.text(), seq: try input.u64(), id: try input.text(), stamp: try Stamp(from: &input),
                  seen: try [String: UInt64](from: &input), value: try input.text())
    }
}
