/// The IATI `TransactionType` codelist (https://iatistandard.org/en/iati-standard/203/codelists/transactiontype/,
/// the copy in `shared/data/iati/TransactionType.xml`), and where each code goes in the catalogue.
public enum IATITransactionType {
    /// Code → name, as the codelist gives them.
    public static let names: [String: String] = [
        "1": "Incoming Funds", "2": "Outgoing Commitment", "3": "Disbursement", "4": "Expenditure",
        "5": "Interest Payment", "6": "Loan Repayment", "7": "Reimbursement", "8": "Purchase of Equity",
        "9": "Sale of Equity", "10": "Credit Guarantee", "11": "Incoming Commitment", "12": "Outgoing Pledge",
        "13": "Incoming Pledge",
    ]

    /// Types in which money comes *to* the reporting organisation: when the transaction names no
    /// receiver, the receiver is the reporting organisation (and the provider is unspecified);
    /// for the others it is the provider.
    public static let incoming: Set<String> = ["1", "5", "6", "9", "11", "13"]

    /// The event type for a code: 2 and 11 → `finance.committed.v2`; 12 and 13 →
    /// `finance.pledged.v1`; 3 → `finance.disbursed.v1`; 4 → `finance.spent.v1`; the other codes
    /// of the list → `finance.transaction.recorded.v1` with the code kept in `iatiType`. Nil for
    /// a code that is not in the list.
    public static func eventType(for code: String) -> String? {
        switch code {
        case "2", "11": return "finance.committed.v2"
        case "12", "13": return "finance.pledged.v1"
        case "3": return "finance.disbursed.v1"
        case "4": return "finance.spent.v1"
        case _ where names[code] != nil: return "finance.transaction.recorded.v1"
        default: return nil
        }
    }
}
