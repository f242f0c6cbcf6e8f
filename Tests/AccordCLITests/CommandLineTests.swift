import AccordTesting
import Foundation
import Testing

@Suite("The accord command line")
struct CommandLineTests {
    @Test(arguments: ["Journal/sample", "Journal/Fixtures/v1-three-batches"])
    func zcatOfTheSegmentsPrintsExactlyWhatLogJsonPrints(journal: String) throws {
        let path = Fixtures.repositoryRoot + "/" + journal
        let zcat = try shell("zcat '\(path)'/segments/*.gz")
        #expect(zcat.status == 0)
        let log = try accord(["log", "--json"], journal: path)
        #expect(log.status == 0)
        #expect(!log.stdout.isEmpty)
        #expect(log.stdout == zcat.output)
        #expect(try shell("gzip -t '\(path)'/segments/*.gz").status == 0)
    }

    @Test func theSampleJournalVerifiesAndReplaysThePartnershipsHistory() throws {
        let path = Fixtures.repositoryRoot + "/Journal/sample"
        let verify = try accord(["verify"], journal: path)
        #expect(verify.status == 0, "\(verify.output)")
        let log = try accord(["log"], journal: path)
        #expect(log.status == 0)
        #expect(log.output.contains("agreement/eu-kz-mou-2022"))
        #expect(log.output.contains("agreement/eu-na-mou-2022"))
        #expect(log.output.contains("Қазақстан"))
        #expect(log.output.contains("events from 2 sites"))
        for pillar in ["value-chain-integration", "supply-chain-resilience", "skills-research-innovation"] {
            let filtered = try accord(["log", "--json", "--type", "action.proposed.v1"], journal: path)
            #expect(filtered.output.contains("\"pillar\":\"\(pillar)\""))
        }
    }

    @Test func theSampleJournalIsRebuiltIdenticallyFromItsSource() throws {
        let temp = TemporaryDirectory()
        let builder = URL(fileURLWithPath: AccordExecutable.path).deletingLastPathComponent().appendingPathComponent("accord-sample").path
        let built = try shell("'\(builder)' sample '\(Fixtures.repositoryRoot)/Journal/sample-source.jsonl' '\(temp.child("sample"))' brussels")
        #expect(built.status == 0)
        let committed = try shell("zcat '\(Fixtures.repositoryRoot)/Journal/sample'/segments/*.gz")
        let rebuilt = try shell("zcat '\(temp.child("sample"))'/segments/*.gz")
        #expect(!committed.output.isEmpty)
        #expect(rebuilt.output == committed.output)
    }

    @Test func appendLogShowAndFiltersWorkTogether() throws {
        let temp = TemporaryDirectory()
        let journal = try newJournal(temp)
        let first = try accord(["append", "stakeholder.registered.v1", "--subject", "stakeholder/eib", "--data",
                                #"{"name":"European Investment Bank","kind":"financial","country":"EU"}"#, "--time", "2023-01-05T12:00:00+06:00"], journal: journal)
        #expect(first.status == 0, "\(first.stderr)")
        let id = String(first.output.prefix(64))
        let batch = [
            line("stakeholder.registered.v1", "stakeholder/kz-miid", #"{"name":"Ministry of Industry","kind":"government","country":"KZ"}"#),
            line("finance.committed.v1", "funding/h2", #"{"provider":"eib","receiver":"kz-miid","amount":"80.60","currency":"USD","date":"2023-02-01"}"#),
            line("finance.disbursed.v1", "funding/h2", #"{"provider":"eib","receiver":"kz-miid","amount":"0.10","currency":"EUR","date":"2023-03-01"}"#),
        ].joined(separator: "\n") + "\n"
        #expect(try accord(["append", "--from", "-"], journal: journal, input: batch).status == 0)
        let show = try accord(["show", String(id.prefix(10))], journal: journal)
        #expect(show.status == 0)
        #expect(show.output.contains("time     2023-01-05T06:00:00Z"))
        #expect(try accord(["show", id, "--json"], journal: journal).output.hasPrefix("{\"id\":\"\(id)\""))
        #expect(try accord(["log", "--json", "--type", "finance"], journal: journal).output.split(separator: "\n").count == 2)
        #expect(try accord(["log", "--json", "--subject", "stakeholder"], journal: journal).output.split(separator: "\n").count == 2)
        #expect(try accord(["log", "--json", "--until", "2023-01-05"], journal: journal).output.split(separator: "\n").count == 1)
        #expect(try accord(["log", "--json", "--site", "astana"], journal: journal).output.isEmpty)
        let table = try accord(["log"], journal: journal).output
        #expect(table.contains("80.60 USD"))
        #expect(table.contains("4 events from 1 site"))
        #expect(try accord(["verify"], journal: journal).status == 0)
        let keys = try accord(["keys", "show"], journal: journal)
        #expect(keys.output.contains("public key"))
        let secret = try String(contentsOfFile: journal + "/keys/brussels.key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!keys.output.contains(secret))
        #expect(try accord(["show", "abcdef"], journal: journal).status == 2)
    }

    @Test func followPrintsEventsAppendedLater() throws {
        let temp = TemporaryDirectory()
        let journal = try newJournal(temp)
        let outPath = temp.child("follow.out")
        FileManager.default.createFile(atPath: outPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: AccordExecutable.path)
        process.arguments = ["log", "--json", "--follow", "--journal", journal]
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        try process.run()
        defer {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        #expect(try accord(["append", "--from", "-"], journal: journal, input: stakeholder).status == 0)
        var seen = ""
        // Up to a minute: CI runs the suite in parallel on two cores.
        for _ in 0..<600 where !seen.contains("stakeholder/eib") {
            usleep(100_000)
            seen = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        }
        #expect(seen.contains("\"subject\":\"stakeholder/eib\""))
    }
}
