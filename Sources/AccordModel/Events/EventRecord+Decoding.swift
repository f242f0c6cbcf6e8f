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
    /// - Parameter envelopeOnly: check `data` fully but leave the event's `data` empty (for
    ///   records copied verbatim, whose payload is never read: sync).
    static func decode<Bytes: Collection<UInt8>>(
        _ record: Bytes, memo: inout CanonicalRecordDecoder.Memo, envelopeOnly: Bool = false
    ) throws -> Event {
        if envelopeOnly {
            let fast: Event?? = record.withContiguousStorageIfAvailable { CanonicalRecordDecoder.decodeEnvelope(UnsafeRawBufferPointer($0), memo: &memo) }
            if let event = fast ?? nil { return event }
        }
        let fast: Event?? = record.withContiguousStorageIfAvailable { CanonicalRecordDecoder.decode(UnsafeRawBufferPointer($0), memo: &memo) }
        if let event = fast ?? Array(record).withUnsafeBytes({ CanonicalRecordDecoder.decode($0, memo: &memo) }) {
            return event
        }
        return try decodeByReencoding(record)
    }
}
