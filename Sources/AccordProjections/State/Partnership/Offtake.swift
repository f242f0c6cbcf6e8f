import AccordModel

/// An offtake agreement (`industry.offtake.signed.v1`).
public struct Offtake: Codable, Sendable, Equatable {
    /// The id of its subject.
    public var id: String
    /// The stakeholder id of the buyer (`data.buyer`).
    public var buyer: Register<String>
    /// The stakeholder id of the seller (`data.seller`).
    public var seller: Register<String>
    /// What is sold (`data.commodity`).
    public var commodity: Register<String>
    /// How much, as a decimal text (`data.quantity`).
    public var quantity: Register<String>
    /// The unit of ``quantity`` (`data.unit`).
    public var unit: Register<String>
    /// The first day of the offtake period (`data.from`).
    public var from: Register<String>?
    /// The last day of the offtake period (`data.to`).
    public var to: Register<String>?
}
