import AccordMirror
import AccordTesting
import Foundation
import Testing

/// Journal/Mirror.md is the contract: its DDL and constants must be the code's.
@Suite("MirrorSpec")
struct MirrorSpecTests {
    static func mirrorDoc() throws -> String {
        try String(contentsOfFile: Fixtures.repositoryRoot + "/Journal/Mirror.md", encoding: .utf8)
    }

    @Test func ddlInMirrorMdIsTheSchemaTheCodeCreates() throws {
        let doc = try Self.mirrorDoc()
        let begin = try #require(doc.range(of: "<!-- ddl:begin -->\n```sql\n"))
        let end = try #require(doc.range(of: "\n```\n<!-- ddl:end -->"))
        let printed = String(doc[begin.upperBound..<end.lowerBound])
        let code = MirrorSchema.create.map { statement in
            statement.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                line.hasPrefix("        ") ? String(line.dropFirst(8)) : String(line)
            }.joined(separator: "\n") + ";"
        }.joined(separator: "\n\n")
        #expect(Array(printed.utf8) == Array(code.utf8), "Journal/Mirror.md §2 and MirrorSchema.create differ")
    }

    @Test func constantsInMirrorMdAreTheCodes() throws {
        let doc = try Self.mirrorDoc()
        #expect(doc.contains("| `MIRROR_EVENTS_PER_TRANSACTION` | \(MirrorSchema.eventsPerTransaction.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US")))) |"))
        #expect(doc.contains("| `MIRROR_BYTES_PER_TRANSACTION` | \(MirrorSchema.bytesPerTransaction.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US")))) ("))
        #expect(doc.contains("| `MIRROR_LOCK_KEY` | \(MirrorSchema.lockKey) |") || doc.contains("| `MIRROR_LOCK_KEY` | \(MirrorSchema.lockKey) ("))
        #expect(doc.contains("| `MIRROR_SCHEMA_VERSION` | \(MirrorSchema.version) |"))
        #expect(doc.contains("## §2 Schema (version \(MirrorSchema.version))"))
    }
}
