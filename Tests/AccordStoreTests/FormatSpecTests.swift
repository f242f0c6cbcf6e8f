import AccordModel
import AccordProjections
import AccordSegments
import AccordStore
import AccordTesting
import Foundation
import Testing

/// The rules of Journal/Format.md that an independent reader found unclear or contradicted by
/// the code (issue 14), each pinned by a fixture of Journal/Fixtures or a crafted journal.
@Suite("Format.md as an independent reader reads it")
struct FormatSpecTests {
    // MARK: §2 FORMAT

    @Test("FORMAT: only 'accord-journal <1–65535 without a leading zero>\\n' names a version; other bytes are not a journal",
          arguments: [("format-crlf", "not-a-journal"), ("format-empty-version", "not-a-journal"),
                      ("format-leading-zero", "not-a-journal"), ("format-version-2", "unsupported-version")])
    func formatFileGrammar(fixture: String, expected: String) throws {
        #expect {
            _ = try SegmentDirectory(opening: Fixtures.journalFixture(fixture))
        } throws: { error in
            guard let error = error as? SegmentError else { return false }
            return expected == "not-a-journal" ? error.code == .notAJournal : error.code == .unsupportedVersion
        }
    }

    @Test("FORMAT: a version beyond the member field's 16 bits, or with a space or a BOM, is not a journal")
    func formatFileEdgeCases() throws {
        let temp = TemporaryDirectory()
        for (content, code) in [("accord-journal 65535\n", SegmentError.Code.unsupportedVersion),
                                ("accord-journal 65536\n", .notAJournal), ("accord-journal  1\n", .notAJournal),
                                ("\u{FEFF}accord-journal 1\n", .notAJournal), ("accord-journal 1\n\n", .notAJournal),
                                ("accord-journal 1", .notAJournal)] {
            let dir = temp.child("j\(content.utf8.count)-\(content.hashValue)")
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try FileDamage.write(dir + "/FORMAT", Array(content.utf8))
            #expect(throws: SegmentError.self) { _ = try SegmentDirectory(opening: dir) }
            do { _ = try SegmentDirectory(opening: dir) } catch let error as SegmentError {
                #expect(error.code == code, "FORMAT \(Array(content.utf8))")
            }
        }
    }

    // MARK: §4 rule 7

    @Test("A set padding bit in a member's last compressed byte is damage (gzip -t accepts it)")
    func paddingBitSet() throws {
        let report = try EventJournal(opening: Fixtures.journalFixture("v1-padding-bit-set")).verify()
        #expect(report.integrity.damages.count == 1)
        #expect(report.integrity.damages.first?.kind == .corrupt)
        #expect(report.integrity.damages.first?.offset == 0)
        #expect(report.integrity.damages.first?.reason.contains("padding bits") == true)
        #expect(report.events == 4)
    }

    @Test("The minimal reader of Format.md reads the fixture and refuses a set padding bit and another version",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
                       || ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/python3") } == true))
    func minimalReaderOfTheSpec() throws {
        let spec = String(decoding: try FileDamage.bytes(Fixtures.repositoryRoot + "/Journal/Format.md"), as: UTF8.self)
        let marker = "<!-- minimal-reader -->\n```python\n"
        let start = try #require(spec.range(of: marker), "Format.md has no minimal reader")
        let end = try #require(spec.range(of: "\n```", range: start.upperBound..<spec.endIndex))
        let reader = String(spec[start.upperBound..<end.lowerBound])
        let temp = TemporaryDirectory()
        let script = temp.child("check.py")
        let program = reader + """

            import sys
            for path in sys.argv[1:]:
                data = open(path, "rb").read()
                try:
                    print(path.split("/")[-3], [(o, len(r)) for o, r in members(data)])
                except ValueError as error:
                    print(path.split("/")[-3], "refused:", error)
            """
        try FileDamage.write(script, Array(program.utf8))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let fixtures = ["v1-three-batches", "v1-padding-bit-set", "v1-other-version-member", "v1-bad-type"]
        process.arguments = ["python3", script] + fixtures.map { Fixtures.journalFixture($0) + "/segments/00000001.gz" }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(output == """
            v1-three-batches [(0, 2), (531, 3), (1229, 1)]
            v1-padding-bit-set refused: padding bits set at byte 0
            v1-other-version-member refused: batch of format version 2 at byte 531
            v1-bad-type [(0, 2), (531, 3), (1229, 1)]

            """)
    }

    // MARK: §7.1 envelope

    @Test("type: the grammar of §7.1 (names joined by '.', then '.v' and a version), at most 128 bytes")
    func typeGrammar() {
        for valid in ["finance.committed.v1", "x.v1", "industry.milestone.reached.v1", "a-b.c9.v123456789", "finance.committed.v2"] {
            #expect(EventType.isValidName(valid), "\(valid)")
        }
        for invalid in ["", "Not A Type!", "x", "finance.committed", "finance.committed.v0", "finance.committed.v01", ".v1",
                        "a..b.v1", "a.b.V1", "é.v1", "9a.v1", "a-.v1", "a--b.v1", "-a.v1", "a.v1234567890",
                        "a b.v1", "a/b.v1", String(repeating: "a", count: 126) + ".v1"] {
            #expect(!EventType.isValidName(invalid), "\(invalid)")
        }
        #expect(EventType.isValidName(String(repeating: "a", count: 125) + ".v1"))
    }

    @Test("A record whose type breaks the grammar is not a valid event, for both decoders and for verify",
          arguments: ["", "Not A Type!", "x", "finance.committed.v01"])
    func recordWithBadType(type: String) throws {
        let canonical = try EventRecord.canonicalBytes(
            site: SiteID("brussels"), seq: SequenceNumber(1), prev: nil, time: Fixtures.time(),
            hlc: HybridTimestamp(milliseconds: 1_667_815_200_000, counter: 0), seen: [:], type: EventType(type),
            subject: Subject("action/a"), actor: "brussels", data: JSONObject())
        let record = EventRecord.record(canonical: canonical, id: EventRecord.id(ofCanonical: canonical), signature: nil)
        #expect(throws: AccordError.self) { _ = try EventRecord.decode(record) }
        #expect(throws: AccordError.self) { _ = try EventRecord.decodeByReencoding(record) }
        let report = try EventJournal(opening: Fixtures.journalFixture("v1-bad-type")).verify()
        #expect(report.events == 5)
        #expect(report.integrity.records == 6, "totals count only valid events; records counts every record")
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.contains("'type' is not an event type name") == true)
    }

    @Test("subject: a kind of more than 64 letters is refused")
    func subjectKindLength() throws {
        #expect(throws: AccordError.self) { _ = try Subject(String(repeating: "k", count: 65) + "/a") }
        _ = try Subject(String(repeating: "k", count: 64) + "/a")
    }

    // MARK: §6 verify

    @Test("verify lists a member of another format version and checks the rest of the segment")
    func otherVersionMemberDoesNotStopVerify() throws {
        let report = try EventJournal(opening: Fixtures.journalFixture("v1-other-version-member")).verify()
        #expect(report.events == 6)
        #expect(report.integrity.problems.count == 1)
        #expect(report.integrity.problems.first?.contains("format version 2") == true)
        #expect(report.integrity.problems.first?.contains("checking resumes at byte 1229") == true)
        #expect(report.integrity.damages.isEmpty)
        #expect(report.feeds[try SiteID("brussels")]?.signedThrough == SequenceNumber(6))
        #expect(!report.isClean)
    }

    @Test("verify reports a gap in the segment numbers and still checks the segments present")
    func gapStillChecksSegments() throws {
        let temp = TemporaryDirectory()
        try FileDamage.copyDirectory(Fixtures.journalFixture("v1-three-batches"), to: temp.child("j"))
        try FileManager.default.moveItem(atPath: temp.child("j") + "/segments/00000001.gz", toPath: temp.child("j") + "/segments/00000002.gz")
        let report = try EventJournal(opening: temp.child("j")).verify()
        #expect(report.integrity.problems.count == 1)
        #expect(report.integrity.problems.first?.contains("00000001.gz' is missing") == true)
        #expect(report.events == 6)
        #expect(report.integrity.segments == 1)
    }

    @Test("verify: a key file that does not load is reported, and its site checked as one without a trusted key")
    func badKeyFileIsReported() throws {
        let temp = TemporaryDirectory()
        try FileDamage.copyDirectory(Fixtures.journalFixture("v1-three-batches"), to: temp.child("j"))
        try FileDamage.write(temp.child("j") + "/keys/brussels.pub", Array("not a key\n".utf8))
        try FileDamage.write(temp.child("j") + "/keys/astana.pub", Array("AAAA\n".utf8))
        let report = try EventJournal(opening: temp.child("j")).verify()
        #expect(report.events == 6)
        #expect(report.problems.contains { $0.contains("'keys/brussels.pub' does not hold a valid key") })
        #expect(report.problems.contains { $0.contains("'keys/astana.pub' does not hold a valid key") })
        #expect(report.problems.contains { $0.contains("Site 'brussels' has no trusted key") })
    }

    @Test("verify: the heads cache's event count is its one use of the cache; fewer events now is reported")
    func verifyReadsTheCacheCountOnly() throws {
        let temp = TemporaryDirectory()
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let writer = try journal.openWriter()
        _ = try writer.append([Fixtures.realisticDraft(1)], now: Fixtures.time())
        let end = try batchEnds(of: journal.path)[0]
        _ = try writer.append([Fixtures.realisticDraft(11)], now: Fixtures.time(60))
        writer.close()
        try FileDamage.truncate(journal.path + "/segments/00000001.gz", to: Int(end))
        let report = try journal.verify()
        #expect(report.isClean == false)
        #expect(report.problems == ["An earlier append reached 2 events (cache/heads.json), but the journal now holds 1: acknowledged batches are missing (a deleted or truncated segment?)."])
        try FileManager.default.removeItem(atPath: journal.path + "/cache/heads.json")
        #expect(try journal.verify().isClean)
    }

    // MARK: §6 chains and §7.4 "signed through"

    /// A journal of site `brussels` (fixture key) whose one segment holds `records` as one batch each.
    private func journal(_ temp: TemporaryDirectory, batches: [[[UInt8]]]) throws -> EventJournal {
        let journal = try Fixtures.makeJournal(at: temp.child("j"))
        let writer = try SegmentWriter(directory: journal.directory)
        for batch in batches { _ = try writer.append(batch) }
        writer.close()
        return journal
    }

    private struct Feed {
        let key = try! SiteKey(seed: Fixtures.seed("brussels"))
        let otherKey = try! SiteKey(seed: Fixtures.seed("mallory"))

        /// The record of event `seq` with `prev`, signed by `key`, by the other key, or not.
        func record(_ seq: UInt64, prev: EventID?, note: String = "", sign: Signer = .none) throws -> (record: [UInt8], id: EventID) {
            let canonical = try EventRecord.canonicalBytes(
                site: SiteID("brussels"), seq: SequenceNumber(seq), prev: prev, time: Fixtures.time(Int64(seq)),
                hlc: HybridTimestamp(milliseconds: 1_667_815_200_000 + Int64(seq) * 1000, counter: 0), seen: [:],
                type: EventType("action.agreed.v1"), subject: Subject("action/a"), actor: "brussels",
                data: note.isEmpty ? JSONObject() : JSONObject([("note", .string(note))]))
            let id = EventRecord.id(ofCanonical: canonical)
            let signature: [UInt8]? = switch sign {
            case .none: nil
            case .valid: try key.signature(forBatchEndingAt: id)
            case .otherKey: try otherKey.signature(forBatchEndingAt: id)
            }
            return (EventRecord.record(canonical: canonical, id: id, signature: signature), id)
        }

        enum Signer { case none, valid, otherKey }
    }

    @Test("signed through: a bad signature is reported; a later valid one on an unbroken chain still covers everything before it")
    func badSignatureThenValid() throws {
        let temp = TemporaryDirectory()
        let feed = Feed()
        let e1 = try feed.record(1, prev: nil)
        let e2 = try feed.record(2, prev: e1.id, sign: .otherKey)
        let e3 = try feed.record(3, prev: e2.id, sign: .valid)
        let report = try journal(temp, batches: [[e1.record, e2.record], [e3.record]]).verify()
        #expect(report.problems == ["In record 2 of the batch at byte 0 of 'segments/00000001.gz': the signature on event 2 of site 'brussels' does not verify under the trusted key."])
        #expect(report.feeds[try SiteID("brussels")]?.signedThrough == SequenceNumber(3))
    }

    @Test("signed through: no signature after a broken prev raises it; checking resumes at the event that broke the chain")
    func brokenPrevStopsSignedThrough() throws {
        let temp = TemporaryDirectory()
        let feed = Feed()
        let e1 = try feed.record(1, prev: nil, sign: .valid)
        let forged = try feed.record(1, prev: nil, note: "another first event")
        let e2 = try feed.record(2, prev: forged.id, sign: .valid)
        let e3 = try feed.record(3, prev: e2.id, sign: .valid)
        let report = try journal(temp, batches: [[e1.record], [e2.record], [e3.record]]).verify()
        let brussels = try #require(report.feeds[try SiteID("brussels")])
        #expect(brussels.signedThrough == SequenceNumber(1))
        #expect(brussels.lastSeq == SequenceNumber(3))
        #expect(brussels.isBroken)
        #expect(report.events == 3 && brussels.events == 3)
        #expect(report.problems == [
            "In record 1 of the batch at byte \(try batchEnds(of: temp.child("j"))[0]) of 'segments/00000001.gz': event 2 of site 'brussels' does not link to the id of event 1 ('prev' differs). Checking resumes at 2.",
            "Events 2…3 of site 'brussels' are not covered by a valid signature that chains back to event 1 (the chain breaks, above).",
        ])
    }

    @Test("A jump in a feed is reported once; checking resumes at the event after the gap")
    func jumpReportedOnce() throws {
        let temp = TemporaryDirectory()
        let feed = Feed()
        let e1 = try feed.record(1, prev: nil, sign: .valid)
        let e2 = try feed.record(2, prev: e1.id)
        let e3 = try feed.record(3, prev: e2.id)
        let e4 = try feed.record(4, prev: e3.id)
        let e5 = try feed.record(5, prev: e4.id, sign: .valid)
        let report = try journal(temp, batches: [[e1.record], [e3.record, e4.record, e5.record]]).verify()
        let jumps = report.problems.filter { $0.contains("jumps") }
        #expect(jumps.count == 1)
        #expect(jumps.first?.contains("jumps from 1 to 3; events are missing. Checking resumes at 3.") == true)
        #expect(report.problems.count == 2)
        #expect(report.feeds[try SiteID("brussels")]?.lastSeq == SequenceNumber(5))
        #expect(report.feeds[try SiteID("brussels")]?.signedThrough == SequenceNumber(1))
    }

    @Test("A duplicate or fork is reported, counted in the totals, and leaves the chain as it was")
    func forkLeavesTheChain() throws {
        let temp = TemporaryDirectory()
        let feed = Feed()
        let e1 = try feed.record(1, prev: nil)
        let e2 = try feed.record(2, prev: e1.id, sign: .valid)
        let fork = try feed.record(2, prev: e1.id, note: "the other version", sign: .valid)
        let e3 = try feed.record(3, prev: e2.id, sign: .valid)
        let report = try journal(temp, batches: [[e1.record, e2.record], [fork.record], [e3.record]]).verify()
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.contains("event 2 of site 'brussels' appears again after 2 (a duplicate or a fork)") == true)
        #expect(report.events == 4)
        #expect(report.feeds[try SiteID("brussels")]?.events == 4)
        #expect(report.feeds[try SiteID("brussels")]?.signedThrough == SequenceNumber(3))
    }

    // MARK: §1 SITE and PARTNERSHIP, §8 key files: ASCII white space only

    @Test("SITE: only ASCII white space around the name is ignored; a no-break space makes it invalid")
    func siteWithUnicodeWhitespaceIsRefused() throws {
        #expect {
            _ = try EventJournal(opening: Fixtures.journalFixture("v1-site-nbsp"))
        } throws: { error in
            (error as? AccordError)?.code == .badInput && (error as? AccordError)?.field == "site"
        }
        let temp = TemporaryDirectory()
        try FileDamage.copyDirectory(Fixtures.journalFixture("v1-three-batches"), to: temp.child("j"))
        try FileDamage.write(temp.child("j") + "/SITE", Array(" \tbrussels\r\n\u{0B}\u{0C}".utf8))
        #expect(try EventJournal(opening: temp.child("j")).site == SiteID("brussels"))
        for space in ["\u{2028}", "\u{85}", "\u{3000}"] {
            try FileDamage.write(temp.child("j") + "/SITE", Array("brussels\(space)\n".utf8))
            #expect(throws: AccordError.self) { _ = try EventJournal(opening: temp.child("j")) }
        }
    }

    @Test("A key file is read with ASCII white space trimmed only")
    func keyFileUnicodeWhitespace() throws {
        let temp = TemporaryDirectory()
        try FileDamage.copyDirectory(Fixtures.journalFixture("v1-three-batches"), to: temp.child("j"))
        let pub = try FileDamage.bytes(temp.child("j") + "/keys/brussels.pub")
        let key = String(decoding: pub, as: UTF8.self)
        #expect(throws: Never.self) { _ = try SitePublicKey(base64: "\r\n " + key) }
        #expect(throws: AccordError.self) { _ = try SitePublicKey(base64: "\u{A0}" + key) }
    }

    @Test("PARTNERSHIP: a file over 256 bytes is refused, never read as 'default'; only a missing file is 'default'")
    func overlongPartnershipIsRefused() throws {
        #expect {
            _ = try EventJournal(opening: Fixtures.journalFixture("v1-partnership-too-long"))
        } throws: { error in
            (error as? AccordError)?.code == .badInput && (error as? AccordError)?.message.contains("PARTNERSHIP") == true
        }
        let temp = TemporaryDirectory()
        try FileDamage.copyDirectory(Fixtures.journalFixture("v1-three-batches"), to: temp.child("j"))
        try FileDamage.write(temp.child("j") + "/PARTNERSHIP", Array("eu-kz-2022\n".utf8))
        #expect(try EventJournal(opening: temp.child("j")).partnership == "eu-kz-2022")
        try FileManager.default.removeItem(atPath: temp.child("j") + "/PARTNERSHIP")
        #expect(try EventJournal(opening: temp.child("j")).partnership == "default")
        try FileManager.default.createDirectory(atPath: temp.child("j") + "/PARTNERSHIP", withIntermediateDirectories: false)
        #expect(throws: AccordError.self) { _ = try EventJournal(opening: temp.child("j")) }
    }

    // MARK: §4 rule 5, the member-size cap

    /// CRC-32 of RFC 1952 §8, bit by bit (a test needs no table).
    private func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// A version-1 member header (§4) declaring `length` bytes and one record, with a valid HCRC.
    private func header(declaring length: Int) -> [UInt8] {
        var bytes: [UInt8] = [0x1f, 0x8b, 0x08, 0x06, 0, 0, 0, 0, 0, 0xff, 16, 0, 0x41, 0x4a, 12, 0, 1, 0, 0, 0]
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: length >> shift)) }
        bytes += [1, 0, 0, 0]
        let hcrc = crc32(bytes)
        return bytes + [UInt8(truncatingIfNeeded: hcrc), UInt8(truncatingIfNeeded: hcrc >> 8)]
    }

    @Test("A member declaring more than MAX_MEMBER (68,158,464) bytes is damage, even when that many bytes follow")
    func memberOverTheCapIsDamage() throws {
        #expect(SegmentFormat.maxMemberBytes == 68_158_464)
        #expect(crc32(Array("123456789".utf8)) == 0xcbf4_3926)
        let temp = TemporaryDirectory()
        try FileDamage.copyDirectory(Fixtures.journalFixture("v1-three-batches"), to: temp.child("j"))
        let segment = temp.child("j") + "/segments/00000001.gz"
        let valid = try FileDamage.bytes(segment).count
        // The header, then a hole (sparse): the file really holds MAX_MEMBER + 1 bytes from the header on.
        try FileDamage.write(segment, try FileDamage.bytes(segment) + header(declaring: SegmentFormat.maxMemberBytes + 1))
        #expect(truncate(segment, off_t(valid + SegmentFormat.maxMemberBytes + 1)) == 0)
        let report = try EventJournal(opening: temp.child("j")).verify()
        let damage = try #require(report.integrity.damages.first)
        #expect(report.integrity.damages.count == 1)
        #expect(damage.kind == .tornTail)
        #expect(damage.offset == Int64(valid))
        #expect(damage.reason.contains("more than a batch may hold"))
        #expect(report.events == 6)
        // At exactly the cap the header is acceptable; the member then fails on its data instead.
        try FileDamage.truncate(segment, to: valid)
        try FileDamage.write(segment, try FileDamage.bytes(segment) + header(declaring: SegmentFormat.maxMemberBytes))
        #expect(truncate(segment, off_t(valid + SegmentFormat.maxMemberBytes)) == 0)
        let atCap = try #require(try EventJournal(opening: temp.child("j")).verify().integrity.damages.first)
        #expect(!atCap.reason.contains("more than a batch may hold"))
    }

    // MARK: Limits

    @Test("Every limit named in Format.md's table of limits has the value of its constant in code")
    func limitsTableMatchesTheCode() throws {
        let code: [String: Int] = [
            "MAX_FORMAT_FILE": SegmentFormat.maxFormatFileBytes,
            "MAX_IDENTIFIER_FILE": EventJournal.maxIdentifierFileBytes,
            "MAX_KEY_FILE": EventJournal.maxKeyFileBytes,
            "DEFAULT_SEGMENT_LIMIT": Int(SegmentFormat.defaultSegmentLimit),
            "MAX_RECORD": SegmentFormat.maxRecordBytes,
            "MAX_BATCH": SegmentFormat.maxBatchBytes,
            "MAX_MEMBER": SegmentFormat.maxMemberBytes,
            "LITERALS_BELOW": SegmentFormat.literalsBelow,
            "MAX_SLUG": Slug.maxLength,
            "MAX_SUBJECT_KIND": Subject.maxKindLength,
            "MAX_SUBJECT": Subject.maxKindLength + 1 + Slug.maxLength,
            "MAX_ACTOR": ActorName.maxLength,
            "MAX_TYPE": EventType.maxLength,
            "MAX_TYPE_VERSION_DIGITS": EventType.maxVersionDigits,
            "MAX_INTEGER_DIGITS": CanonicalJSON.maxIntegerDigits,
            "MAX_DEPTH": JSONParser.maxDepth,
            "MAX_HLC_COUNTER": Int(UInt32.max),
            "MAX_HLC_MILLIS": Int(HybridTimestamp.latestMilliseconds),
            "MAX_TEXT": Catalogue.maxTextBytes,
            "MAX_URL": Catalogue.maxURLBytes,
            "MAX_DECIMAL_INTEGER_DIGITS": DecimalText.maxIntegerDigits,
            "MAX_DECIMAL_FRACTION_DIGITS": DecimalText.maxFractionDigits,
            "MAX_COUNT_DIGITS": Catalogue.maxCountDigits,
            "MAX_READMODEL_TEXT": ReadModelFile.maxTextBytes,
            "MAX_READMODEL_FILE": Int(ReadModelFile.maxFileBytes),
            "READMODEL_REFRESH_EVENTS": ReadModelFile.refreshEvents,
            "READMODEL_CHUNK_EVENTS": ReadModelFile.chunkEvents,
            "READMODEL_CHUNK_ENTRIES": ReadModelFile.chunkEntries,
            "MAX_KEY_EVENTS": KeyHistory.maxKeyEventsPerFeed,
        ]
        let spec = String(decoding: try FileDamage.bytes(Fixtures.repositoryRoot + "/Journal/Format.md"), as: UTF8.self)
        let start = try #require(spec.range(of: "<!-- limits:begin -->"))
        let end = try #require(spec.range(of: "<!-- limits:end -->", range: start.upperBound..<spec.endIndex))
        var documented: [String: Int] = [:]
        for row in spec[start.upperBound..<end.lowerBound].split(separator: "\n") where row.hasPrefix("| `") {
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let name = String(cells[0].dropFirst().dropLast())
            documented[name] = Int(cells[1].filter { $0 != "," })
        }
        #expect(documented == code)
        // The minimal reader's constants are those of the table.
        #expect(spec.contains("MAX_MEMBER = 68_158_464"))
        #expect(spec.contains("MAX_BATCH = 67_108_864"))
    }

    // MARK: The worked example

    /// `xxd`'s lines for `bytes` read from file offset `start`.
    private func xxd(_ bytes: ArraySlice<UInt8>, from start: Int) -> [String] {
        stride(from: 0, to: bytes.count, by: 16).map { row in
            let chunk = Array(bytes.dropFirst(row).prefix(16))
            var hex = ""
            for (index, byte) in chunk.enumerated() {
                hex += String(format: "%02x", byte) + (index % 2 == 1 ? " " : "")
            }
            hex = hex.padding(toLength: 40, withPad: " ", startingAt: 0)
            let ascii = String(chunk.map { (0x20..<0x7F).contains($0) ? Character(UnicodeScalar($0)) : "." })
            return String(format: "%08x: ", start + row) + hex + " " + ascii
        }
    }

    @Test("The worked example's records, ids, signature and member bytes are what the code makes of them")
    func workedExampleIsRight() throws {
        let spec = String(decoding: try FileDamage.bytes(Fixtures.repositoryRoot + "/Journal/Format.md"), as: UTF8.self)
        let start = try #require(spec.range(of: "$ zcat /tmp/fmt-ex/segments/00000001.gz\n"))
        let block = spec[start.upperBound...].prefix { $0 != "`" }
        let records = block.split(separator: "\n").filter { $0.hasPrefix("{") }.map { Array($0.utf8) }
        #expect(records.count == 3)
        let events = try records.map { try EventRecord.decode($0) }
        #expect(events.map(\.id.hex) == ["7134e5ec01d0a6f25f56ddb85043b1a780ba66f43dece0c4068299dc93157750",
                                          "2371d6c5bf3e2cc3bd359a9f055894c3e6e5d07c449943bffc207a3834be06e2",
                                          "d6cc9bcbec58b99f04aa02f9e9b4aee4c6d7a57734203f6a41fb52e8bc8ce092"])
        for id in events.map(\.id.hex) { #expect(spec.contains(id)) }
        let key = try SitePublicKey(base64: "k2tklDXgdbfPhprxkK6FiGjjbqrNOEal86I1/tGNC6o=")
        #expect(spec.contains("Public key (give it to your peers): k2tklDXgdbfPhprxkK6FiGjjbqrNOEal86I1/tGNC6o="))
        for event in [events[1], events[2]] {
            #expect(key.verifies(try #require(event.signature), forBatchEndingAt: event.id))
        }
        #expect(events[0].signature == nil)
        // The members the default writer makes of these records, as the example shows them.
        let temp = TemporaryDirectory()
        let journal = try journal(temp, batches: [[records[0], records[1]], [records[2]]])
        let segment = try FileDamage.bytes(journal.path + "/segments/00000001.gz")
        let ends = try batchEnds(of: journal.path)
        // Both batches are under LITERALS_BELOW: literal codes, 2 bytes over each batch's length.
        #expect(segment.count == 1484 && ends.first == 863)
        #expect(spec.contains("1 segment, 2 batches, 3 events, \(segment.count) bytes."))
        #expect(spec.contains("two members, \(segment.count) bytes: the batch of two at offset 0 (\(ends[0]) bytes)"))
        for line in xxd(segment[863..<911], from: 863) + xxd(segment[(segment.count - 8)...], from: segment.count - 8) {
            #expect(spec.contains(line + "\n"), "Format.md's worked example lacks the line '\(line)'")
        }
    }
}
