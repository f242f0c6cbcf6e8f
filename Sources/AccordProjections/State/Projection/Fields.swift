import AccordModel

/// Typed access to an event's data.
struct Fields {
    let data: JSONObject
    init(_ data: JSONObject) { self.data = data }

    func string(_ key: String) -> String? { data[key]?.stringValue }

    func strings(_ key: String) -> [String]? {
        guard case .array(let items)? = data[key] else { return nil }
        return items.compactMap(\.stringValue)
    }

    func object(_ key: String) -> JSONObject? {
        guard case .object(let object)? = data[key] else { return nil }
        return object
    }

    /// The stakeholder ids an event of `type` refers to in its data.
    func stakeholderReferences(type: String) -> [String] {
        var ids: [String] = []
        for key in Self.singleStakeholderKeys {
            if let id = string(key) { ids.append(id) }
        }
        for key in Self.listedStakeholderKeys {
            ids += strings(key) ?? []
        }
        return ids
    }

    /// The data fields that hold one stakeholder id each.
    static let singleStakeholderKeys = ["provider", "receiver", "sponsor", "buyer", "seller"]
    /// The data fields that hold a list of stakeholder ids.
    static let listedStakeholderKeys = ["parties", "leads", "partners"]
}
