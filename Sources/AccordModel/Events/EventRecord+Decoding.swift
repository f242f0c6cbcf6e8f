extension EventRecord {
    /// Decodes and checks a stored record: its JSON, its keys and their order, every field's
    /// form, that it is in canonical form, and that its id is the hash of its canonical bytes.
    /// Signatures and chains are checked by ``EventJournal/verify(progress:)``.
    ///
    /// Valid records are read in one pass that accepts only canonical bytes (see
    /// `CanonicalRecordDecoder`); any other record goes through ``decodeByReencoding(_:)``,
    /// which says what is wrong with it.
    /// - Throws: ``AccordError`` `.damaged` naming the field.
    public static func decode<Bytes: Collection<UInt8>>(_ record: Bytes) throws -> Event {
        var memo = CanonicalRecordDecoder.Memo()
        return try decode(record, memo: &memo)
    }

    /// ``decode(_:)``, reusing values decoded from earlier records of the same run.
    ///
    /// A valid record's `data` is checked in full but built only when the event's `data` is
    /// first read (Decision 0021); a record whose `data` has an object key with an escape is
    /// built at once (only the building path compares such keys); anything else goes to the
    /// reference decoder, which accepts it or says what is wrong.
    static func decode<Bytes: Collection<UInt8>>(
        _ record: Bytes, memo: inout CanonicalRecordDecoder.Memo
    ) throws -> Event {
        let deferred: Event?? = record.withContiguousStorageIfAvailable { CanonicalRecordDecoder.decodeDeferringData(UnsafeRawBufferPointer($0), memo: &memo) }
        if let event = deferred ?? Array(record).withUnsafeBytes({ CanonicalRecordDecoder.decodeDeferringData($0, memo: &memo) }) {
            return event
        }
        let fast: Event?? = record.withContiguousStorageIfAvailable { CanonicalRecordDecoder.decode(UnsafeRawBufferPointer($0), memo: &memo) }
        if let event = fast ?? Array(record).withUnsafeBytes({ CanonicalRecordDecoder.decode($0, memo: &memo) }) {
            return event
        }
        return try decodeByReencoding(record)
    }
}
