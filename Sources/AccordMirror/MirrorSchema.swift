import AccordSegments

/// The mirror's schema (Mirror.md §2): its version, the DDL that creates it, and the view tables'
/// names and keys. Every statement here is printed, word for word, in Mirror.md.
public enum MirrorSchema {
    /// The schema version this program writes and reads (Mirror.md §4). A database whose
    /// `mirror_schema.version` is greater is refused; raise this whenever a table or column
    /// changes, and give the older version a migration.
    public static let version = 1

    /// The advisory lock every mirror transaction takes first (`pg_advisory_xact_lock`), so
    /// that mirrors of several offices into one database write one at a time (Mirror.md §3).
    public static let lockKey: Int64 = 0x4143_434f_5244_4d31  // "ACCORDM1"

    /// Events per transaction (Mirror.md §3): each transaction adds at most this many events,
    /// with the view rows and the checkpoints they change.
    public static let eventsPerTransaction = 20_000

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
          site text PRIMARY KEY,
          seq bigint NOT NULL,
          last_id text NOT NULL
        )
        """,
        """
        CREATE TABLE events (
          id text PRIMARY KEY,
          site text NOT NULL,
          seq bigint NOT NULL,
          type text NOT NULL,
          subject text NOT NULL,
          time timestamptz NOT NULL,
          hlc text NOT NULL,
          data jsonb,
          record text NOT NULL,
          UNIQUE (site, seq)
        )
        """,
        "CREATE INDEX events_subject ON events (subject)",
        "CREATE INDEX events_type_time ON events (type, time)",
        """
        CREATE TABLE stakeholders (
          id text PRIMARY KEY,
          name text,
          kind text,
          country text,
          value_chains text[],
          iati_ref text,
          events integer NOT NULL
        )
        """,
        """
        CREATE TABLE agreements (
          id text PRIMARY KEY,
          title text NOT NULL,
          parties text[] NOT NULL,
          date text NOT NULL,
          place text
        )
        """,
        """
        CREATE TABLE actions (
          id text PRIMARY KEY,
          pillar text,
          title text,
          status text,
          status_date text,
          due text,
          value_chains text[],
          leads text[],
          note text
        )
        """,
        """
        CREATE TABLE fundings (
          id text PRIMARY KEY,
          provider text NOT NULL,
          receiver text NOT NULL,
          value_chain text,
          instrument text,
          action text
        )
        """,
        """
        CREATE TABLE funding_stages (
          funding text NOT NULL,
          stage text NOT NULL,
          transactions integer NOT NULL,
          PRIMARY KEY (funding, stage)
        )
        """,
        """
        CREATE TABLE funding_sums (
          funding text NOT NULL,
          stage text NOT NULL,
          currency text NOT NULL,
          amount numeric NOT NULL,
          PRIMARY KEY (funding, stage, currency)
        )
        """,
        """
        CREATE TABLE projects (
          id text PRIMARY KEY,
          name text,
          sponsor text,
          value_chain text,
          country text,
          capacity numeric,
          capacity_unit text,
          milestone text,
          milestone_date text
        )
        """,
        """
        CREATE TABLE milestones (
          project text PRIMARY KEY,
          milestone text NOT NULL,
          date text
        )
        """,
        """
        CREATE TABLE offtakes (
          id text PRIMARY KEY,
          buyer text NOT NULL,
          seller text NOT NULL,
          commodity text NOT NULL,
          quantity numeric,
          unit text NOT NULL,
          from_date text,
          to_date text
        )
        """,
        """
        CREATE TABLE research (
          id text PRIMARY KEY,
          title text,
          partners text[],
          field text,
          budget numeric,
          currency text,
          outputs integer NOT NULL
        )
        """,
        """
        CREATE TABLE research_outputs (
          event text PRIMARY KEY,
          research text NOT NULL,
          title text NOT NULL,
          date text NOT NULL,
          url text
        )
        """,
        """
        CREATE TABLE programmes (
          id text PRIMARY KEY,
          title text NOT NULL,
          provider text NOT NULL,
          deliveries integer NOT NULL,
          participants bigint NOT NULL
        )
        """,
        """
        CREATE TABLE programme_deliveries (
          event text PRIMARY KEY,
          programme text NOT NULL,
          title text NOT NULL,
          provider text NOT NULL,
          participants integer NOT NULL,
          date text NOT NULL
        )
        """,
    ]

    /// A view table: its name, its columns in COPY order, and the column by which the mirror
    /// deletes the rows of one key before it writes them again.
    struct Table: Sendable {
        var name: String
        var columns: [String]
        var key: String
    }

    /// The view tables, in the order they are written.
    static let views: [Table] = [
        Table(name: "stakeholders", columns: ["id", "name", "kind", "country", "value_chains", "iati_ref", "events"], key: "id"),
        Table(name: "agreements", columns: ["id", "title", "parties", "date", "place"], key: "id"),
        Table(name: "actions", columns: ["id", "pillar", "title", "status", "status_date", "due", "value_chains", "leads", "note"], key: "id"),
        Table(name: "fundings", columns: ["id", "provider", "receiver", "value_chain", "instrument", "action"], key: "id"),
        Table(name: "funding_stages", columns: ["funding", "stage", "transactions"], key: "funding"),
        Table(name: "funding_sums", columns: ["funding", "stage", "currency", "amount"], key: "funding"),
        Table(name: "projects", columns: ["id", "name", "sponsor", "value_chain", "country", "capacity", "capacity_unit", "milestone", "milestone_date"], key: "id"),
        Table(name: "milestones", columns: ["project", "milestone", "date"], key: "project"),
        Table(name: "offtakes", columns: ["id", "buyer", "seller", "commodity", "quantity", "unit", "from_date", "to_date"], key: "id"),
        Table(name: "research", columns: ["id", "title", "partners", "field", "budget", "currency", "outputs"], key: "id"),
        Table(name: "research_outputs", columns: ["event", "research", "title", "date", "url"], key: "event"),
        Table(name: "programmes", columns: ["id", "title", "provider", "deliveries", "participants"], key: "id"),
        Table(name: "programme_deliveries", columns: ["event", "programme", "title", "provider", "participants", "date"], key: "event"),
    ]

    /// The columns of `events`, in COPY order.
    static let eventColumns = ["id", "site", "seq", "type", "subject", "time", "hlc", "data", "record"]
}
