import AccordTesting
import Foundation
import Testing

// Needs Debian's chromium and chromium-driver and Python's selenium and axe-selenium-python
// (Tools/browser/README.md). Locally without them these tests are reported as skipped, with this
// trait's comment; under CI=true they run and fail, naming what is missing, rather than passing
// silently (as the PostgreSQL mirror tests do).
@Suite("Browser", .serialized,
       .enabled(if: BrowserForTests.shouldRun,
                "needs chromium, chromium-driver (apt) and selenium, axe-selenium-python (pip): .ci/run installs them"))
struct BrowserTests {
    /// The status report of the sample journal with the EU's IATI file and the IEA hydrogen table
    /// imported, opened in Chromium: axe-core finds no serious or critical violation, it weighs at
    /// most 200 KB, and its screenshot is written.
    @Test func theStatusReportOfTheImportedJournalPassesAxeAndWeighsAtMost200KB() throws {
        try BrowserForTests.requireBrowser()
        let temp = TemporaryDirectory("browser")
        let journal = try BrowserForTests.partnershipJournal(temp)
        let report = temp.child("status-report.html")
        let result = try accord(["report", "--html", report], journal: journal)
        #expect(result.status == 0, "\(result.stderr)")
        try BrowserForTests.runScript(["--page", report])
    }

    /// `accord ui` on that journal, in Chromium: the dashboard, a disbursement recorded through
    /// the form and seen in the log and the totals, a bad amount refused beside its field with the
    /// journal's bytes unchanged, every page checked by axe-core and weighed; then a second
    /// `accord ui --login` over TLS with a self-signed certificate: log in and out.
    @Test func theWebViewPassesTheBrowserChecksOverHTTPAndTLS() throws {
        try BrowserForTests.requireBrowser()
        let help = try accord(["ui", "--help"])
        guard help.status == 0 else {
            Issue.record("`accord ui` is not in this build (exit \(help.status)): the browser checks of the web view need it (branch web-ui). \(help.stderr.prefix(300))")
            return
        }
        let temp = TemporaryDirectory("browser-ui")
        let journal = try BrowserForTests.partnershipJournal(temp)
        let funding = try BrowserForTests.committedFunding(journal)

        // The self-signed certificate of this test, for 127.0.0.1 only.
        let cert = temp.child("cert.pem"), key = temp.child("key.pem")
        let openssl = try shell("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 "
                                + "-addext subjectAltName=IP:127.0.0.1 -keyout '\(key)' -out '\(cert)' 2>/dev/null")
        try #require(openssl.status == 0, "openssl could not make the test certificate")
        let password = "correct horse battery staple \(UInt32.random(in: 0...UInt32.max))"
        let passwordFile = temp.child("password")
        try Data(password.utf8).write(to: URL(fileURLWithPath: passwordFile))
        let added = try accord(["ui", "user", "add", "officer"], journal: journal, input: password + "\n")
        try #require(added.status == 0, "accord ui user add failed: \(added.stderr)")

        let plain = try BrowserForTests.startUI(["--journal", journal, "--listen", "127.0.0.1:0"], scratch: temp, scheme: "http")
        defer { plain.process.terminate(); plain.process.waitUntilExit() }
        let tls = try BrowserForTests.startUI(["--journal", journal, "--listen", "127.0.0.1:0", "--login", "--tls-cert", cert, "--tls-key", key],
                                              scratch: temp, scheme: "https")
        defer { tls.process.terminate(); tls.process.waitUntilExit() }
        try BrowserForTests.runScript(["--base", plain.url, "--journal", journal, "--funding", funding,
                                       "--tls-base", tls.url, "--user", "officer", "--password-file", passwordFile])
    }
}

/// What the browser tests need, and how they start `accord ui` and run Tools/browser/check.py.
enum BrowserForTests {
    static let chromium = "/usr/bin/chromium"
    static let chromedriver = "/usr/bin/chromedriver"
    static let inCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// What is missing of Chromium, its driver and the Python packages, empty when nothing is.
    static let missing: [String] = {
        var missing: [String] = []
        if !FileManager.default.isExecutableFile(atPath: chromium) { missing.append("\(chromium) (apt: chromium)") }
        if !FileManager.default.isExecutableFile(atPath: chromedriver) { missing.append("\(chromedriver) (apt: chromium-driver)") }
        if (try? shell("python3 -c 'import selenium, axe_selenium_python' 2>/dev/null").status) != 0 {
            missing.append("python3's selenium and axe-selenium-python (pip)")
        }
        return missing
    }()

    /// Whether the browser tests run: with everything installed, or under CI without it (where
    /// they fail, saying what is missing, instead of being skipped).
    static var shouldRun: Bool { missing.isEmpty || inCI }

    /// Throws, naming what is missing, when the browser cannot run.
    static func requireBrowser() throws {
        guard missing.isEmpty else { throw MissingBrowser(missing: missing) }
    }

    struct MissingBrowser: Error, CustomStringConvertible {
        var missing: [String]
        var description: String {
            "The browser tests cannot run: missing \(missing.joined(separator: ", ")). .ci/run installs them; by hand: "
                + "apt-get install chromium chromium-driver && python3 -m pip install selenium axe-selenium-python."
        }
    }

    /// The sample journal, with the EU's IATI activities and the IEA hydrogen table imported.
    static func partnershipJournal(_ temp: TemporaryDirectory) throws -> String {
        let journal = temp.child("journal")
        try FileManager.default.copyItem(atPath: Fixtures.repositoryRoot + "/Journal/sample", toPath: journal)
        let iati = try accord(["import", "iati", try Fixtures.sharedDataFile("iati/eu-intpa-activities-2021-05-26.xml")], journal: journal)
        try #require(iati.status == 0, "\(iati.stderr)")
        let csv = try accord(["import", "csv", "--map", Fixtures.repositoryRoot + "/Tools/mappings/iea-h2-projects.json",
                              try Fixtures.sharedDataFile("hydrogen/H2Projects.csv")], journal: journal)
        try #require(csv.status == 0, "\(csv.stderr)")
        return journal
    }

    /// Commits money on a funding between two registered stakeholders of the sample journal, and
    /// returns `funding/ID,PROVIDER,RECEIVER,CURRENCY` (a funding of the browser's own, so that
    /// its figures do not depend on the imported file; an imported funding whose receiver is
    /// `unspecified` takes a disbursement too, Format.md §9.6).
    static func committedFunding(_ journal: String) throws -> String {
        let data = #"{"provider":"european-commission","receiver":"kz-government","amount":"2500000.00","currency":"EUR","date":"2024-01-10"}"#
        let result = try accord(["append", "finance.committed.v1", "--subject", "funding/browser-test", "--data", data], journal: journal)
        try #require(result.status == 0, "\(result.stderr)")
        return "funding/browser-test,european-commission,kz-government,EUR"
    }

    /// Starts `accord ui ARGUMENTS` and waits for its first line, `Listening on SCHEME://127.0.0.1:PORT`.
    static func startUI(_ arguments: [String], scratch: TemporaryDirectory, scheme: String) throws -> (process: Process, url: String) {
        let outPath = scratch.child("ui-\(UUID().uuidString.prefix(8)).out")
        FileManager.default.createFile(atPath: outPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: AccordExecutable.path)
        process.arguments = ["ui"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "ACCORD_JOURNAL")
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = process.standardOutput
        try process.run()
        var text = ""
        // Polls for the line the server prints once it listens (up to 60 s, for a loaded machine);
        // the outcome does not depend on how fast it comes.
        for _ in 0..<1200 {
            usleep(50_000)
            text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
            let prefix = "Listening on \(scheme)://127.0.0.1:"
            if let range = text.range(of: prefix) {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits), port > 0, text[range.upperBound...].dropFirst(digits.count).first != nil {
                    return (process, "\(scheme)://127.0.0.1:\(port)")
                }
            }
            if !process.isRunning { break }
        }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        throw ScriptFailed(description: "accord ui \(arguments.joined(separator: " ")) did not print 'Listening on \(scheme)://127.0.0.1:PORT'; it printed: \(text.prefix(600).debugDescription)")
    }

    /// Runs Tools/browser/check.py with `arguments`, prints what it checked, and throws with its
    /// failures unless it exits 0.
    static func runScript(_ arguments: [String]) throws {
        let scratch = TemporaryDirectory("browser-script")
        let outPath = scratch.child("out")
        FileManager.default.createFile(atPath: outPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Fixtures.repositoryRoot + "/Tools/browser/check.py"] + arguments
        var environment = ProcessInfo.processInfo.environment
        if (environment["ACCORD_SCREENSHOTS"] ?? "").isEmpty { environment["ACCORD_SCREENSHOTS"] = Fixtures.repositoryRoot + "/.build/screenshots" }
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = process.standardOutput
        try process.run()
        process.waitUntilExit()
        let output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        print("Tools/browser/check.py \(arguments.first ?? ""):\n" + output)
        guard process.terminationStatus == 0 else {
            let failures = output.split(separator: "\n").filter { $0.hasPrefix("FAIL") || $0.hasPrefix("SETUP") || $0.contains("Error") }
            throw ScriptFailed(description: "Tools/browser/check.py exited \(process.terminationStatus): "
                               + (failures.isEmpty ? String(output.suffix(2000)) : failures.joined(separator: "; ")))
        }
    }

    struct ScriptFailed: Error, CustomStringConvertible {
        var description: String
    }
}
