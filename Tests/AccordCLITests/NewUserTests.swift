import AccordTesting
import Foundation
import Testing

/// What a new user found trying the CLI from the README (issue 14), each point as a test that
/// failed on the code before its fix.
@Suite("What a new user found", .serialized)
struct NewUserTests {
    /// `accord` as a shell word.
    static var binary: String { "'" + AccordExecutable.path + "'" }

    /// Runs `script` with `sh -c`, standard error folded into the output.
    static func sh(_ script: String) throws -> (status: Int32, text: String) {
        let result = try shell(script + " 2>&1")
        return (result.status, String(decoding: result.output, as: UTF8.self))
    }

    // MARK: - 1. Bytes that are not UTF-8

    @Test func bytesThatAreNotUTF8InAnArgumentAreRefusedAsTheyAreInAFile() throws {
        let temp = TemporaryDirectory("argv-utf8")
        let journal = try newJournal(temp)
        // "Café" in Latin-1: 0xE9 alone is no UTF-8 sequence (printf's \351 writes that byte).
        let data = #"{"name":"Caf\351 Europa","kind":"financial","country":"EU"}"#
        let single = try Self.sh("\(Self.binary) append stakeholder.registered.v1 --subject stakeholder/cafe --data \"$(printf '\(data)')\" --journal '\(journal)'")
        #expect(single.status == 2, "\(single.text)")
        #expect(single.text.contains("not valid UTF-8 at byte offset 12"), "\(single.text)")
        #expect(single.text.contains("'--data'"), "\(single.text)")
        let joined = try Self.sh("\(Self.binary) append stakeholder.registered.v1 --subject stakeholder/cafe \"--data=$(printf '\(data)')\" --journal '\(journal)'")
        #expect(joined.status == 2, "\(joined.text)")
        #expect(joined.text.contains("not valid UTF-8"), "\(joined.text)")
        #expect(try eventCount(journal) == 0)
        // The same bytes in a batch file: refused too, as before.
        let file = temp.child("latin1.jsonl")
        try FileDamage.write(file, Array(#"{"type":"stakeholder.registered.v1","subject":"stakeholder/cafe","data":{"name":"Caf"#.utf8) + [0xE9]
                                 + Array(#" Europa","kind":"financial","country":"EU"}}"#.utf8) + [0x0a])
        let batch = try accord(["append", "--from", file], journal: journal)
        #expect(batch.status == 2)
        #expect(batch.stderr.contains("UTF-8"), "\(batch.stderr)")
        #expect(try eventCount(journal) == 0)
    }

    // MARK: - 4. log and finance.committed.v2

    @Test func theLogShowsTheAmountOfAVersionTwoCommitment() throws {
        let temp = TemporaryDirectory("log-v2")
        let journal = try newJournal(temp)
        let batch = [
            stakeholder,
            line("stakeholder.registered.v1", "stakeholder/kz-miid", #"{"name":"Ministry of Industry","kind":"government","country":"KZ"}"#),
            line("finance.committed.v2", "funding/h2-study", #"{"provider":"eib","receiver":"kz-miid","value":{"amount":"80.60","currency":"KZT"},"date":"2024-03-01","iatiType":"2"}"#),
        ].joined(separator: "\n")
        let appended = try accord(["append", "--from", "-"], journal: journal, input: batch)
        #expect(appended.status == 0, "\(appended.stderr)")
        let log = try accord(["log", "--type", "finance"], journal: journal)
        #expect(log.status == 0)
        #expect(log.output.contains("80.60 KZT"), "\(log.output)")
        #expect(log.output.contains("eib → kz-miid"), "\(log.output)")
    }

    // MARK: - 5 and 11. CloudEvents refusals

    static let foreign = #"{"specversion":"1.0","id":"evt-1","source":"https://example.org/registry","type":"stakeholder.registered.v1","subject":"stakeholder/kaz-hydrogen-association","time":"2023-03-01T09:00:00Z","data":{"name":"Kazakhstan Hydrogen Association","kind":"civil-society","country":"KZ"}}"#

    @Test func binaryCloudEventsDataIsRefusedSayingWhatToSendInstead() throws {
        let temp = TemporaryDirectory("ce-base64")
        let journal = try newJournal(temp)
        let event = Self.foreign.replacingOccurrences(of: #""data":{"name":"Kazakhstan Hydrogen Association","kind":"civil-society","country":"KZ"}"#,
                                                      with: #""data_base64":"eyJuYW1lIjoiWCJ9""#)
        try FileDamage.write(temp.child("in.ndjson"), Array((event + "\n").utf8))
        let result = try accord(["import", "cloudevents", temp.child("in.ndjson")], journal: journal)
        #expect(result.status == 2)
        #expect(!result.stderr.contains("not a valid CloudEvents attribute name"), "\(result.stderr)")
        #expect(result.stderr.contains("in.ndjson:1: 'data_base64' (binary data) is not supported"), "\(result.stderr)")
        #expect(result.stderr.contains("as JSON in 'data'"), "\(result.stderr)")
        #expect(try eventCount(journal) == 0)
    }

    @Test func aForeignCloudEventFromTheFutureIsAProblemOfItsFileAndLine() throws {
        let temp = TemporaryDirectory("ce-future")
        let journal = try newJournal(temp)
        let event = Self.foreign.replacingOccurrences(of: "2023-03-01T09:00:00Z", with: "2099-03-01T09:00:00Z")
        try FileDamage.write(temp.child("in.ndjson"), Array((event + "\n").utf8))
        let result = try accord(["import", "cloudevents", temp.child("in.ndjson")], journal: journal)
        #expect(result.status == 2)
        #expect(result.stderr.contains("in.ndjson:1: attribute 'time' is 2099-03-01T09:00:00Z, more than a day in the future"), "\(result.stderr)")
        #expect(result.output.contains("in.ndjson: 1 cloudevents"), "\(result.output)")
        #expect(result.output.contains("refused: 1 problem"), "\(result.output)")
        #expect(try eventCount(journal) == 0)
    }

    // MARK: - 7. ACCORD_LOCK_TIMEOUT everywhere

    /// Two journals of one partnership that trust each other, `brussels` holding one event.
    static func twoOffices(_ temp: TemporaryDirectory) throws -> (brussels: String, astana: String) {
        let brussels = temp.child("brussels"), astana = temp.child("astana")
        for (site, path) in [("brussels", brussels), ("astana", astana)] {
            #expect(try accord(["init", "--site", site, "--partnership", "eu-kz-2022"], journal: path).status == 0)
        }
        for (here, there, site) in [(brussels, astana, "astana"), (astana, brussels, "brussels")] {
            let key = try String(contentsOfFile: there + "/keys/\(site).pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try accord(["peer", "add", site, "--key", key], journal: here).status == 0)
        }
        #expect(try accord(["append", "--from", "-"], journal: brussels, input: stakeholder).status == 0)
        return (brussels, astana)
    }

    /// Holds `journal`'s writer lock with `flock` until ``LockHolder/release()`` creates the
    /// file its shell waits for (a killed `flock` would leave its child holding the lock).
    struct LockHolder {
        var process: Process
        var stop: String

        func release() {
            FileManager.default.createFile(atPath: stop, contents: nil)
            process.waitUntilExit()
        }
    }

    static func holdLock(_ journal: String) throws -> LockHolder {
        let stop = journal + ".release"
        let holder = LockHolder(process: try AccordExecutable.start(["-x", journal + "/LOCK", "sh", "-c", "while [ ! -e '\(stop)' ]; do sleep 0.05; done"],
                                                                    executable: "/usr/bin/flock"), stop: stop)
        for _ in 0..<200 {
            let probe = try AccordExecutable.start(["-n", journal + "/LOCK", "true"], executable: "/usr/bin/flock")
            probe.waitUntilExit()
            if probe.terminationStatus != 0 { return holder }
            usleep(50_000)
        }
        holder.release()
        Issue.record("flock did not take \(journal)/LOCK within 10 s")
        throw CancellationError()
    }

    /// With the lock held elsewhere, `sync` and `bundle apply` wait `ACCORD_LOCK_TIMEOUT`
    /// seconds (the message says how long), not the default 30.
    @Test func syncAndBundleApplyWaitForTheLockAsLongAsTheEnvironmentSays() throws {
        let temp = TemporaryDirectory("lock-timeout")
        let (brussels, astana) = try Self.twoOffices(temp)
        #expect(try accord(["bundle", "create", "--out", temp.child("b.bundle")], journal: brussels).status == 0)
        let holder = try Self.holdLock(astana)
        defer { holder.release() }
        for arguments in [["sync", "--with", brussels], ["bundle", "apply", temp.child("b.bundle")]] {
            let result = try accord(arguments, journal: astana, environment: ["ACCORD_LOCK_TIMEOUT": "1"])
            #expect(result.status == 4, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("waited 1 s"), "\(arguments): \(result.stderr)")
        }
        let bad = try accord(["sync", "--with", brussels], journal: astana, environment: ["ACCORD_LOCK_TIMEOUT": "soon"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("ACCORD_LOCK_TIMEOUT"), "\(bad.stderr)")
    }

    /// `serve` takes `ACCORD_LOCK_TIMEOUT` for the writer each push opens.
    @Test func servePushesWaitForTheLockAsLongAsTheEnvironmentSays() throws {
        let temp = TemporaryDirectory("lock-timeout-serve")
        let (brussels, astana) = try Self.twoOffices(temp)
        let server = try AccordExecutable.serve(journal: astana, scratch: temp.path, environment: ["ACCORD_LOCK_TIMEOUT": "1"])
        defer { server.process.terminate(); server.process.waitUntilExit() }
        let holder = try Self.holdLock(astana)
        defer { holder.release() }
        let result = try accord(["sync", "--with", server.url], journal: brussels)
        #expect(result.status == 4, "\(result.output) \(result.stderr)")
        #expect(result.stderr.contains("waited 1 s"), "\(result.stderr)")
    }

    // MARK: - 8. No temporary files after a failed write

    /// A file-size limit (`ulimit -f`, SIGXFSZ ignored) makes every write past 512 bytes fail
    /// (EFBIG), as a full disk does (ENOSPC), without needing a tiny file system: each command
    /// fails with exit 5 and leaves no `*.tmp-PID` file behind.
    ///
    /// Not under ThreadSanitizer (`Tools/sanitize.sh` sets `TSAN_OPTIONS`): its runtime maps a
    /// file of its own that the file-size limit cuts short, so the child dies of SIGBUS before
    /// Accord's code runs (seen 2026-12-07). The plain and AddressSanitizer runs check it.
    @Test(.disabled(if: ProcessInfo.processInfo.environment["TSAN_OPTIONS"] != nil, "ThreadSanitizer's runtime dies of SIGBUS under `ulimit -f 1`"),
          arguments: [["report", "--html", "OUT"], ["export", "cloudevents", "--out", "OUT"], ["bundle", "create", "--out", "OUT"], ["snapshot"]])
    func aFailedWriteLeavesNoTemporaryFile(arguments: [String]) throws {
        let temp = TemporaryDirectory("tmp-left")
        let journal = try newJournal(temp)
        let batch = (1...30).map { line("stakeholder.registered.v1", "stakeholder/org-\($0)", #"{"name":"Organisation number \#($0) of the partnership","kind":"industrial","country":"KZ"}"#) }
        #expect(try accord(["append", "--from", "-"], journal: journal, input: batch.joined(separator: "\n")).status == 0)
        try FileManager.default.createDirectory(atPath: temp.child("out"), withIntermediateDirectories: true)
        let words = arguments.map { $0 == "OUT" ? "'" + temp.child("out/file") + "'" : $0 }.joined(separator: " ")
        let result = try Self.sh("trap '' XFSZ; ulimit -f 1; exec \(Self.binary) \(words) --journal '\(journal)'")
        #expect(result.status == 5, "\(result.text)")
        let left = (FileManager.default.enumerator(atPath: temp.path)?.allObjects as? [String] ?? []).filter { $0.contains(".tmp-") }
        #expect(left.isEmpty, "left behind: \(left)")
        #expect(!FileManager.default.fileExists(atPath: temp.child("out/file")))
    }

    /// Regression: `--out` to something that is not a regular file (a FIFO here; `/dev/null` or
    /// `/dev/stdout` for a user) was renamed over: as root, `--out /dev/null` replaced the device
    /// with a regular file. Now the bytes are written into it, and it stays what it was.
    @Test(arguments: [["export", "cloudevents", "--out", "OUT"], ["report", "--html", "OUT"], ["bundle", "create", "--out", "OUT"]])
    func anOutputThatIsNotARegularFileIsWrittenIntoNotReplaced(arguments: [String]) throws {
        let temp = TemporaryDirectory("out-fifo")
        let journal = try newJournal(temp)
        #expect(try accord(["append", "stakeholder.registered.v1", "--subject", "stakeholder/eib", "--data", #"{"name":"European Investment Bank","kind":"financial","country":"EU"}"#], journal: journal).status == 0)
        let fifo = temp.child("out.fifo"), copy = temp.child("copy")
        #expect(mkfifo(fifo, 0o644) == 0)
        let words = arguments.map { $0 == "OUT" ? "'" + fifo + "'" : $0 }.joined(separator: " ")
        let result = try Self.sh("timeout 20 cat '\(fifo)' > '\(copy)' & \(Self.binary) \(words) --journal '\(journal)'; status=$?; wait; exit $status")
        #expect(result.status == 0, "\(result.text)")
        var info = stat()
        #expect(stat(fifo, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO, "the FIFO was replaced by a regular file")
        #expect(((try? FileManager.default.attributesOfItem(atPath: copy)[.size] as? Int) ?? 0) ?? 0 > 0, "nothing came through the FIFO")
    }

    // MARK: - Columns

    /// A journal with an event whose subject and title are longer than any column.
    static func longEvent(_ temp: TemporaryDirectory) throws -> (journal: String, subject: String, title: String) {
        let journal = try newJournal(temp)
        let subject = "action/" + String(repeating: "long-identifier-", count: 3) + "end"
        let title = "A joint action whose title runs far beyond seventy characters, so that a table would cut it short"
        let appended = try accord(["append", "action.proposed.v1", "--subject", subject, "--data", #"{"title":"\#(title)","pillar":"value-chain-integration"}"#], journal: journal)
        #expect(appended.status == 0, "\(appended.stderr)")
        return (journal, subject, title)
    }

    @Test func outputToAPipeIsNeverCut() throws {
        let temp = TemporaryDirectory("columns-pipe")
        let (journal, subject, title) = try Self.longEvent(temp)
        let log = try accord(["log"], journal: journal, environment: ["COLUMNS": "60"])
        #expect(log.output.contains(subject), "\(log.output)")
        #expect(log.output.contains(title), "\(log.output)")
        #expect(log.output.split(separator: "\n").allSatisfy { !$0.contains("…") || $0.contains(" … ") }, "a clipped cell: \(log.output)")  // (the summary's span is "D … D")
        let state = try accord(["state", "actions"], journal: journal)
        #expect(state.output.contains(subject.dropFirst("action/".count)), "\(state.output)")
        #expect(state.output.contains(title), "\(state.output)")
        #expect(!state.output.contains("…"), "\(state.output)")
    }

    /// On a terminal (a pseudo-terminal from script(1)), `log` and `state` fit `$COLUMNS`.
    @Test func outputToATerminalFitsItsWidth() throws {
        let temp = TemporaryDirectory("columns-tty")
        let (journal, _, _) = try Self.longEvent(temp)
        for (command, width) in [("log", 100), ("log", 140), ("state actions", 100)] {
            let run = try Self.sh("COLUMNS=\(width) script -qec \"\(Self.binary) \(command) --journal '\(journal)'\" /dev/null")
            #expect(run.status == 0, "\(run.text)")
            let lines = run.text.replacingOccurrences(of: "\r", with: "").split(separator: "\n")
            #expect(lines.count >= 2, "\(run.text)")
            #expect(lines.allSatisfy { $0.count <= width }, "\(command) at \(width): \(lines.map(\.count)) \(run.text)")
            #expect(run.text.contains("…"), "\(run.text)")
        }
    }

    // MARK: - Catalogue, completions, log order and CSV

    @Test func theCatalogueListsEveryTypeAndShowsOneWithAnExampleThatAppends() throws {
        let list = try accord(["catalogue"])
        #expect(list.status == 0, "\(list.stderr)")
        for type in ["stakeholder.registered.v1", "finance.committed.v2", "industry.offtake.signed.v1"] { #expect(list.output.contains(type)) }
        let one = try accord(["catalogue", "finance.committed.v2"])
        #expect(one.status == 0)
        #expect(one.output.contains("funding/<id>"))
        #expect(one.output.contains("value"))
        #expect(one.output.contains("required"))
        #expect(one.output.contains("optional"))
        #expect(one.output.contains(#""value":{"amount":"1000.00","currency":"EUR"}"#), "\(one.output)")
        let family = try accord(["catalogue", "action"])
        #expect(family.output.contains("action.proposed.v1") && family.output.contains("action.cancelled.v1"))
        let unknown = try accord(["catalogue", "finance.borrowed.v1"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("accord catalogue"))
        // The example lines of types without references are accepted as they are.
        let temp = TemporaryDirectory("catalogue")
        let journal = try newJournal(temp)
        for type in ["stakeholder.registered.v1", "action.proposed.v1"] {
            let shown = try accord(["catalogue", type]).output
            let example = try #require(shown.split(separator: "\n").last { $0.contains(#"{"type":"#) })
            let appended = try accord(["append", "--from", "-"], journal: journal, input: example.trimmingCharacters(in: .whitespaces))
            #expect(appended.status == 0, "\(type): \(appended.stderr)")
        }
    }

    @Test func shellCompletionsAreGenerated() throws {
        for shell in ["bash", "zsh", "fish"] {
            let result = try accord(["--generate-completion-script", shell])
            #expect(result.status == 0, "\(shell): \(result.stderr)")
            #expect(result.output.contains("catalogue"), "\(shell)")
        }
    }

    /// A back-filled event (recorded with an earlier --time) comes last in stored order and in
    /// its place with --order recorded; --csv gives every row whole.
    @Test func theLogOrdersByRecordedTimeAndPrintsCSV() throws {
        let temp = TemporaryDirectory("log-order")
        let journal = try newJournal(temp)
        for (id, time) in [("first", "2024-01-01T00:00:00Z"), ("third", "2024-03-01T00:00:00Z"), ("second", "2024-02-01T00:00:00Z")] {
            let appended = try accord(["append", "action.proposed.v1", "--subject", "action/\(id)", "--data", #"{"title":"Step \#(id)","pillar":"value-chain-integration"}"#, "--time", time], journal: journal)
            #expect(appended.status == 0, "\(appended.stderr)")
        }
        func order(_ text: String) -> [String] {
            text.replacingOccurrences(of: "\r", with: "").split(separator: "\n").compactMap { line in ["first", "second", "third"].first { line.contains("action/\($0)") } }
        }
        #expect(order(try accord(["log"], journal: journal).output) == ["first", "third", "second"])
        #expect(order(try accord(["log", "--order", "recorded"], journal: journal).output) == ["first", "second", "third"])
        let csv = try accord(["log", "--csv", "--order", "recorded"], journal: journal)
        #expect(csv.status == 0, "\(csv.stderr)")
        let rows = csv.output.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(rows.first == "recorded,site,seq,id,type,subject,actor,what")
        #expect(rows.count == 4)
        #expect(rows.dropFirst().first?.hasPrefix("2024-01-01T00:00:00Z,brussels,1,") == true, "\(rows)")
        #expect(rows.last?.contains(",action.proposed.v1,action/third,") == true, "\(rows)")
        #expect(order(csv.output) == ["first", "second", "third"])
        let followRecorded = try accord(["log", "--follow", "--order", "recorded"], journal: journal)
        #expect(followRecorded.status == 2)
    }

    // MARK: - Human output

    /// State tables for people: thousands separators and one scale per number column, funders
    /// and receivers by name; CSV and JSON keep the exact text and the ids.
    @Test func financeReadsAsNamesWithSeparatorsForPeopleAndExactForMachines() throws {
        let temp = TemporaryDirectory("human")
        let journal = try newJournal(temp)
        let batch = [
            stakeholder,
            line("stakeholder.registered.v1", "stakeholder/kz-miid", #"{"name":"Ministry of Industry","kind":"government","country":"KZ"}"#),
            line("finance.committed.v1", "funding/a", #"{"provider":"eib","receiver":"kz-miid","amount":"1234567.5","currency":"EUR","date":"2024-03-01"}"#),
            line("finance.committed.v1", "funding/b", #"{"provider":"eib","receiver":"kz-miid","amount":"80.25","currency":"EUR","date":"2024-03-01"}"#),
        ].joined(separator: "\n")
        #expect(try accord(["append", "--from", "-"], journal: journal, input: batch).status == 0)
        let text = try accord(["state", "finance", "--table", "finance by funder"], journal: journal)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.output.contains("European Investment Bank"), "\(text.output)")
        #expect(text.output.contains("1,234,647.75"), "\(text.output)")
        let receivers = try accord(["state", "finance", "--table", "finance by receiver"], journal: journal)
        #expect(receivers.output.contains("Ministry of Industry"), "\(receivers.output)")
        let fundings = try accord(["state", "finance"], journal: journal)
        #expect(fundings.output.contains("1,234,567.50"), "one scale per column: \(fundings.output)")
        let csv = try accord(["state", "finance", "--csv", "--table", "finance by funder"], journal: journal)
        #expect(csv.output.contains("eib,European Investment Bank,committed,1234647.75"), "\(csv.output)")
        #expect(!csv.output.contains("1,234"))
        let json = try accord(["state", "finance", "--json"], journal: journal)
        #expect(!json.output.contains("1,234"))
        #expect(json.output.contains(#""1234567.5""#), "\(json.output)")
        // Counts are JSON numbers; amounts stay exact decimal strings.
        // Each row names its table: the view has several, and their rows would otherwise mix.
        #expect(json.output.contains(#""EUR":"1234567.5","funding":"a","provider":"eib","receiver":"kz-miid","stage":"committed","table":"Fundings"#), "\(json.output)")
        #expect(json.output.split(separator: "\n").allSatisfy { $0.contains(#""table":"#) }, "\(json.output)")
        let one = try accord(["state", "finance", "--json", "--table", "finance by funder"], journal: journal)
        #expect(one.status == 0 && !one.output.contains(#""table":"#), "one table: no table key: \(one.output)")
        let stakeholders = try accord(["state", "stakeholders", "--json"], journal: journal)
        #expect(stakeholders.output.contains(#""events":3,"id":"eib""#), "\(stakeholders.output)")
    }

    @Test func aLifecycleStepSkippedForwardSuggestsSyncing() throws {
        let temp = TemporaryDirectory("lifecycle")
        let journal = try newJournal(temp)
        #expect(try accord(["append", "action.proposed.v1", "--subject", "action/h2", "--data", #"{"title":"Hydrogen study","pillar":"value-chain-integration"}"#], journal: journal).status == 0)
        let started = try accord(["append", "action.started.v1", "--subject", "action/h2", "--data", "{}"], journal: journal)
        #expect(started.status == 2)
        #expect(started.stderr.contains("Action 'h2' is 'proposed'; it cannot become 'started' before it is 'agreed'."), "\(started.stderr)")
        #expect(started.stderr.contains("accord sync"), "\(started.stderr)")
        let missing = try accord(["append", "action.agreed.v1", "--subject", "action/other", "--data", "{}"], journal: journal)
        #expect(missing.stderr.contains("accord sync"), "\(missing.stderr)")
        #expect(try eventCount(journal) == 1)
    }

    // MARK: - 12. Missing shared data

    @Test func aMissingSharedDataFileIsNamedClearly() throws {
        let error = #expect(throws: MissingSharedData.self) { try Fixtures.sharedDataFile("iati/no-such-file.xml") }
        #expect(error?.description.contains("no-such-file.xml' is missing") == true || error?.description.contains("shared data set") == true, "\(error?.description ?? "")")
        #expect(error?.path.hasSuffix("/shared/data/iati/no-such-file.xml") == true, "\(error?.path ?? "")")
        #expect(error?.path.contains("..") == false)
    }
}
