import AccordModel
import AccordStore

/// The source identities (`data.source`) of the events a journal holds (Journal/Import.md).
public enum SourceIndex {
    /// Reads every event once and collects each `data.source` text.
    /// - Throws: journal read errors (``SegmentError``, ``AccordError`` `.damaged`).
    public static func load(_ journal: EventJournal) throws -> Set<String> {
        var sources = Set<String>()
        var events = try journal.events()
        while let event = try events.next() {
            if case .string(let source)? = event.data[Catalogue.sourceField] { sources.insert(source) }
        }
        return sources
    }
}
