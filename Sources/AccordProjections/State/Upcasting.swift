import AccordModel

/// Reads old versions of event types as their newest version (Format.md §9.3).
///
/// Stored records are never rewritten: an upcaster maps the *decoded* type and data of an older
/// version to the current one each time the event is folded. Each upcaster turns one version into
/// the next; chains are applied until no upcaster matches.
public struct Upcaster: Sendable {
    /// The type read, e.g. `finance.committed.v1`.
    public let from: String
    /// The type produced, e.g. `finance.committed.v2`.
    public let to: String
    /// Maps the old data to the new shape.
    public let transform: @Sendable (JSONObject) -> JSONObject

    /// An upcaster of type `from` to type `to`, mapping the data with `transform`.
    public init(from: String, to: String, transform: @escaping @Sendable (JSONObject) -> JSONObject) {
        self.from = from
        self.to = to
        self.transform = transform
    }

    /// `finance.committed.v1` → `.v2`: the amount and its currency travel together as one
    /// `value` object (`{"amount":"80.60","currency":"USD"}`), and the IATI transaction type,
    /// implicit in v1, is explicit: `iatiType` "2" (commitment) unless the v1 event named one.
    public static let financeCommittedV1toV2 = Upcaster(from: "finance.committed.v1", to: "finance.committed.v2") { data in
        var members = data.members.filter { !["amount", "currency"].contains($0.key) }
        let value = JSONObject([("amount", data["amount"] ?? .null), ("currency", data["currency"] ?? .null)])
        members.append(("value", .object(value)))
        if data["iatiType"] == nil { members.append(("iatiType", .string("2"))) }
        return JSONObject(members)
    }

    /// Every upcaster the projections apply.
    public static let all: [Upcaster] = [financeCommittedV1toV2]

    /// The newest type and data for `type` and `data`.
    public static func upcast(type: String, data: JSONObject) -> (type: String, data: JSONObject) {
        var current = (type: type, data: data)
        while let step = all.first(where: { sameBytes($0.from, current.type) }) {
            current = (step.to, step.transform(current.data))
        }
        return current
    }
}
