import AccordMirror
import AccordTesting
import Testing

@Suite("MirrorTarget")
struct MirrorTargetTests {
    @Test func tcpURLGivesHostPortUserPasswordAndDatabase() throws {
        let target = try MirrorTarget(parsing: "postgres://accord:s%40cret@127.0.0.1:5433/partnership", environment: [:])
        #expect(target.endpoint == .tcp(host: "127.0.0.1", port: 5433))
        #expect(target.user == "accord")
        #expect(target.password == "s@cret")
        #expect(target.database == "partnership")
        #expect(!target.description.contains("s@cret"))
    }

    @Test func percentEncodedHostIsASocketDirectory() throws {
        let target = try MirrorTarget(parsing: "postgresql://accord@%2Ftmp%2Fpg:5499/db", environment: [:])
        #expect(target.endpoint == .socket(path: "/tmp/pg/.s.PGSQL.5499"))
    }

    @Test func socketDirectoryTakesUserPortAndDatabaseFromTheEnvironment() throws {
        let target = try MirrorTarget(parsing: "/var/run/postgresql/", environment: ["PGUSER": "analyst", "PGPORT": "6000", "PGDATABASE": "kz", "PGPASSWORD": "pw"])
        #expect(target.endpoint == .socket(path: "/var/run/postgresql/.s.PGSQL.6000"))
        #expect(target.user == "analyst")
        #expect(target.database == "kz")
        #expect(target.password == "pw")
    }

    @Test(arguments: ["mysql://x@h/db", "postgres://x@h:99999/db", "postgres://x@h/db?sslmode=require", "postgres://x@h/d%zz", "relative/dir"])
    func malformedTargetsAreRefusedWithTheReason(text: String) {
        #expect(throws: MirrorError.self) { try MirrorTarget(parsing: text, environment: [:]) }
    }

    @Test func unreachableServerIsReportedWithExitFiveAndNoPassword() throws {
        let temp = TemporaryDirectory("mirror-unreachable")
        let journal = temp.child("journal")
        #expect(try accord(["init", "--site", "brussels"], journal: journal).status == 0)
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        let result = try accord(["mirror", "--postgres", "postgres://accord:hunter2@127.0.0.1:1/db"], journal: journal)
        #expect(result.status == 5, "\(result.stderr)")
        #expect(result.stderr.contains("Cannot connect to postgres://accord@127.0.0.1:1/db"))
        #expect(!result.stderr.contains("hunter2"))
    }
}
