import AccordReliability
import AccordTesting
import Testing

@Suite("Crash campaign: commands killed at random moments lose nothing acknowledged")
struct CrashCampaignTests {
    /// The short CI run of `accord-crash` (Tools/Reliability.md): 30 kills over two worlds.
    @Test func thirtyRandomKillsLoseNoAcknowledgedEventAndInventNone() throws {
        let temp = TemporaryDirectory("crash")
        var settings = CrashCampaign.Settings(accord: AccordExecutable.path, scratch: temp.path, seeds: [9001, 9002], runsPerSeed: 15)
        settings.keepFailedWorlds = false
        let counts = try CrashCampaign.run(settings)
        print("Crash campaign (CI):\n\(counts)")
        #expect(counts.kills == 30)
        #expect(counts.lost == 0)
        #expect(counts.phantom == 0)
        #expect(counts.duplicates == 0)
        #expect(counts.partialBatches == 0)
        #expect(counts.verifyFailures == 0)
        #expect(counts.worldsConverged == 2)
        #expect(counts.failures.isEmpty, "\(counts.failures)")
    }

    @Test func onlyTornTailProblemsCountAsATornTail() {
        let torn = "Journal 'x': 1 segment\n  ✗ Incomplete or damaged last batch at byte 10 of 'segments/00000001.gz' (5 bytes: short); the next append cuts it off into quarantine.\n"
        let damaged = torn + "  ✗ Damaged data at byte 3 of 'segments/00000001.gz'\n"
        #expect(CrashCampaign.World.onlyTornTail(torn))
        #expect(!CrashCampaign.World.onlyTornTail(damaged))
        #expect(!CrashCampaign.World.onlyTornTail("OK: every checksum, chain and signature is valid.\n"))
    }
}
