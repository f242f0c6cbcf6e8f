import AccordModel

extension CloudEvents {
    /// The stored record an exported CloudEvent stands for, rebuilt from its attributes.
    /// - Throws: ``AccordError`` `.badInput` naming the attribute; `.damaged` when the rebuilt
    ///   record is not canonical or its id is not the hash of its content (it was altered).
    public static func record(of event: Incoming) throws -> [UInt8] {
        func text(_ name: String) throws -> String {
            guard case .string(let value)? = event.extensions[name] else {
                throw AccordError(.badInput, "extension '\(name)' is missing or not a string.", field: name)
            }
            return value
        }
        let seqValue: UInt64?
        switch event.extensions["accordseq"] {
        case .number(let literal)?: seqValue = UInt64(literal)
        case .string(let literal)?: seqValue = UInt64(literal)
        default: seqValue = nil
        }
        guard let seqValue, seqValue >= 1 else { throw AccordError(.badInput, "extension 'accordseq' must be a sequence number (1 or more).", field: "accordseq") }
        let prev: EventID? = event.extensions["accordprev"] == nil ? nil : try EventID(hex: try text("accordprev"))
        var seen: [SiteID: SequenceNumber] = [:]
        if event.extensions["accordseen"] != nil {
            guard case .object(let object)? = try? JSONParser.parse(Array(try text("accordseen").utf8)) else {
                throw AccordError(.badInput, "extension 'accordseen' must hold a JSON object of sequence numbers.", field: "accordseen")
            }
            for member in object.members {
                guard case .number(let literal) = member.value, let value = UInt64(literal) else {
                    throw AccordError(.badInput, "extension 'accordseen' must hold a JSON object of sequence numbers.", field: "accordseen")
                }
                seen[try SiteID(member.key)] = SequenceNumber(value)
            }
        }
        guard let time = event.time else { throw AccordError(.badInput, "attribute 'time' is missing.", field: "time") }
        guard let subject = event.subject else { throw AccordError(.badInput, "attribute 'subject' is missing.", field: "subject") }
        let canonical = try EventRecord.canonicalBytes(
            site: try SiteID(try text("accordsite")), seq: SequenceNumber(seqValue), prev: prev,
            time: try Timestamp(rfc3339: time), hlc: try HybridTimestamp(parsing: try text("accordhlc")), seen: seen,
            type: EventType(event.type), subject: try Subject(subject), actor: try text("accordactor"), data: event.data)
        var signature: [UInt8]?
        if event.extensions["accordsig"] != nil {
            guard let decoded = Base64.decode(try text("accordsig")), decoded.count == 64 else {
                throw AccordError(.badInput, "extension 'accordsig' is not a base64 Ed25519 signature.", field: "accordsig")
            }
            signature = decoded
        }
        let id = try EventID(hex: event.id)
        let record = EventRecord.record(canonical: canonical, id: id, signature: signature)
        _ = try EventRecord.decode(record)
        return record
    }

    /// An event recorded here for a CloudEvent from another system (no `accordsite`): its type,
    /// subject and data are checked against the catalogue; its identity is `ce:<source> <id>`,
    /// the pair CloudEvents makes unique (spec.md, `id`).
    public static func draft(of event: Incoming) throws -> ImportedEvent {
        guard let subjectText = event.subject else {
            throw AccordError(.badInput, "attribute 'subject' is missing; an Accord event is about a subject such as 'funding/eib-2024'.", field: "subject")
        }
        let subject = try Subject(subjectText)
        let identity = "ce:\(event.source) \(event.id)"
        guard let source = importText(identity), sameBytes(source, identity) else {
            throw AccordError(.badInput, "'source' and 'id' together must be text of at most 4,096 bytes without control characters.", field: "id")
        }
        var data = event.data
        if data[Catalogue.sourceField] == nil { data.members.append((Catalogue.sourceField, .string(source))) }
        try Catalogue.validate(type: event.type, subject: subject, data: data)
        let time = try event.time.map { try Timestamp(rfc3339: $0) }
        // Refused here, with the file and line, rather than by the writer after the lock is taken.
        if let time, time.seconds > Timestamp.now().seconds + Timestamp.maxFutureSeconds {
            throw AccordError(.badInput, "attribute 'time' is \(time), more than a day in the future; an event records what has happened (and a future time would drag every office's clock ahead).", field: "time")
        }
        return ImportedEvent(draft: EventDraft(type: EventType(event.type), subject: subject, data: data, time: time), identity: data[Catalogue.sourceField]?.stringValue ?? source)
    }
}
