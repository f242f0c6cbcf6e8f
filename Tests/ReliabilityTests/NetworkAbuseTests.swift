import AccordReliability
import AccordTesting
import Testing

@Suite("Network abuse: a served journal under hostile and concurrent clients")
struct NetworkAbuseTests {
    /// The short CI run of `accord-abuse` (Tools/Reliability.md): 10 clients for 5 s.
    @Test func tenClientsForFiveSecondsLeaveTheServerUpBoundedDurableAndConverged() throws {
        let temp = TemporaryDirectory("abuse")
        var settings = NetworkAbuse.Settings(accord: AccordExecutable.path, scratch: temp.path + "/run")
        settings.clients = 10
        settings.seconds = 5
        settings.slowConnectionsPerClient = 5
        // Short server timeouts, so that five seconds see slow connections cut.
        settings.idleTimeout = 1
        settings.requestTimeout = 2
        let report = try NetworkAbuse.run(settings)
        print("Network abuse (CI):\n\(report)")
        #expect(report.serverCrashes == 0)
        #expect(report.serverAnsweredAtEnd)
        #expect(report.acknowledgedButMissing == 0)
        #expect(report.converged)
        #expect(report.hubVerifiedClean)
        #expect(report.validSyncs > 0)
        #expect(report.rssPeakKiB < 512 * 1024)
        #expect(report.slowConnectionsClosedByServer > 0)
        #expect(report.slowLongestHeldSeconds < 5)
        #expect(report.failures.isEmpty, "\(report.failures)")
    }
}
