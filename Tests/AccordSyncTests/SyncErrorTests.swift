import AccordModel
import AccordSegments
import AccordSync
import Testing

/// The one table from sync error codes to HTTP statuses (SyncProtocol.md §4.3).
@Suite("Sync error codes and HTTP statuses")
struct SyncErrorTests {
    @Test func everyStatusAServerSendsReadsBackAsTheCodeThatSentIt() {
        let sent: [(SyncError.Code, Int)] = [
            (.badRequest, 400), (.unauthenticated, 401), (.untrusted, 403), (.noSuchEndpoint, 404), (.wrongMethod, 405),
            (.tooSlow, 408), (.fork, 409), (.tooLarge, 413), (.serverFailure, 500), (.busy, 503),
        ]
        for (code, status) in sent {
            #expect(code.httpStatus == status, "\(code)")
            #expect(SyncError.Code(httpStatus: status) == code, "\(status)")
        }
        for code in [SyncError.Code.noAnswer, .notAnAccordServer, .untrustedServer, .answerTooLarge] { #expect(code.httpStatus == nil) }
    }

    @Test func aStatusNoCodeHasReadsAsTheNearestCode() {
        #expect(SyncError.Code(httpStatus: 418) == .badRequest)
        #expect(SyncError.Code(httpStatus: 502) == .serverFailure)
        #expect(SyncError.Code(httpStatus: 302) == .serverFailure)
    }

    @Test func aServerRefusesJournalFailuresUnderTheirCodes() {
        #expect(SyncError.Code(refusing: AccordError(.untrusted, "")) == .untrusted)
        for code in [AccordError.Code.badInput, .damaged, .notFound, .io] { #expect(SyncError.Code(refusing: AccordError(code, "")) == .badRequest) }
        #expect(SyncError.Code(refusing: SegmentError(.busy, "")) == .busy)
        #expect(SyncError.Code(refusing: SegmentError(.diskFull, "")) == .serverFailure)
    }
}
