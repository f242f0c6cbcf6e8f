import AccordModel
import AccordStore

/// The source identities (`data.source`) of the events a journal holds (Journal/Import.md).
public enum SourceIndex {
    /// Reads every event once and collects each `data.source` text.
    ///
    /// Identities are compared by their UTF-8 bytes: two sources that differ only by Unicode
    /// normalisation (an NFC and an NFD spelling) are two identities (Journal/Import.md).
    /// - Throws: journal read errors (``SegmentError``, ``AccordError`` `.damaged`).
    public static func load(_ journal: EventJournal) throws -> Set<BytewiseText> {
        var sources = Set<BytewiseText>()
        var events = try journal.events()
        while let event = try events.next() {
            if case .string(let source)? = event.data[Catalogue.sourceField] { sources.insert(BytewiseText(source)) }
        }
        return sources
    }
}
