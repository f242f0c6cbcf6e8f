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
        // Each chunk's results are written in place in the one result array (no per-chunk
        // arrays to copy and release afterwards on this thread alone).
        return ParallelSlots.map(records.count, run: decodeChunk, alongside: alongside, state: { CanonicalRecordDecoder.Memo() }) { index, memo in
            Result { try decode(records[index], memo: &memo) }
        }
    }

    /// ``decodeAll(_:alongside:)``, under the name it had when it alone left `data` unbuilt (for
    /// records copied verbatim); every decoding now does (Decision 0021), and the events have
    /// their real `data`, built when read. Kept for callers not yet renamed.
    package static func decodeAllEnvelopes<Bytes: Collection<UInt8>>(_ records: [Bytes]) -> [Result<Event, Error>] {
        decodeAll(records)
    }
}
