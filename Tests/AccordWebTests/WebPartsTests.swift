import AccordProjections
@testable import AccordWeb
import Testing

/// The web view's parts without a server: sessions, forms, numbers, escaping.
@Suite("accord ui: sessions, forms, numbers and escaping")
struct WebPartsTests {
    @Test func sessionUnusedForTheIdleTimeExpiresAndEachUseRenewsIt() {
        let sessions = Sessions()
        let made = sessions.create(user: "amina", now: 1_000)
        #expect(made.id.utf8.count == 64 && made.session.csrf.utf8.count == 64 && made.id != made.session.csrf)
        // Used just before it would expire: kept, and the idle time starts again.
        #expect(sessions.session(made.id, now: 1_000 + Sessions.idleSeconds)?.user == "amina")
        #expect(sessions.session(made.id, now: 1_000 + 2 * Sessions.idleSeconds)?.user == "amina")
        #expect(sessions.session(made.id, now: 1_001 + 3 * Sessions.idleSeconds) == nil)
        // Gone for good, and an unknown or malformed id is no session.
        #expect(sessions.session(made.id, now: 1_000 + 2 * Sessions.idleSeconds) == nil)
        #expect(sessions.session("abc", now: 1_000) == nil && sessions.session(nil, now: 1_000) == nil)
    }

    @Test func aFloodOfAnonymousVisitorsDropsAnonymousSessionsNotLoggedInOnes() {
        let sessions = Sessions()
        // All within the idle time: none has expired, so the bound decides.
        let user = sessions.create(user: "amina", now: 0)
        let firstAnonymous = sessions.create(user: nil, now: 1)
        var last = firstAnonymous
        for _ in 0..<Sessions.maxSessions { last = sessions.create(user: nil, now: 2) }
        #expect(sessions.session(user.id, now: 3)?.user == "amina")
        #expect(sessions.session(firstAnonymous.id, now: 3) == nil)
        #expect(sessions.session(last.id, now: 3) != nil)
    }

    @Test func formFieldsArePercentDecodedToBytesAndRefusedWhenNotUTF8() throws {
        let form = try #require(FormData(urlEncoded: Array("name=Caf%C3%A9+%3Cb%3E&name=2&empty=&flag".utf8)))
        #expect(form["name"].map { Array($0.utf8) } == Array("Café <b>".utf8))
        #expect(form.all("name").count == 2 && form["empty"] == "" && form["flag"] == "")
        // NFD "é" is another name than NFC "é": looked up by bytes.
        let nfd = try #require(FormData(urlEncoded: Array("e%CC%81=1".utf8)))
        #expect(nfd["\u{E9}"] == nil && nfd["e\u{301}"] == "1")
        #expect(FormData(urlEncoded: Array("name=%E9t%E9".utf8)) == nil)
    }

    @Test func amountsAreGroupedExactlyAndRatiosComputedWithoutFloats() throws {
        #expect(HTML.grouped("1234567.50") == "1,234,567.50")
        #expect(HTML.grouped("-1000") == "-1,000")
        #expect(HTML.grouped("999") == "999")
        #expect(HTML.grouped("123456789012345678.123456789") == "123,456,789,012,345,678.123456789")
        #expect(HTML.grouped(".5") == "0.5")
        let committed = try #require(ExactDecimal("3"))
        let disbursed = try #require(ExactDecimal("1"))
        #expect(Dashboard.percent(disbursed, of: committed) == "33.3 %")
        #expect(Dashboard.percent(try #require(ExactDecimal("2")), of: committed) == "66.7 %")
    }

    @Test func longValuesAreCutBeforeAWholeScalarAndCounted() {
        let text = String(repeating: "a", count: 9) + "é<" + String(repeating: "b", count: 100)
        let shown = EventPages.cut(text, limit: 10)
        // "é" is two bytes from offset 9: the cut falls inside it, so it is cut before it.
        #expect(shown.hasPrefix(String(repeating: "a", count: 9) + " <em>(103 more bytes"))
        #expect(EventPages.cut("<b>", limit: 10) == "&lt;b&gt;")
    }

    /// The dashboard keeps only the first N actions and fundings instead of sorting all of
    /// them (250,000 actions at 1M events): the same elements, in the same order, as a sort.
    @Test func theFirstNOfAnOrderAreWhatASortWouldGiveTiesInTheirOrder() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let values = (0..<Int.random(in: 0...300, using: &generator)).map { index in (key: Int.random(in: 0...40, using: &generator), index: index) }
            for count in [0, 1, 5, 20, 100, 400] {
                let kept = Dashboard.first(count, of: values) { $0.key < $1.key }
                // Ties stay in input order: compare with a sort on (key, index).
                let sorted = values.sorted { ($0.key, $0.index) < ($1.key, $1.index) }.prefix(count)
                #expect(kept.map(\.index) == sorted.map(\.index), "count \(count) of \(values.count)")
            }
        }
    }

    @Test func escapingCoversElementsAndBothQuotes() {
        #expect(HTML.escape(#"<a href="x" title='y'>&</a>"#) == "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;")
        #expect(constantTimeEqual("abc", "abc") && !constantTimeEqual("abc", "abd") && !constantTimeEqual("abc", "abcd"))
    }
}
