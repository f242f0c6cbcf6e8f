import AccordModel
import AccordSegments

/// The mirror's schema (Mirror.md §2): its version, the DDL that creates it, and the view tables'
/// names and keys. Every statement here is printed, word for word, in Mirror.md.
public enum MirrorSchema {
    /// The schema version this program writes and reads (Mirror.md §4). A database whose
    /// `mirror_schema.version` is greater is refused; raise this whenever a table or column
    /// changes, and give the older version a migration.
    /// Version 2 keys every table by partnership; version 3 leaves out the B-tree indexes of
    /// `events` on `subject` and on `(type, time)` and has a BRIN index on `time` instead;
    /// version 4 keys `events` by `(id, partnership)` rather than `(partnership, id)` (Mirror.md
    /// §4 tells what changed from each).
    public static let version = 4

    /// The advisory lock every mirror transaction takes first (`pg_advisory_xact_lock`), so
    /// that mirrors of several offices into one database write one at a time (Mirror.md §3).
    public static let lockKey: Int64 = 0x4143_434f_5244_4d31  // "ACCORDM1"

    /// Events per transaction (Mirror.md §3): each transaction adds at most this many events,
    /// with the view rows and the checkpoints they change.
    public static let eventsPerTransaction = 100_000

    /// Bytes of one stored record the mirror reads back from the database, at most: the
    /// journal's own bound on a record (`MAX_RECORD`, Format.md §4), checked before the record
    /// is decoded.
    public static let maxRecordBytes = SegmentFormat.maxRecordBytes

    /// The statements that create the schema, in order.
    public static let create: [String] = [
        """
        CREATE TABLE mirror_schema (
          version integer NOT NULL,
          generation bigint NOT NULL
        )
        """,
        """
        CREATE TABLE mirror_checkpoints (
          site text NOT NULL,
          seq bigint NOT NULL,
          last_id text NOT NULL,
          partnership text NOT NULL,
          PRIMARY KEY (partnership, site)
        )
        """,
        """
        CREATE TABLE events (
          id text NOT NULL,
          site text NOT NULL,
          seq bigint NOT NULL,
          type text NOT NULL,
          subject text NOT NULL,
          time timestamptz NOT NULL,
          hlc text NOT NULL,
          data jsonb,
          record text NOT NULL,
          partnership text NOT NULL,
          PRIMARY KEY (id, partnership),
          UNIQUE (partnership, site, seq)
        )
        """,
        "CREATE INDEX events_time ON events USING brin (time)",
        """
        CREATE TABLE stakeholders (
          id text NOT NULL,
          name text,
          kind text,
          country text,
          value_chains text[],
          iati_ref text,
          events integer NOT NULL,
          partnership text NOT NULL,
          PRIMARY KEY (partnership, id)
        )
        """,
        """
        CREATE TABLE agreements (
          id text NOT NULL,
          title text NOT NULL,
          parties text[] NOT NULL,
          date text NOT NULL,
          place text,
          partnership text NOT NULL,
          PRIMARY KEY (partnership, id)
        )
        """,
        """
        CREATE TABLE actions (
          id text NOT NULL,
          pillar text,
          title text,
          status text,
          status_date text,
          due text,
          value_chains text[],
          leads text[],
          note text,
          partnership text NOT NULL,
          PRIMARY KEY (partnership, id)
        )
        """,
        """
        CREATE TABLE fundings (
          id text NOT NULL,
          provider text NOT NULL,
          receiver text NOT NULL,
          value_chain text,
          instrument text,
          action text,
          partnership text NOT NULL,
          PRIMARY KEY (partnership, id)
        )
        """,
        """
        CREATE TABLE funding_stages (
          funding text NOT NULL,
          stage text NOT NULL,
          transactions integer NOT NULL,
          partnership text NOT NULL,
          PRIMARY KEY (partnership, funding, stage)
        )
        """,
        """
        CREATE TABLE funding_sums (
          funding text NOT NULL,
          stage text NOT NULL,
          currency text NOT NULL,
          amount numeric NOT NULL,
          partnership text NOT NULL,
          PRIMARY KEY (partnership, funding, stage, currency)
        )
        """,
        """
        CREATE TABLE projects (
          id text NOT NULL,
          name text,
          sponsor text,
          value_chain text,
          country text,
          capacity numeric,
          capacity_unit text,
          milestone text,
          milestone_date text,
          partnership text NOT NULL,
          PRIMARY KEY (partnership, id)
        )
        """,
        """
        CREATE TABLE milestones (
          project text NOT NULL,
          milestone text NOT NULL,
          date text,
          partnership text NOT NULL,
          PRIMARY KEY (partnership, project)
        )
        """,
        """
        CREATE TABLE offtakes (
          id text NOT NULL,
          buyer text NOT NULL,
          seller text NOT NULL,
          commodity text NOT NULL,
          quantity numeric,
          unit text NOT NULL,
          from_date text,
          to_date text,
          partnership text NOT NULL,
          PRIMARY KEY (partnership, id)
        )
        """,
        """
        CREATE TABLE research (
          id text NOT NULL,
          title text,
          partners text[],
          field text,
          budget numeric,
          currency text,
          outputs integer NOT NULL,
          partnership text NOT NULL,
          PRIMARY KEY (partnership, id)
        )
        """,
        """
        CREATE TABLE research_outputs (
          event text NOT NULL,
          research text NOT NULL,
          title text NOT NULL,
          date text NOT NULL,
          url text,
          partnership text NOT NULL,
          PRIMARY KEY (partnership, event)
        )
        """,
        """
        CREATE TABLE programmes (
          id text NOT NULL,
          title text NOT NULL,
          provider text NOT NULL,
          deliveries integer NOT NULL,
          participants bigint NOT NULL,
          partnership text NOT NULL,
          PRIMARY KEY (partnership, id)
        )
        """,
        """
        CREATE TABLE programme_deliveries (
          event text NOT NULL,
          programme text NOT NULL,
          title text NOT NULL,
          provider text NOT NULL,
          participants integer NOT NULL,
          date text NOT NULL,
          partnership text NOT NULL,
          PRIMARY KEY (partnership, event)
        )
        """,
        "CREATE INDEX research_outputs_research ON research_outputs (partnership, research)",
        "CREATE INDEX programme_deliveries_programme ON programme_deliveries (partnership, programme)",
    ]

    /// The tables of version 1 and the columns of their primary keys then, in the order the
    /// migration changes them.
    private static let version1Keys: [(table: String, key: [String])] = [
        ("mirror_checkpoints", ["site"]), ("events", ["id"]),
        ("stakeholders", ["id"]), ("agreements", ["id"]), ("actions", ["id"]), ("fundings", ["id"]),
        ("funding_stages", ["funding", "stage"]), ("funding_sums", ["funding", "stage", "currency"]),
        ("projects", ["id"]), ("milestones", ["project"]), ("offtakes", ["id"]), ("research", ["id"]),
        ("research_outputs", ["event"]), ("programmes", ["id"]), ("programme_deliveries", ["event"]),
    ]

    /// The statements that bring a version-1 database to version 2 (Mirror.md §4), run in one
    /// transaction with the mirror's lock held: every table gets the column `partnership`, set
    /// in every row already there to `partnership`, and its key (and `events`' unique feed
    /// position) is prefixed with it; the two indexes of version 2 are created; the version
    /// becomes 2. The result has the tables, columns, keys and indexes of a new version-2 database.
    /// - Parameter partnership: the journal's partnership: a slug (Format.md §1), so it is safe
    ///   to write into the statements as a literal.
    static func migrationFromVersion1(partnership: String) -> [String] {
        precondition(Slug.isValid(partnership), "a partnership identifier is a slug")
        var statements: [String] = []
        for (table, key) in version1Keys {
            statements.append("ALTER TABLE \(table) ADD COLUMN partnership text NOT NULL DEFAULT '\(partnership)', DROP CONSTRAINT \(table)_pkey, ADD PRIMARY KEY (partnership, \(key.joined(separator: ", ")))")
            statements.append("ALTER TABLE \(table) ALTER COLUMN partnership DROP DEFAULT")
        }
        statements.append("ALTER TABLE events DROP CONSTRAINT events_site_seq_key, ADD UNIQUE (partnership, site, seq)")
        statements += create.filter { $0.hasPrefix("CREATE INDEX research_outputs") || $0.hasPrefix("CREATE INDEX programme_deliveries") }
        statements.append("UPDATE mirror_schema SET version = 2")
        return statements + migrationFromVersion2
    }

    /// The statements that bring a version-2 database to version 3 (Mirror.md §4), run in one
    /// transaction with the mirror's lock held: the B-tree indexes of `events` on `subject` and
    /// on `(type, time)` are dropped (each event cost the server an entry in both, a third of
    /// what adding it cost), the BRIN index on `time` is created, the version becomes 3. No row
    /// changes. Then version 3 → 4 follows (``migrationFromVersion3``).
    static let migrationFromVersion2: [String] = [
        "DROP INDEX IF EXISTS events_subject",
        "DROP INDEX IF EXISTS events_type_time",
        "CREATE INDEX events_time ON events USING brin (time)",
        "UPDATE mirror_schema SET version = 3",
    ] + migrationFromVersion3

    /// The statements that bring a version-3 database to version 4 (Mirror.md §4), run in one
    /// transaction with the mirror's lock held: the key of `events` is built again on
    /// `(id, partnership)`. Every new event's id is a random hash, so with the id first one
    /// comparison of text decides almost every step down the index, where the partnership
    /// first, the same in every row, cost a second one each time. No row changes. The result
    /// has the tables, columns, keys and indexes of a new version-4 database.
    static let migrationFromVersion3: [String] = [
        "ALTER TABLE events DROP CONSTRAINT events_pkey, ADD PRIMARY KEY (id, partnership)",
        "UPDATE mirror_schema SET version = 4",
    ]

    /// A view table: its name, its columns in COPY order, the kind of subject its rows belong
    /// to, and the column that holds the subject's id, by which the mirror deletes the rows of
    /// one subject before it writes them again.
    struct Table: Sendable {
        var name: String
        var columns: [String]
        var kind: String
        var key: String
    }

    /// The view tables, in the order they are written.
    static let views: [Table] = [
        Table(name: "stakeholders", columns: ["id", "name", "kind", "country", "value_chains", "iati_ref", "events"], kind: "stakeholder", key: "id"),
        Table(name: "agreements", columns: ["id", "title", "parties", "date", "place"], kind: "agreement", key: "id"),
        Table(name: "actions", columns: ["id", "pillar", "title", "status", "status_date", "due", "value_chains", "leads", "note"], kind: "action", key: "id"),
        Table(name: "fundings", columns: ["id", "provider", "receiver", "value_chain", "instrument", "action"], kind: "funding", key: "id"),
        Table(name: "funding_stages", columns: ["funding", "stage", "transactions"], kind: "funding", key: "funding"),
        Table(name: "funding_sums", columns: ["funding", "stage", "currency", "amount"], kind: "funding", key: "funding"),
        Table(name: "projects", columns: ["id", "name", "sponsor", "value_chain", "country", "capacity", "capacity_unit", "milestone", "milestone_date"], kind: "project", key: "id"),
        Table(name: "milestones", columns: ["project", "milestone", "date"], kind: "project", key: "project"),
        Table(name: "offtakes", columns: ["id", "buyer", "seller", "commodity", "quantity", "unit", "from_date", "to_date"], kind: "offtake", key: "id"),
        Table(name: "research", columns: ["id", "title", "partners", "field", "budget", "currency", "outputs"], kind: "research", key: "id"),
        Table(name: "research_outputs", columns: ["event", "research", "title", "date", "url"], kind: "research", key: "research"),
        Table(name: "programmes", columns: ["id", "title", "provider", "deliveries", "participants"], kind: "programme", key: "id"),
        Table(name: "programme_deliveries", columns: ["event", "programme", "title", "provider", "participants", "date"], kind: "programme", key: "programme"),
    ]

    /// The kinds of subject the view tables show, in the order they are written.
    static let viewKinds = ["stakeholder", "agreement", "action", "funding", "project", "offtake", "research", "programme"]

    /// Bytes of stored records one transaction adds, at most (Mirror.md §3,
    /// `MIRROR_BYTES_PER_TRANSACTION`): a transaction ends at ``eventsPerTransaction`` events or
    /// once its records reach this many bytes, whichever comes first, so that the events a
    /// transaction holds in memory (and the `COPY` text made of them) stay bounded whatever the
    /// size of the records. A transaction always holds at least one event.
    public static let bytesPerTransaction = 64 << 20

    /// The columns of `events`, in COPY order.
    static let eventColumns = ["id", "site", "seq", "type", "subject", "time", "hlc", "data", "record", "partnership"]
}
