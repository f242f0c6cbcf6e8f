@testable import AccordCLI
import AccordSync
import Testing

/// `accord sync` with a URL exits as it always has for each answer of the server: 409 → 3,
/// 503 → 4, another 4xx → 2, anything else or no answer → 5 — derived from the code the client
/// reads back from the status, not from the status.
@Suite("Exit codes of HTTP sync")
struct SyncExitStatusTests {
    @Test(arguments: 100..<600)
    func aRefusalExitsAsItsStatusAlwaysDid(status: Int) {
        let expected: AccordCLI.ExitStatus = switch status {
        case 409: .damaged
        case 503: .busy
        case 400..<500: .badInput
        default: .io
        }
        #expect(ExitStatus.of(SyncError(SyncError.Code(httpStatus: status), "refused", httpStatus: status)) == expected)
    }

    @Test func whatOnlyAClientSeesIsAnIOFailure() {
        for code in [SyncError.Code.noAnswer, .notAnAccordServer, .untrustedServer, .answerTooLarge] {
            #expect(ExitStatus.of(SyncError(code, "")) == .io)
        }
    }
}
