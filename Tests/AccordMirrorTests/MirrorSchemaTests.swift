import AccordMirror
import AccordTesting
import Foundation
import Testing

// Needs PostgreSQL (Journal/Mirror.md §6), as the suite "Mirror" does.
@Suite("Mirror schema versions", .serialized,
       .enabled(if: PostgresForTests.shouldRun,
                "needs PostgreSQL: eval \"$(Tools/postgres-test.sh start)\" sets ACCORD_TEST_POSTGRES_URL"))
struct MirrorSchemaTests {
    /// The tables' columns, keys and indexes, as text.
    static func schema(_ target: MirrorTarget) async throws -> [String?] {
        try await [
            PostgresForTests.value("""
                SELECT string_agg(table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable, E'\\n' ORDER BY table_name, ordinal_position)
                FROM information_schema.columns WHERE table_schema = 'public'
                """, on: target),
            PostgresForTests.value("""
                SELECT string_agg(conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid), E'\\n' ORDER BY conrelid::regclass::text, conname)
                FROM pg_constraint WHERE connamespace = 'public'::regnamespace
                """, on: target),
            PostgresForTests.value("SELECT string_agg(indexdef, E'\\n' ORDER BY indexdef) FROM pg_indexes WHERE schemaname = 'public'", on: target),
        ]
    }

    /// A copy of the sample journal, mirrored into a new database named after `name`.
    static func mirroredSample(_ temp: TemporaryDirectory, _ name: String) async throws -> (journal: String, target: MirrorTarget, url: String) {
        let journal = temp.child("journal")
        try FileManager.default.copyItem(atPath: Fixtures.repositoryRoot + "/Journal/sample", toPath: journal)
        let (target, url) = try await PostgresForTests.freshDatabase(name)
        try mirror(journal, into: url)
        return (journal, target, url)
    }

    /// Appends one event to `journal` and mirrors it into `url` (a database an older version
    /// holds), expecting the migration to resume at the checkpoints: one event added, none twice.
    static func appendOneAndMirrorAgain(_ journal: String, into url: String) throws {
        let eib = #"{"type":"stakeholder.registered.v1","subject":"stakeholder/test-eib","data":{"name":"European Investment Bank","kind":"financial","country":"EU"}}"#
        #expect(try accord(["append", "--from", "-"], journal: journal, input: eib + "\n").status == 0)
        let result = try accord(["mirror", "--postgres", url], journal: journal)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.output.contains("Mirrored 1 new events"), "\(result.output)")
    }

    /// Expects `target` to have the tables, keys, indexes and rows of a new database that
    /// `journal` is mirrored into.
    static func expectSameAsANewMirror(_ target: MirrorTarget, of journal: String, _ name: String) async throws {
        let (fresh, freshURL) = try await PostgresForTests.freshDatabase(name)
        try mirror(journal, into: freshURL)
        #expect(try await schema(target) == schema(fresh))
        #expect(try await PostgresForTests.dump(target) == PostgresForTests.dump(fresh))
    }

    @Test func aVersion1DatabaseIsMigratedToTheTablesOfANewOneAndItsRowsBecomeTheJournalsPartnerships() async throws {
        let temp = TemporaryDirectory("mirror-migrate")
        let (journal, target, url) = try await Self.mirroredSample(temp, "migrate")
        // Back to version 1: no partnership anywhere, keys by site and id alone.
        let version1Keys: [(String, String)] = [
            ("mirror_checkpoints", "site"), ("events", "id"), ("stakeholders", "id"), ("agreements", "id"), ("actions", "id"),
            ("fundings", "id"), ("funding_stages", "funding, stage"), ("funding_sums", "funding, stage, currency"), ("projects", "id"),
            ("milestones", "project"), ("offtakes", "id"), ("research", "id"), ("research_outputs", "event"), ("programmes", "id"),
            ("programme_deliveries", "event"),
        ]
        try await PostgresForTests.run(version1Keys.flatMap { table, key in
            ["ALTER TABLE \(table) DROP COLUMN partnership", "ALTER TABLE \(table) ADD PRIMARY KEY (\(key))"]
        } + ["ALTER TABLE events ADD UNIQUE (site, seq)", "UPDATE mirror_schema SET version = 1",
             // Version 1's indexes of events, as version 2 kept them.
             "DROP INDEX events_time", "CREATE INDEX events_subject ON events (subject)", "CREATE INDEX events_type_time ON events (type, time)"],
            on: target)
        #expect(try await PostgresForTests.value("SELECT count(*)::text FROM information_schema.columns WHERE column_name = 'partnership'", on: target) == "0")

        let eib = #"{"type":"stakeholder.registered.v1","subject":"stakeholder/test-eib","data":{"name":"European Investment Bank","kind":"financial","country":"EU"}}"#
        #expect(try accord(["append", "--from", "-"], journal: journal, input: eib + "\n").status == 0)
        try mirror(journal, into: url)
        #expect(try await PostgresForTests.value("SELECT version::text FROM mirror_schema", on: target) == String(MirrorSchema.version))
        try await Self.expectSameAsANewMirror(target, of: journal, "migrate_fresh")
        #expect(try await PostgresForTests.value("SELECT string_agg(DISTINCT partnership, ' ') FROM events", on: target) == "eu-kz-2022")
    }

    @Test func aVersion2DatabaseLosesItsSubjectAndTypeIndexesKeepsEveryRowAndTheNextMirrorResumes() async throws {
        let temp = TemporaryDirectory("mirror-migrate2")
        let (journal, target, url) = try await Self.mirroredSample(temp, "migrate2")
        let mirrored = try #require(try await PostgresForTests.value("SELECT count(*)::text FROM events", on: target))
        // Back to version 2: its two B-tree indexes on events, no BRIN index on time.
        try await PostgresForTests.run([
            "DROP INDEX IF EXISTS events_time",
            "CREATE INDEX IF NOT EXISTS events_subject ON events (subject)",
            "CREATE INDEX IF NOT EXISTS events_type_time ON events (type, time)",
            "UPDATE mirror_schema SET version = 2",
        ], on: target)

        try Self.appendOneAndMirrorAgain(journal, into: url)
        #expect(try await PostgresForTests.value("SELECT version::text FROM mirror_schema", on: target) == String(MirrorSchema.version))
        #expect(try await PostgresForTests.value("SELECT (count(*) - 1)::text FROM events", on: target) == mirrored)
        #expect(try await PostgresForTests.value("SELECT count(*)::text FROM pg_indexes WHERE indexname IN ('events_subject', 'events_type_time')", on: target) == "0")
        try await Self.expectSameAsANewMirror(target, of: journal, "migrate2_fresh")
    }

    @Test func aVersion3DatabaseIsKeyedByIdFirstKeepsEveryRowAndTheNextMirrorResumes() async throws {
        let temp = TemporaryDirectory("mirror-migrate3")
        let (journal, target, url) = try await Self.mirroredSample(temp, "migrate3")
        let mirrored = try #require(try await PostgresForTests.value("SELECT count(*)::text FROM events", on: target))
        // Back to version 3: events keyed by partnership first.
        try await PostgresForTests.run([
            "ALTER TABLE events DROP CONSTRAINT events_pkey, ADD PRIMARY KEY (partnership, id)",
            "UPDATE mirror_schema SET version = 3",
        ], on: target)
        let key = "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'events_pkey'"
        #expect(try await PostgresForTests.value(key, on: target) == "PRIMARY KEY (partnership, id)")

        try Self.appendOneAndMirrorAgain(journal, into: url)
        #expect(try await PostgresForTests.value("SELECT version::text FROM mirror_schema", on: target) == "4")
        #expect(try await PostgresForTests.value(key, on: target) == "PRIMARY KEY (id, partnership)")
        #expect(try await PostgresForTests.value("SELECT (count(*) - 1)::text FROM events", on: target) == mirrored)
        try await Self.expectSameAsANewMirror(target, of: journal, "migrate3_fresh")
    }

    @Test func aNewerSchemaIsRefusedWithoutWritingAnything() async throws {
        let temp = TemporaryDirectory("mirror-schema")
        let journal = temp.child("journal")
        try FileManager.default.copyItem(atPath: Fixtures.repositoryRoot + "/Journal/sample", toPath: journal)
        let (target, url) = try await PostgresForTests.freshDatabase("schema")
        try await PostgresForTests.run(["CREATE TABLE mirror_schema (version integer NOT NULL, generation bigint NOT NULL)",
                                        "INSERT INTO mirror_schema VALUES (\(MirrorSchema.version + 1), 0)"], on: target)
        let result = try accord(["mirror", "--postgres", url], journal: journal)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("schema version \(MirrorSchema.version + 1); this accord writes version \(MirrorSchema.version)"), "\(result.stderr)")
        #expect(try await PostgresForTests.value("SELECT (to_regclass('events') IS NULL)::text", on: target) == "true")
    }
}
