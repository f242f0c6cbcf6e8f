import AccordParallel

extension EventRecord {
    /// Batches of at least this many records are decoded on several threads.
    package static let parallelDecodeThreshold = 64
    /// Records per chunk handed to a thread: small enough that the threads finish together.
    static let decodeChunk = 128

    /// Decodes every record (``decode(_:)``); a large batch in chunks on every core at once.
    /// Each result is what ``decode(_:)`` gives for that record, in order.
    ///
    /// Like ``decode(_:)``, an event's `data` is checked here and built only when it is first
    /// read (Decision 0021).
    /// - Parameter alongside: work to run at the same time on one of those threads (the
    ///   iterator reads and inflates the next batch there); it has finished when this returns.
    /// - Returns: one result per record, in order.
    public static func decodeAll<Bytes: Collection<UInt8>>(_ records: [Bytes], alongside: (() -> Void)? = nil) -> [Result<Event, Error>] {
        guard records.count >= parallelDecodeThreshold else {
            alongside?()
            var memo = CanonicalRecordDecoder.Memo()
            return records.map { record in Result { try decode(record, memo: &memo) } }
        }
        let chunks = (records.count + decodeChunk - 1) / decodeChunk
        let parts = ParallelSlots.map(chunks, alongside: alongside) { part in
            let range = (part * decodeChunk)..<min(records.count, (part + 1) * decodeChunk)
            var memo = CanonicalRecordDecoder.Memo()
            return records[range].map { record in Result { try decode(record, memo: &memo) } }
        }
        var all: [Result<Event, Error>] = []
        all.reserveCapacity(records.count)
        for part in parts { all.append(contentsOf: part) }
        return all
    }

    /// ``decodeAll(_:alongside:)``, under the name it had when it alone left `data` unbuilt (for
    /// records copied verbatim); every decoding now does (Decision 0021), and the events have
    /// their real `data`, built when read. Kept for callers not yet renamed.
    package static func decodeAllEnvelopes<Bytes: Collection<UInt8>>(_ records: [Bytes]) -> [Result<Event, Error>] {
        decodeAll(records)
    }
}
