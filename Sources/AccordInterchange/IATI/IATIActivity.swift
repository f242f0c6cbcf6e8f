// The values an IATI activity file is read into (IATI Standard 2.03, activity elements),
// one activity at a time, by ``IATIActivityReader``; the importer maps them to events
// (Journal/Import.md, "IATI activity files").

/// One `narrative` of an IATI element: its text exactly as written (entities resolved, white
/// space kept) and its `xml:lang`.
public struct IATINarrative: Sendable {
    /// The text, byte for byte as the parser delivers it.
    public var text: String
    /// `@xml:lang`, if given.
    public var lang: String?
    /// The line of its start tag.
    public var line: Int
}

/// One `iati-activity/description`.
public struct IATIDescription: Sendable {
    /// `@type` (codelist DescriptionType), if given.
    public var type: String?
    /// Its narratives with text (not only white space), in file order.
    public var narratives: [IATINarrative] = []
    /// The line of its start tag.
    public var line: Int
}

/// One `iati-activity/activity-date`.
public struct IATIActivityDate: Sendable {
    /// `@type` (codelist ActivityDateType: 1–4).
    public var type: String?
    /// `@iso-date`.
    public var date: String?
    /// The line of its start tag.
    public var line: Int
}

/// An organisation named in an IATI activity (`reporting-org`, `participating-org`,
/// `provider-org`, `receiver-org`; IATI Activity Standard 2.03).
public struct IATIOrganisation: Sendable {
    /// `@ref`, the organisation identifier (e.g. `XI-IATI-EC_INTPA`), trimmed; nil if absent or empty.
    public var ref: String?
    /// The text of its first non-empty `narrative`.
    public var name: String?
    /// `@role` (codelist OrganisationRole: 1–4), participating organisations only.
    public var role: String?
    /// `@type` (codelist OrganisationType, e.g. 10 government, 40 multilateral).
    public var type: String?
    /// The line of its start tag.
    public var line: Int
    /// Its narratives with text, exactly as written (``IATINarrative``).
    public var narratives: [IATINarrative] = []
}

/// One `transaction` element, as written (IATI Activity Standard 2.03, `iati-activity/transaction`).
public struct IATITransaction: Sendable {
    /// 1-based position among the activity's transactions.
    public var position: Int
    /// The 1-based line of the element in the file, for error messages.
    public var line: Int
    /// `@ref`, the publisher's own reference, if any.
    public var ref: String?
    /// `transaction-type/@code` (codelist TransactionType: 1–13).
    public var typeCode: String?
    /// `transaction-date/@iso-date`.
    public var date: String?
    /// The text of `value`: an `xsd:decimal`, possibly negative (a correction).
    public var value: String?
    /// `value/@currency` (ISO 4217), else nil: the activity's `@default-currency` applies.
    public var currency: String?
    /// `value/@value-date`: the date for currency conversion.
    public var valueDate: String?
    /// `provider-org`: who the money comes from, if named.
    public var provider: IATIOrganisation?
    /// `receiver-org`: who the money goes to, if named.
    public var receiver: IATIOrganisation?
}

/// One `iati-activity` element with what the importer uses of it.
public struct IATIActivity: Sendable {
    /// The 1-based line of the element in the file, for error messages.
    public var line: Int
    /// `iati-identifier`, trimmed.
    public var identifier: String?
    /// `@default-currency` (ISO 4217).
    public var defaultCurrency: String?
    /// `reporting-org`: the publisher of the activity.
    public var reportingOrg: IATIOrganisation?
    /// Every `participating-org`, in file order, with its role.
    public var participants: [IATIOrganisation] = []
    /// Every `transaction`, in file order.
    public var transactions: [IATITransaction] = []
    /// The first non-empty `title/narrative`.
    public var title: String?
    /// `recipient-country/@code` values (ISO 3166-1 alpha-2).
    public var recipientCountries: [String] = []
    /// Every `title/narrative` with text, exactly as written.
    public var titles: [IATINarrative] = []
    /// Every `description`, in file order.
    public var descriptions: [IATIDescription] = []
    /// `activity-status/@code` (codelist ActivityStatus: 1–6), of the first `activity-status`.
    public var status: String?
    /// The line of `activity-status`.
    public var statusLine: Int?
    /// Every `activity-date`, in file order.
    public var dates: [IATIActivityDate] = []
}
