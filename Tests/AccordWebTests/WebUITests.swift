import AccordTesting
import AccordWeb
import Foundation
import Glibc
import Testing

/// `accord ui` over HTTP, against a real child process on 127.0.0.1 (Journal/UI.md).
@Suite("accord ui: the web view's pages, record form and access")
struct WebUITests {
    // MARK: Tests

    @Test func dashboardTotalsEqualStateFinanceJSON() throws {
        let temp = TemporaryDirectory("ui-totals")
        defer { temp.remove() }
        let journal = try webJournal(temp)
        try append(journal, "finance.committed.v1", "funding/eib-h2", #"{"provider":"eib","receiver":"kz-miid","amount":"1234567.50","currency":"EUR","date":"2024-01-05"}"#)
        // A read model that covers only the events so far: the state is it plus the later ones.
        #expect(try AccordExecutable.run(["snapshot", "--journal", journal]).status == 0)
        try append(journal, "finance.disbursed.v1", "funding/eib-h2", #"{"provider":"eib","receiver":"kz-miid","amount":"200000.25","currency":"EUR","date":"2024-03-01"}"#)
        try append(journal, "finance.committed.v1", "funding/kz-grant", #"{"provider":"kz-miid","receiver":"eib","amount":"9000000","currency":"KZT","date":"2024-02-01"}"#)
        try append(journal, "finance.committed.v1", "funding/kz-grant", #"{"provider":"kz-miid","receiver":"eib","amount":"-1000.10","currency":"KZT","date":"2024-04-01"}"#)
        try append(journal, "finance.spent.v1", "funding/eib-h2", #"{"provider":"eib","receiver":"kz-miid","amount":"0.05","currency":"EUR","date":"2024-05-01"}"#)
        let server = try UIServer(journal: journal, scratch: temp)
        defer { server.stop() }
        let dashboard = try http(server.port, "GET", "/")
        #expect(dashboard.status == 200)
        let shown = Self.totals(in: dashboard.text)
        // `accord state finance --json`: the "TOTAL" rows of the table by funder.
        let state = try AccordExecutable.run(["state", "finance", "--json", "--journal", journal])
        #expect(state.status == 0, "\(state.stderr)")
        var expected: [String: String] = [:]
        for line in state.output.split(separator: "\n") {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String],
                  object["funder"] == "TOTAL", let stage = object["stage"], ["committed", "disbursed", "spent"].contains(stage) else { continue }
            for (key, value) in object where key.count == 3 && key == key.uppercased() {
                expected[key + " " + stage] = value.isEmpty ? "0" : value
            }
        }
        #expect(expected.count == 6, "\(state.output)")
        #expect(shown.mapValues { $0.replacingOccurrences(of: ",", with: "") } == expected)
        #expect(shown["EUR committed"] == "1,234,567.50")
        #expect(shown["KZT committed"] == "8,998,999.90")
        // An event appended by another process after the server read the state is folded in by
        // the next request, and counted once, in the totals and in the log.
        let rows = { (page: HTTPReply) in page.text.components(separatedBy: "<tr data-event-id=").count - 1 }
        #expect(rows(try http(server.port, "GET", "/events?type=finance.disbursed.v1")) == 1)
        // A search that is not UTF-8 is refused, not read as no filter (which showed the whole log).
        #expect(try http(server.port, "GET", "/events?q=%ff%fe").status == 400)
        try append(journal, "finance.disbursed.v1", "funding/kz-grant", #"{"provider":"kz-miid","receiver":"eib","amount":"1.10","currency":"KZT","date":"2024-06-01"}"#)
        for _ in 0..<2 {
            #expect(Self.totals(in: try http(server.port, "GET", "/").text)["KZT disbursed"] == "1.10")
            let log = try http(server.port, "GET", "/events?type=finance.disbursed.v1")
            #expect(rows(log) == 2)
        }
        let newest = try http(server.port, "GET", "/events")
        #expect(newest.text.components(separatedBy: "<tr data-event-id=").dropFirst().first?.contains("finance.disbursed.v1") == true)
    }

    @Test func disbursementRecordedThroughTheFormAppearsInTheLogAndTheTotals() throws {
        let temp = TemporaryDirectory("ui-record")
        defer { temp.remove() }
        let journal = try webJournal(temp)
        try append(journal, "finance.committed.v1", "funding/eib-h2", #"{"provider":"eib","receiver":"kz-miid","amount":"1000000","currency":"EUR","date":"2024-01-05"}"#)
        let server = try UIServer(journal: journal, scratch: temp)
        defer { server.stop() }
        let form = try http(server.port, "GET", "/record/finance.disbursed.v1")
        #expect(form.status == 200)
        #expect(form.text.contains(#"id="field-amount""#) && form.text.contains(#"id="submit""#))
        let session = try #require(form.sessionCookie)
        let csrf = try #require(Self.csrf(in: form.text))
        let posted = try http(server.port, "POST", "/record/finance.disbursed.v1", cookie: session, form: [
            ("csrf", csrf), ("subject", "funding/eib-h2"), ("provider", "eib"), ("receiver", "kz-miid"),
            ("amount", "250000.75"), ("currency", "EUR"), ("date", "2024-06-30")])
        #expect(posted.status == 303)
        let location = try #require(posted.header("location"))
        #expect(location.hasPrefix("/events/"))
        let id = String(location.dropFirst("/events/".count))
        let log = try http(server.port, "GET", "/events", cookie: session)
        #expect(log.text.contains(#"<tr data-event-id="\#(id)">"#))
        // Newest first: the disbursement is the first row.
        #expect(log.text.range(of: "data-event-id=")?.lowerBound == log.text.range(of: #"data-event-id="\#(id)""#)?.lowerBound)
        #expect(try http(server.port, "GET", location, cookie: session).status == 200)
        #expect(Self.totals(in: try http(server.port, "GET", "/", cookie: session).text)["EUR disbursed"] == "250,000.75")
        // The same event is in the journal, recorded by the site's default actor.
        #expect(try Self.record(id, in: journal).contains(#""actor":"brussels""#))
    }

    /// After `accord import iati` of the EU file, a funding whose receiver the file does not name
    /// (`unspecified`, Journal/Import.md) takes a disbursement through the form, naming the same
    /// parties as its commitment (Format.md §9.6); the dashboard's totals and chart count it.
    @Test func disbursementToAnImportedFundingWithAnUnspecifiedReceiverIsRecordedThroughTheForm() throws {
        let temp = TemporaryDirectory("ui-unspecified")
        defer { temp.remove() }
        let journal = try webJournal(temp)
        let imported = try AccordExecutable.run(["import", "iati", try Fixtures.sharedDataFile("iati/eu-intpa-activities-2021-05-26.xml"), "--journal", journal])
        try #require(imported.status == 0, "\(imported.stderr)")
        let log = try AccordExecutable.run(["log", "--json", "--journal", journal]).output
        let commitments = log.split(separator: "\n").compactMap { line -> [String: Any]? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["type"] as? String == "finance.committed.v2",
                  (object["data"] as? [String: Any])?["receiver"] as? String == "unspecified" else { return nil }
            return object
        }
        let commitment = try #require(commitments.first, "the EU file has a commitment without a receiver")
        let subject = try #require(commitment["subject"] as? String)
        let provider = try #require((commitment["data"] as? [String: Any])?["provider"] as? String)
        let server = try UIServer(journal: journal, scratch: temp)
        defer { server.stop() }
        let before = Self.totals(in: try http(server.port, "GET", "/").text)["EUR disbursed"]
        let form = try http(server.port, "GET", "/record/finance.disbursed.v1")
        let session = try #require(form.sessionCookie)
        let posted = try http(server.port, "POST", "/record/finance.disbursed.v1", cookie: session, form: [
            ("csrf", try #require(Self.csrf(in: form.text))), ("subject", subject), ("provider", provider), ("receiver", "unspecified"),
            ("amount", "1000000.50"), ("currency", "EUR"), ("date", "2021-03-01")])
        #expect(posted.status == 303, "\(posted.text.components(separatedBy: "class=\"error\"").dropFirst().first?.prefix(300) ?? "")")
        let dashboard = try http(server.port, "GET", "/", cookie: session).text
        #expect(before == "349,153,303.29")
        #expect(Self.totals(in: dashboard)["EUR disbursed"] == "350,153,303.79")
        #expect(dashboard.contains("disbursed 350,153,303.79 EUR"))  // the chart's description
    }

    @Test func eventPageShowsWhatItChangedAndItsCorrectionRetractsIt() throws {
        let temp = TemporaryDirectory("ui-event-page")
        defer { temp.remove() }
        let journal = try webJournal(temp)
        try append(journal, "finance.committed.v1", "funding/eib-h2", #"{"provider":"eib","receiver":"kz-miid","amount":"1000000","currency":"EUR","date":"2024-01-05"}"#)
        try append(journal, "finance.disbursed.v1", "funding/eib-h2", #"{"provider":"eib","receiver":"kz-miid","amount":"4000.50","currency":"EUR","date":"2024-02-05"}"#)
        let server = try UIServer(journal: journal, scratch: temp)
        defer { server.stop() }
        let log = try http(server.port, "GET", "/events?type=finance.disbursed.v1")
        let id = try #require(log.text.components(separatedBy: #"data-event-id=""#).dropFirst().first.map { String($0.prefix(64)) })
        let page = try http(server.port, "GET", "/events/" + id)
        #expect(page.status == 200)
        let changes = try #require(page.text.components(separatedBy: "\n").first { $0.contains(#"<th scope="row">Disbursed</th>"#) })
        #expect(changes == #"<tr><th scope="row">Disbursed</th><td>—</td><td>4,000.50 EUR</td><td>changed</td></tr>"#)
        #expect(page.text.contains("verifies under the key of site &#39;brussels&#39;"))
        #expect(page.text.contains("&quot;amount&quot;:&quot;4000.50&quot;"))
        // "Correct this event": the retraction form comes filled in; recording it takes the
        // disbursement out of the totals.
        let link = try #require(page.text.components(separatedBy: #"<a id="correct" href=""#).dropFirst().first?.prefix { $0 != "\"" })
        let form = try http(server.port, "GET", String(link).replacingOccurrences(of: "&amp;", with: "&"))
        #expect(form.text.contains(#"id="field-event" aria-describedby="hint-event" required value="\#(id)""#))
        let session = try #require(form.sessionCookie)
        let posted = try http(server.port, "POST", "/record/event.retracted.v1", cookie: session, form: [
            ("csrf", try #require(Self.csrf(in: form.text))), ("subject", "funding/eib-h2"), ("event", id), ("reason", "Recorded twice")])
        #expect(posted.status == 303)
        #expect(Self.totals(in: try http(server.port, "GET", "/", cookie: session).text)["EUR disbursed"] == "0")
    }

    @Test func badAmountIsRefusedBesideItsFieldAndTheJournalIsUnchanged() throws {
        let temp = TemporaryDirectory("ui-bad-amount")
        defer { temp.remove() }
        let journal = try webJournal(temp)
        try append(journal, "finance.committed.v1", "funding/eib-h2", #"{"provider":"eib","receiver":"kz-miid","amount":"1000000","currency":"EUR","date":"2024-01-05"}"#)
        let server = try UIServer(journal: journal, scratch: temp)
        defer { server.stop() }
        let before = try Self.segments(journal)
        let form = try http(server.port, "GET", "/record/finance.disbursed.v1")
        let session = try #require(form.sessionCookie)
        let csrf = try #require(Self.csrf(in: form.text))
        let posted = try http(server.port, "POST", "/record/finance.disbursed.v1", cookie: session, form: [
            ("csrf", csrf), ("subject", "eib-h2"), ("provider", "eib"), ("receiver", "kz-miid"),
            ("amount", "12,5O"), ("currency", "EUR"), ("date", "2024-06-30")])
        #expect(posted.status == 422)
        #expect(posted.text.contains(#"<p id="error-amount" class="error">"#))
        let input = try #require(posted.text.components(separatedBy: "\n").first { $0.contains(#"id="field-amount""#) })
        #expect(input.contains(#"aria-invalid="true""#) && input.contains(#"aria-describedby="error-amount"#))
        // The values are kept.
        #expect(input.contains(#"value="12,5O""#))
        #expect(posted.text.contains(#"id="field-date" aria-describedby="hint-date" required value="2024-06-30""#))
        #expect(try Self.segments(journal) == before)
        // A whole-event refusal (a disbursement of a funding never committed) goes beside the subject.
        let unknown = try http(server.port, "POST", "/record/action.completed.v1", cookie: session, form: [("csrf", csrf), ("subject", "action/nothing")])
        #expect(unknown.status == 422 && unknown.text.contains(#"id="error-subject""#))
        #expect(try Self.segments(journal) == before)
        // A stakeholder that is not registered goes beside the field that names it.
        let ghost = try http(server.port, "POST", "/record/finance.disbursed.v1", cookie: session, form: [
            ("csrf", csrf), ("subject", "eib-h2"), ("provider", "nobody"), ("receiver", "kz-miid"),
            ("amount", "12.50"), ("currency", "EUR"), ("date", "2024-06-30")])
        #expect(ghost.status == 422 && ghost.text.contains(#"<p id="error-provider" class="error">"#) && !ghost.text.contains(#"id="error-form""#))
        #expect(try Self.segments(journal) == before)
    }

    @Test func postWithoutOrWithAWrongCSRFTokenIsForbiddenAndWritesNothing() throws {
        let temp = TemporaryDirectory("ui-csrf")
        defer { temp.remove() }
        let journal = try webJournal(temp)
        let server = try UIServer(journal: journal, scratch: temp)
        defer { server.stop() }
        let before = try Self.segments(journal)
        let form = try http(server.port, "GET", "/record/stakeholder.registered.v1")
        let session = try #require(form.sessionCookie)
        let good = try #require(Self.csrf(in: form.text))
        let fields = [("subject", "stakeholder/new-org"), ("name", "New"), ("kind", "research"), ("country", "KZ")]
        // Another session's token is as wrong as a made-up one.
        let other = try #require(Self.csrf(in: try http(server.port, "GET", "/record/stakeholder.registered.v1").text))
        for (cookie, token) in [(session, nil), (session, String(repeating: "0", count: 64)), (session, other), (nil, good)] as [(String?, String?)] {
            let posted = try http(server.port, "POST", "/record/stakeholder.registered.v1", cookie: cookie, form: fields + (token.map { [("csrf", $0)] } ?? []))
            #expect(posted.status == 403, "token \(String(describing: token)), cookie \(cookie != nil)")
        }
        #expect(try http(server.port, "POST", "/logout", cookie: session, form: []).status == 403)
        #expect(try Self.segments(journal) == before)
        // The right token with its session is accepted.
        #expect(try http(server.port, "POST", "/record/stakeholder.registered.v1", cookie: session, form: fields + [("csrf", good)]).status == 303)
        #expect(try Self.segments(journal) != before)
    }

    @Test func damagedJournalGivesAnErrorPageAndTheServerGoesOn() throws {
        let temp = TemporaryDirectory("ui-damaged")
        defer { temp.remove() }
        let journal = try webJournal(temp)
        try append(journal, "stakeholder.registered.v1", "stakeholder/third", #"{"name":"Third","kind":"research","country":"KZ"}"#)
        let segment = journal + "/segments/" + (try #require(try FileManager.default.contentsOfDirectory(atPath: journal + "/segments").sorted().first))
        // A byte in the middle of the first batch: damage before the last member, never repaired.
        try FileDamage.flip(segment, at: 30)
        let server = try UIServer(journal: journal, scratch: temp)
        defer { server.stop() }
        for path in ["/", "/events"] {
            let page = try http(server.port, "GET", path)
            #expect(page.status == 500, "\(path)")
            #expect(page.text.contains(#"<p id="error-form" class="error">"#), "\(path): \(page.text.prefix(300))")
        }
        #expect(try http(server.port, "GET", "/record").status == 200)
    }

    @Test func offLoopbackWithoutTLSAndUsersTheServerRefusesToStart() throws {
        let temp = TemporaryDirectory("ui-refuse")
        defer { temp.remove() }
        let journal = try webJournal(temp)
        let plain = try AccordExecutable.run(["ui", "--listen", "0.0.0.0:0", "--journal", journal])
        #expect(plain.status == 2)
        #expect(plain.stderr.contains("--tls-cert") && plain.output.isEmpty, "\(plain.stderr)")
        // With a certificate but no users file, still refused; and --login on loopback needs users.
        let certificate = try Self.selfSigned(temp)
        let noUsers = try AccordExecutable.run(["ui", "--listen", "0.0.0.0:0", "--tls-cert", certificate.cert, "--tls-key", certificate.key, "--journal", journal])
        #expect(noUsers.status == 2 && noUsers.stderr.contains("ui user add"), "\(noUsers.stderr)")
        let login = try AccordExecutable.run(["ui", "--login", "--listen", "127.0.0.1:0", "--journal", journal])
        #expect(login.status == 2 && login.stderr.contains("ui user add"), "\(login.stderr)")
    }

    @Test func wrongPasswordGetsNoSessionAndTheRightOneRecordsAsThatActor() throws {
        let temp = TemporaryDirectory("ui-login")
        defer { temp.remove() }
        let journal = try webJournal(temp)
        let added = try AccordExecutable.run(["ui", "user", "add", "amina", "--journal", journal], input: Array("correct horse\n".utf8))
        #expect(added.status == 0, "\(added.stderr)")
        let line = try String(contentsOfFile: journal + "/" + WebUsers.fileName, encoding: .utf8)
        #expect(line.hasPrefix("amina:$2b$\(WebUsers.bcryptCost)$") && !line.contains("correct horse"))
        let server = try UIServer(journal: journal, scratch: temp, options: ["--login"])
        defer { server.stop() }
        // Without a session every page leads to the login form.
        let first = try http(server.port, "GET", "/")
        #expect(first.status == 303 && first.header("location") == "/login")
        let login = try http(server.port, "GET", "/login")
        let anonymous = try #require(login.sessionCookie)
        let csrf = try #require(Self.csrf(in: login.text))
        #expect(login.text.contains(#"id="field-name""#) && login.text.contains(#"id="field-password""#) && login.text.contains(#"id="submit""#))
        let wrong = try http(server.port, "POST", "/login", cookie: anonymous, form: [("csrf", csrf), ("name", "amina"), ("password", "wrong horse")])
        #expect(wrong.status == 401 && wrong.sessionCookie == nil)
        #expect(try http(server.port, "GET", "/", cookie: anonymous).status == 303)
        let right = try http(server.port, "POST", "/login", cookie: anonymous, form: [("csrf", csrf), ("name", "amina"), ("password", "correct horse")])
        #expect(right.status == 303)
        let session = try #require(right.sessionCookie)
        #expect(session != anonymous)
        let cookieLine = try #require(right.header("set-cookie"))
        #expect(cookieLine.contains("HttpOnly") && cookieLine.contains("SameSite=Strict") && !cookieLine.contains("Secure"))
        let form = try http(server.port, "GET", "/record/stakeholder.registered.v1", cookie: session)
        #expect(form.status == 200)
        let token = try #require(Self.csrf(in: form.text))
        let posted = try http(server.port, "POST", "/record/stakeholder.registered.v1", cookie: session, form: [
            ("csrf", token), ("subject", "new-org"), ("name", "New"), ("kind", "research"), ("country", "KZ")])
        #expect(posted.status == 303)
        let id = String(try #require(posted.header("location")).dropFirst("/events/".count))
        #expect(try Self.record(id, in: journal).contains(#""actor":"amina""#))
        // Logging out ends the session.
        #expect(try http(server.port, "POST", "/logout", cookie: session, form: [("csrf", token)]).status == 303)
        #expect(try http(server.port, "GET", "/", cookie: session).status == 303)
    }

    @Test func everyPageEscapesAScriptNameAndStaysUnder200KBWithTheEUIATIFile() throws {
        let iati = "../shared/data/iati/eu-intpa-activities-2021-05-26.xml"
        let file = FileManager.default.fileExists(atPath: iati) ? iati : "/work/shared/data/iati/eu-intpa-activities-2021-05-26.xml"
        try #require(FileManager.default.fileExists(atPath: file), "the EU IATI file is read from ../shared/data/")
        let temp = TemporaryDirectory("ui-escape")
        defer { temp.remove() }
        let journal = try webJournal(temp)
        let imported = try AccordExecutable.run(["import", "iati", file, "--journal", journal])
        #expect(imported.status == 0, "\(imported.stderr)")
        let evil = "<script>alert(\"x\")</script>"
        try append(journal, "stakeholder.registered.v1", "stakeholder/evil", #"{"name":"<script>alert(\"x\")</script>","kind":"research","country":"KZ"}"#)
        try append(journal, "action.proposed.v1", "action/evil-action", #"{"title":"<script>alert(1)</script> & more","pillar":"value-chain-integration","due":"2020-01-01","leads":["evil"]}"#)
        try append(journal, "industry.project.registered.v1", "project/evil-plant", #"{"name":"<script>p</script>","sponsor":"evil","valueChain":"batteries","country":"KZ"}"#)
        try append(journal, "finance.committed.v1", "funding/evil-fund", #"{"provider":"evil","receiver":"evil","amount":"10","currency":"EUR","date":"2024-01-05"}"#)
        let server = try UIServer(journal: journal, scratch: temp)
        defer { server.stop() }
        let log = try http(server.port, "GET", "/events")
        let firstID = try #require(log.text.range(of: #"data-event-id=""#).map { String(log.text[$0.upperBound...].prefix(64)) })
        let evilEvent = try #require(try http(server.port, "GET", "/events?subject=stakeholder/evil").text.range(of: #"data-event-id=""#)
            .map { _ in String(try http(server.port, "GET", "/events?subject=stakeholder/evil").text.components(separatedBy: #"data-event-id=""#)[1].prefix(64)) })
        let pages = ["/", "/events", "/events?page=2", "/events?q=script", "/events/\(firstID)", "/events/\(evilEvent)",
                     "/stakeholders/evil", "/fundings/evil-fund", "/actions/evil-action", "/projects/evil-plant",
                     "/record", "/record/finance.disbursed.v1", "/record/funding.described.v1",
                     "/record/stakeholder.registered.v1?name=%3Cscript%3E", "/login"]
        for page in pages {
            let reply = try http(server.port, "GET", page)
            #expect(reply.status == 200, "\(page)")
            #expect(reply.body.count <= WebServer.maxPageBytes, "\(page): \(reply.body.count) bytes")
            #expect(!reply.text.contains("<script"), "\(page) holds an unescaped <script")
            #expect(reply.text.contains("<title>") && reply.text.contains(#"<html lang="en">"#), "\(page)")
        }
        #expect(try http(server.port, "GET", "/stakeholders/evil").text.contains(HTMLEscaped.script))
        #expect(!evil.isEmpty)
        // The log pages: 50 rows and a next link on the first page.
        #expect(log.text.components(separatedBy: "<tr data-event-id=").count - 1 == 50)
        #expect(log.text.contains(#"rel="next""#) && log.text.contains(#"<nav aria-label="pages">"#))
        // The overdue action is marked with the word.
        #expect(try http(server.port, "GET", "/").text.contains("overdue</strong>"))
    }

    @Test func loginAndLogoutOverTLSSetASecureCookie() throws {
        let temp = TemporaryDirectory("ui-tls")
        defer { temp.remove() }
        let journal = try webJournal(temp)
        #expect(try AccordExecutable.run(["ui", "user", "add", "amina", "--journal", journal], input: Array("pw-1234\n".utf8)).status == 0)
        let certificate = try Self.selfSigned(temp)
        let server = try UIServer(journal: journal, scratch: temp, options: ["--tls-cert", certificate.cert, "--tls-key", certificate.key, "--login"], scheme: "https")
        defer { server.stop() }
        // curl as the browser: its cookie jar, the self-signed certificate trusted.
        let jar = temp.child("jar"), base = "https://127.0.0.1:\(server.port)"
        let curl = "curl -sS --cacert '\(certificate.cert)' -b '\(jar)' -c '\(jar)'"
        let page = try shellOutput("\(curl) \(base)/login")
        let csrf = try #require(Self.csrf(in: page))
        let headers = try shellOutput("\(curl) -D - -o /dev/null --data-urlencode 'csrf=\(csrf)' --data-urlencode 'name=amina' --data-urlencode 'password=pw-1234' \(base)/login")
        #expect(headers.contains("303"))
        let cookie = try #require(headers.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix("set-cookie:") })
        #expect(cookie.contains("; Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
        let dashboard = try shellOutput("\(curl) \(base)/")
        #expect(dashboard.contains("<h1>Dashboard</h1>") && dashboard.contains("Signed in as amina"))
        let token = try #require(Self.csrf(in: dashboard))
        let out = try shellOutput("\(curl) -D - -o /dev/null --data-urlencode 'csrf=\(token)' \(base)/logout")
        #expect(out.contains("303") && out.lowercased().contains("location: /login"))
        #expect(try shellOutput("\(curl) -D - -o /dev/null \(base)/").lowercased().contains("location: /login"))
    }

    // MARK: Helpers

    enum HTMLEscaped {
        static let script = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
    }

    /// A journal of site `brussels` with two stakeholders.
    func webJournal(_ temp: TemporaryDirectory) throws -> String {
        let path = temp.child("journal")
        let made = try AccordExecutable.run(["init", "--site", "brussels", "--journal", path])
        #expect(made.status == 0, "\(made.stderr)")
        try append(path, "stakeholder.registered.v1", "stakeholder/eib", #"{"name":"European Investment Bank","kind":"financial","country":"EU"}"#)
        try append(path, "stakeholder.registered.v1", "stakeholder/kz-miid", #"{"name":"Ministry of Industry","kind":"government","country":"KZ"}"#)
        return path
    }

    func append(_ journal: String, _ type: String, _ subject: String, _ data: String) throws {
        let result = try AccordExecutable.run(["append", type, "--subject", subject, "--data", data, "--journal", journal])
        #expect(result.status == 0, "\(result.stderr)")
    }

    /// The stored record of event `id` (`accord log --json`), or "" when it is not there.
    static func record(_ id: String, in journal: String) throws -> String {
        let log = try AccordExecutable.run(["log", "--json", "--journal", journal])
        return log.output.split(separator: "\n").first { $0.contains(#""id":"\#(id)""#) }.map(String.init) ?? ""
    }

    /// Every segment file's bytes.
    static func segments(_ journal: String) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: journal + "/segments") {
            out[name] = try FileDamage.bytes(journal + "/segments/" + name)
        }
        return out
    }

    /// `"EUR committed"` → the text of its `<dd>`.
    static func totals(in html: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in html.components(separatedBy: "<dd data-currency=\"").dropFirst() {
            let currency = part.prefix { $0 != "\"" }
            guard let measureStart = part.range(of: "data-measure=\"") else { continue }
            let measure = part[measureStart.upperBound...].prefix { $0 != "\"" }
            guard let close = part.range(of: "\">"), let end = part.range(of: "</dd>") else { continue }
            out["\(currency) \(measure)"] = String(part[close.upperBound..<end.lowerBound])
        }
        return out
    }

    static func csrf(in html: String) -> String? {
        guard let range = html.range(of: #"name="csrf" value=""#) else { return nil }
        let token = String(html[range.upperBound...].prefix { $0 != "\"" })
        return token.isEmpty ? nil : token
    }

    /// A self-signed server certificate for 127.0.0.1 and its key (openssl).
    static func selfSigned(_ temp: TemporaryDirectory) throws -> (cert: String, key: String) {
        let cert = temp.child("server.pem"), key = temp.child("server.key")
        let out = try shellOutput("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '\(key)' -out '\(cert)' 2>&1; echo status=$?")
        try #require(out.contains("status=0"), "openssl: \(out)")
        return (cert, key)
    }
}

/// Runs `/bin/sh -c command` and returns its standard output.
func shellOutput(_ command: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// An `accord ui` child process on 127.0.0.1 and the port it printed.
final class UIServer {
    let process: Process
    let port: Int
    /// The file its standard output goes to.
    let output: String

    init(journal: String, scratch: TemporaryDirectory, options: [String] = [], scheme: String = "http") throws {
        let out = scratch.child("ui-\(UUID().uuidString.prefix(8)).out")
        output = out
        FileManager.default.createFile(atPath: out, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: AccordExecutable.path)
        process.arguments = ["ui", "--listen", "127.0.0.1:0", "--journal", journal] + options
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "ACCORD_ACTOR")
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = FileHandle.nullDevice
        try process.run()
        var found: Int?
        // Waits for the first line; a deadline only for a server that never starts.
        for _ in 0..<1200 where found == nil && process.isRunning {
            usleep(50_000)
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n", omittingEmptySubsequences: false).first, text.contains("\n"),
               line.hasPrefix("Listening on \(scheme)://127.0.0.1:") {
                found = Int(line.split(separator: ":").last ?? "")
            }
        }
        guard let found else {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            throw UIDidNotStart(description: "accord ui did not print 'Listening on \(scheme)://127.0.0.1:PORT'; it printed: \(((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").debugDescription)")
        }
        port = found
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

/// `accord ui` did not print the address it listens on.
struct UIDidNotStart: Error, CustomStringConvertible {
    var description: String
}

/// One HTTP/1.1 answer.
struct HTTPReply {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The session cookie set by this answer, as `name=value`.
    var sessionCookie: String? {
        guard let line = header("set-cookie"), line.hasPrefix("accord_session="), !line.hasPrefix("accord_session=;") else { return nil }
        return String(line.prefix { $0 != ";" })
    }
}

/// Sends one request to 127.0.0.1:`port` over a new connection (`Connection: close`) and reads
/// the answer to the end.
func http(_ port: Int, _ method: String, _ path: String, cookie: String? = nil, form: [(String, String)]? = nil) throws -> HTTPReply {
    var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
    if let cookie { request += "Cookie: \(cookie)\r\n" }
    var body: [UInt8] = []
    if let form {
        body = Array(form.map { formEncode($0.0) + "=" + formEncode($0.1) }.joined(separator: "&").utf8)
        request += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.count)\r\n"
    }
    let bytes = Array((request + "\r\n").utf8) + body
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    try #require(fd >= 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    try #require(connected == 0, "cannot connect to 127.0.0.1:\(port)")
    var sent = 0
    while sent < bytes.count {
        let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        try #require(n > 0)
        sent += n
    }
    var answer: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        answer += buffer[..<n]
    }
    let separator: [UInt8] = [13, 10, 13, 10]
    let split = try #require((0..<max(0, answer.count - 3)).first { answer[$0..<($0 + 4)].elementsEqual(separator) }, "no HTTP answer")
    let head = String(decoding: answer[..<split], as: UTF8.self).components(separatedBy: "\r\n")
    let status = Int(head[0].split(separator: " ")[1]) ?? 0
    let headers = head.dropFirst().compactMap { line -> (String, String)? in
        guard let colon = line.firstIndex(of: ":") else { return nil }
        return (String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
    }
    return HTTPReply(status: status, headers: headers, body: Array(answer[(split + 4)...]))
}

func formEncode(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
        if (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte == 0x2d || byte == 0x2e || byte == 0x5f {
            out.unicodeScalars.append(Unicode.Scalar(byte))
        } else {
            out += String(format: "%%%02X", byte)
        }
    }
    return out
}
