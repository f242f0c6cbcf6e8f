extension EventRecord {
    /// The reference decoder: parses the record as JSON (``JSONParser``), checks its keys and
    /// every field, re-encodes it canonically and compares the bytes, then re-hashes the id.
    /// Slower than ``decode(_:)``, whose answer it defines; its errors name the fault.
    /// - Throws: ``AccordError`` `.damaged` naming the field.
    public static func decodeByReencoding<Bytes: Collection<UInt8>>(_ record: Bytes) throws -> Event {
        let bytes = Array(record)
        func damaged(_ why: String, field: String? = nil) -> AccordError {
            AccordError(.damaged, "The record is not a valid event: \(why).", field: field)
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch let error as JSONParser.SyntaxError {
            throw damaged("invalid JSON (\(error))")
        }
        guard case .object(let object) = value else { throw damaged("it is not a JSON object") }
        let keys = object.keys
        let hasSignature = keys.count == keyOrder.count + 1 && keys.last == "sig"
        guard keys.count == keyOrder.count || hasSignature, zip(keys, keyOrder).allSatisfy({ $0.utf8.elementsEqual($1.utf8) }) else {
            throw damaged("its keys are \(keys.prefix(12).joined(separator: ",")), expected \(keyOrder.joined(separator: ","))[,sig]")
        }
        let members = object.members
        func string(_ index: Int) throws -> String {
            guard case .string(let text) = members[index].value else { throw damaged("'\(keyOrder[index])' is not a string", field: keyOrder[index]) }
            return text
        }
        do {
            let id = try EventID(hex: try string(0))
            let site = try SiteID(try string(1))
            guard case .number(let seqText) = members[2].value, CanonicalJSON.isCanonicalInteger(seqText), let seqValue = UInt64(seqText), seqValue >= 1 else {
                throw damaged("'seq' is not a whole number of at least 1", field: "seq")
            }
            let prev: EventID?
            switch members[3].value {
            case .null: prev = nil
            case .string(let text): prev = try EventID(hex: text)
            default: throw damaged("'prev' is neither an id nor null", field: "prev")
            }
            guard (prev == nil) == (seqValue == 1) else { throw damaged("'prev' must be null exactly when 'seq' is 1", field: "prev") }
            let time = try Timestamp(rfc3339: try string(4))
            let hlc = try HybridTimestamp(parsing: try string(5))
            guard case .object(let seenObject) = members[6].value else { throw damaged("'seen' is not an object", field: "seen") }
            var seen: [SiteID: SequenceNumber] = [:]
            for member in seenObject.members {
                guard case .number(let literal) = member.value, CanonicalJSON.isCanonicalInteger(literal), let value = UInt64(literal), value >= 1 else {
                    throw damaged("'seen' holds a value that is not a sequence number", field: "seen")
                }
                seen[try SiteID(member.key)] = SequenceNumber(value)
            }
            let type = EventType(try string(7))
            guard type.isValid else {
                throw damaged("'type' is not an event type name: names of lower-case letters, digits and '-' joined by '.', then '.v' and a version, at most \(EventType.maxLength) bytes (e.g. 'finance.committed.v1')", field: "type")
            }
            let subject = try Subject(try string(8))
            let actor = try string(9)
            guard ActorName.isValid(actor) else { throw damaged("'actor' is not a valid actor name", field: "actor") }
            guard case .object(let data) = members[10].value else { throw damaged("'data' is not an object", field: "data") }
            var signature: [UInt8]?
            if hasSignature {
                guard case .string(let text) = members[11].value, let decoded = Base64.decode(text), decoded.count == 64 else {
                    throw damaged("'sig' is not a base64 Ed25519 signature", field: "sig")
                }
                signature = decoded
            }
            let canonical = try canonicalBytes(
                site: site, seq: SequenceNumber(seqValue), prev: prev, time: time, hlc: hlc, seen: seen, type: type,
                subject: subject, actor: actor, data: data)
            guard self.record(canonical: canonical, id: id, signature: signature) == bytes else {
                throw damaged("it is not in canonical form (Format.md §7.2)")
            }
            guard Self.id(ofCanonical: canonical) == id else {
                throw damaged("its id does not match the SHA-256 of its content", field: "id")
            }
            return Event(
                id: id, site: site, seq: SequenceNumber(seqValue), prev: prev, time: time, hlc: hlc, seen: seen, type: type,
                subject: subject, actor: actor, data: data, signature: signature, record: bytes)
        } catch let error as AccordError where error.code == .badInput {
            throw damaged(error.message, field: error.field)
        }
    }
}
