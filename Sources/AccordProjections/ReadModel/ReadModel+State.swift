import AccordModel
import AccordParallel

// The partnership state in a read-model file, field by field in the order of Format.md §9.4.3.
// A stored property added to any of these types must be added here and to that section; the
// test `everyStoredPropertyIsInTheReadModel` fails until it is.

extension Int64: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws { try out.i64(self) }
    public init(from input: inout ReadModelDecoder) throws { self = try input.i64() }
}

extension Stamp: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws {
        try out.i64(milliseconds)
        try out.u32(counter)
        try out.text(site)
        try out.u64(seq)
        try dated.encode(to: &out)
    }

    public init(from input: inout ReadModelDecoder) throws {
        let milliseconds = try input.i64(), counter = try input.u32(), site = try input.text(), seq = try input.u64()
        let dated = try Int64?(from: &input)
        self.init(milliseconds: milliseconds, counter: counter, site: site, seq: seq, dated: dated)
    }
}

extension Register: ReadModelCodable where Value: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws {
        try value.encode(to: &out)
        try stamp.encode(to: &out)
    }

    public init(from input: inout ReadModelDecoder) throws {
        let value = try Value(from: &input)
        self.init(value, try Stamp(from: &input))
    }
}

/// An enumeration stored as its raw text; an unknown text is refused (Format.md §9.4.3).
public protocol ReadModelTextEnum: ReadModelCodable, RawRepresentable where RawValue == String {}

extension ReadModelTextEnum {
    public func encode(to out: inout ReadModelEncoder) throws { try out.text(rawValue) }
    public init(from input: inout ReadModelDecoder) throws {
        let at = input.offset
        guard let value = Self(rawValue: try input.text()) else { throw ReadModelRejection("The name at byte \(at) is not one of \(Self.self)'s.") }
        self = value
    }
}

extension ActionStatus: ReadModelTextEnum {}
extension Milestone: ReadModelTextEnum {}

extension ExactDecimal: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws {
        try out.i128(units)
        try out.u8(UInt8(clamping: scale))
    }

    public init(from input: inout ReadModelDecoder) throws {
        let units = try input.i128()
        self.init(units: units, scale: Int(try input.u8()))
    }
}

extension CurrencySums: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws { try byCurrency.encode(to: &out) }
    /// The sums of a `map<decimal>`, each as ``add(_:_:)`` would have made it from nothing,
    /// with one look-up per currency.
    public init(from input: inout ReadModelDecoder) throws {
        let count = try input.count(each: 4)
        var sums: [String: ExactDecimal] = [:]
        sums.reserveCapacity(Swift.min(count, 1 << 16))
        for _ in 0..<count {
            let at = input.offset
            let currency = try input.text()
            let amount = try ExactDecimal(from: &input)
            guard sums.updateValue(.zero + amount, forKey: currency) == nil else { throw ReadModelRejection("The key at byte \(at) appears twice in one map.") }
        }
        self.init(byCurrency: sums)
    }
}

extension HistoryCounts: ReadModelCodable {
    /// `outputs` `map<int>`, then `programmes` `map<programme>` (Format.md §9.4.3).
    public func encode(to out: inout ReadModelEncoder) throws {
        try outputs.encode(to: &out)
        try programmes.encode(to: &out)
    }

    public init(from input: inout ReadModelDecoder) throws {
        self.init()
        outputs = try input.read()
        programmes = try input.read()
    }
}

extension HistoryCounts.Programme: ReadModelCodable {
    /// deliveries `int`, participants `int`.
    public func encode(to out: inout ReadModelEncoder) throws {
        try out.i64(Int64(deliveries))
        try out.i64(Int64(participants))
    }

    public init(from input: inout ReadModelDecoder) throws {
        self.init(deliveries: Int(try input.i64()), participants: Int(try input.i64()))
    }
}

extension PartnershipState.Feed: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws {
        try out.i64(Int64(events))
        try out.u64(lastSeq)
        try out.text(lastID)
    }

    public init(from input: inout ReadModelDecoder) throws {
        self.init(events: Int(try input.i64()), lastSeq: try input.u64(), lastID: try input.text())
    }
}

extension Stakeholder: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws {
        try id.encode(to: &out); try name.encode(to: &out); try kind.encode(to: &out); try country.encode(to: &out)
        try valueChains.encode(to: &out); try iatiRef.encode(to: &out); try registered.encode(to: &out)
    }

    public init(from input: inout ReadModelDecoder) throws {
        self.init(id: try input.read(), name: try input.read(), kind: try input.read(), country: try input.read(),
                  valueChains: try input.read(), iatiRef: try input.read(), registered: try input.read())
    }
}

extension Agreement: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws {
        try id.encode(to: &out); try title.encode(to: &out); try parties.encode(to: &out); try date.encode(to: &out); try place.encode(to: &out)
    }

    public init(from input: inout ReadModelDecoder) throws {
        self.init(id: try input.read(), title: try input.read(), parties: try input.read(), date: try input.read(),
                  place: try input.read())
    }
}

extension Action: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws {
        try id.encode(to: &out); try title.encode(to: &out); try pillar.encode(to: &out); try valueChains.encode(to: &out)
        try leads.encode(to: &out); try due.encode(to: &out); try status.encode(to: &out); try note.encode(to: &out)
        try statusDate.encode(to: &out); try statusTime.encode(to: &out); try reopened.encode(to: &out)
    }

    public init(from input: inout ReadModelDecoder) throws {
        self.init(id: try input.read(), title: try input.read(), pillar: try input.read(), valueChains: try input.read(),
                  leads: try input.read(), due: try input.read(), status: try input.read(), note: try input.read(),
                  statusDate: try input.read(), statusTime: try input.read(), reopened: try input.read())
    }
}

extension FinanceEntry: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws {
        try stage.encode(to: &out); try amount.encode(to: &out); try currency.encode(to: &out); try date.encode(to: &out)
        try corrects.encode(to: &out); try source.encode(to: &out)
    }

    public init(from input: inout ReadModelDecoder) throws {
        self.init(stage: try input.read(), amount: try input.read(), currency: try input.read(), date: try input.read(),
                  corrects: try input.read(), source: try input.read())
    }
}

extension Funding: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws {
        try id.encode(to: &out); try provider.encode(to: &out); try receiver.encode(to: &out); try valueChain.encode(to: &out)
        try instrument.encode(to: &out); try action.encode(to: &out); try totals.encode(to: &out); try transactions.encode(to: &out)
        try ledger.encode(to: &out)
    }

    public init(from input: inout ReadModelDecoder) throws {
        let id: String = try input.read()
        self.init(id: id, provider: try input.read(), receiver: try input.read(), valueChain: try input.read(),
                  instrument: try input.read(), action: try input.read(), totals: try input.read(),
                  transactions: try input.read(), ledger: try HistoryMap(from: &input) { $0.fundings[id]?.ledger ?? [:] })
    }
}

extension IndustrialProject: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws {
        try id.encode(to: &out); try name.encode(to: &out); try sponsor.encode(to: &out); try valueChain.encode(to: &out)
        try country.encode(to: &out); try capacity.encode(to: &out); try capacityUnit.encode(to: &out); try milestone.encode(to: &out)
        try milestoneDate.encode(to: &out)
    }

    public init(from input: inout ReadModelDecoder) throws {
        self.init(id: try input.read(), name: try input.read(), sponsor: try input.read(), valueChain: try input.read(),
                  country: try input.read(), capacity: try input.read(), capacityUnit: try input.read(),
                  milestone: try input.read(), milestoneDate: try input.read())
    }
}

extension Offtake: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws {
        try id.encode(to: &out); try buyer.encode(to: &out); try seller.encode(to: &out); try commodity.encode(to: &out)
        try quantity.encode(to: &out); try unit.encode(to: &out); try from.encode(to: &out); try to.encode(to: &out)
    }

    public init(from input: inout ReadModelDecoder) throws {
        self.init(id: try input.read(), buyer: try input.read(), seller: try input.read(), commodity: try input.read(),
                  quantity: try input.read(), unit: try input.read(), from: try input.read(), to: try input.read())
    }
}

extension ResearchProject: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws {
        try id.encode(to: &out); try title.encode(to: &out); try partners.encode(to: &out); try field.encode(to: &out)
        try budget.encode(to: &out); try currency.encode(to: &out)
    }

    public init(from input: inout ReadModelDecoder) throws {
        self.init(id: try input.read(), title: try input.read(), partners: try input.read(), field: try input.read(),
                  budget: try input.read(), currency: try input.read())
    }
}

extension ResearchOutput: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws {
        try research.encode(to: &out); try title.encode(to: &out); try date.encode(to: &out); try url.encode(to: &out)
    }

    public init(from input: inout ReadModelDecoder) throws {
        self.init(research: try input.read(), title: try input.read(), date: try input.read(), url: try input.read())
    }
}

extension ProgrammeDelivery: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws {
        try programme.encode(to: &out); try title.encode(to: &out); try provider.encode(to: &out); try participants.encode(to: &out)
        try date.encode(to: &out)
    }

    public init(from input: inout ReadModelDecoder) throws {
        self.init(programme: try input.read(), title: try input.read(), provider: try input.read(),
                  participants: try input.read(), date: try input.read())
    }
}

extension Retraction: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws {
        try event.encode(to: &out); try subject.encode(to: &out); try reason.encode(to: &out); try by.encode(to: &out); try date.encode(to: &out)
    }

    public init(from input: inout ReadModelDecoder) throws {
        self.init(event: try input.read(), subject: try input.read(), reason: try input.read(), by: try input.read(),
                  date: try input.read())
    }
}

extension Retirement: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws {
        try reason.encode(to: &out); try date.encode(to: &out)
    }

    public init(from input: inout ReadModelDecoder) throws {
        self.init(reason: try input.read(), date: try input.read())
    }
}

extension PartnershipState: ReadModelCodable {
    /// The state's fields in the order of Format.md §9.4.3 (layout 4): the first part, then —
    /// marked with ``ReadModelEncoder/beginSecondPart()`` — the second.
    public func encode(to out: inout ReadModelEncoder) throws {
        try feeds.encode(to: &out)
        try stakeholders.encode(to: &out)
        try agreements.encode(to: &out)
        try actions.encode(to: &out)
        try activity.encode(to: &out)
        out.beginSecondPart()
        try fundings.encode(to: &out)
        try projects.encode(to: &out)
        try offtakes.encode(to: &out)
        try research.encode(to: &out)
        try outputs.encode(to: &out)
        try deliveries.encode(to: &out)
        try countsOfHistory.encode(to: &out)
        try participants.encode(to: &out)
        try financeSources.encode(to: &out)
        try retractions.encode(to: &out)
        try retirements.encode(to: &out)
    }

    /// Both parts, one after the other, from one decoder.
    public init(from input: inout ReadModelDecoder) throws {
        self.init()
        try decodeFirstPart(from: &input)
        try decodeSecondPart(from: &input)
    }

    /// The first part of §9.4.3: feeds, stakeholders, agreements, actions, activity.
    mutating func decodeFirstPart(from input: inout ReadModelDecoder) throws {
        feeds = try input.read()
        stakeholders = try input.read()
        agreements = try input.read()
        actions = try input.read()
        activity = try input.read()
    }

    /// The second part of §9.4.3: fundings and everything after them.
    mutating func decodeSecondPart(from input: inout ReadModelDecoder) throws {
        fundings = try input.read()
        projects = try input.read()
        offtakes = try input.read()
        research = try input.read()
        outputs = try HistoryMap(from: &input) { $0.outputs }
        deliveries = try HistoryMap(from: &input) { $0.deliveries }
        historyCounts = try HistoryCounts(from: &input)
        participants = try input.read()
        financeSources = try input.read()
        retractions = try input.read()
        retirements = try input.read()
    }

    /// Decodes the two parts at once (Format.md §9.4.4: a reader MAY), each on its own thread,
    /// the checksum of the whole file computed on the first part's thread before it decodes;
    /// a failure of the first part is reported before one of the second, and both before a
    /// wrong checksum, as a reader decoding them in order would.
    ///
    /// A long fold reading back the chunk it has just written decodes them one after the other
    /// on its own thread instead (``ReadModelParts/concurrently`` false): what it decodes then
    /// stays in the one allocator arena the fold uses, which keeps the freed memory of a chunk
    /// from lingering in another thread's arena while the next chunk is folded.
    public static func decode(parts: ReadModelParts) throws -> PartnershipState {
        guard parts.concurrently else {
            var state = PartnershipState()
            var first = parts.decoder(parts.first)
            try state.decodeFirstPart(from: &first)
            try first.finishPart("first")
            var second = parts.decoder(parts.second)
            try state.decodeSecondPart(from: &second)
            try second.finishPart("second")
            if let checksum = parts.checksumRejection() { throw checksum }
            return state
        }
        var halves = ParallelSlots.map(2) { index -> Result<(state: PartnershipState, checksum: ReadModelRejection?), any Error> in
            Result {
                var state = PartnershipState()
                if index == 0 {
                    var input = parts.decoder(parts.second)
                    try state.decodeSecondPart(from: &input)
                    try input.finishPart("second")
                    return (state, nil)
                }
                let checksum = parts.checksumRejection()
                var input = parts.decoder(parts.first)
                try state.decodeFirstPart(from: &input)
                try input.finishPart("first")
                return (state, checksum)
            }
        }
        var first = try halves[1].get()
        var second = try halves[0].get()
        // The only other references to the maps: without them the fold after the load finds each
        // map uniquely referenced and changes it in place instead of copying it whole (0019).
        halves.removeAll()
        if let checksum = first.checksum { throw checksum }
        var state = PartnershipState()
        swap(&state, &first.state)
        swap(&state.fundings, &second.state.fundings)
        swap(&state.projects, &second.state.projects)
        swap(&state.offtakes, &second.state.offtakes)
        swap(&state.research, &second.state.research)
        swap(&state.outputs, &second.state.outputs)
        swap(&state.deliveries, &second.state.deliveries)
        swap(&state.historyCounts, &second.state.historyCounts)
        swap(&state.participants, &second.state.participants)
        swap(&state.financeSources, &second.state.financeSources)
        swap(&state.retractions, &second.state.retractions)
        swap(&state.retirements, &second.state.retirements)
        return state
    }
}

extension Stamp {
    /// A stamp of its parts (read back from a read-model file).
    init(milliseconds: Int64, counter: UInt32, site: String, seq: UInt64, dated: Int64?) {
        self.milliseconds = milliseconds
        self.counter = counter
        self.site = site
        self.seq = seq
        self.dated = dated
    }
}
