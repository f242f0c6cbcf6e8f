import AccordMirror
import AccordModel
import AccordSegments
import AccordSync
import ArgumentParser
import Glibc

/// The exit codes of every `accord` subcommand, in one place (README, "Exit codes").
enum ExitStatus: Int32 {
    /// Done.
    case success = 0
    /// A bug or an unexpected failure.
    case internalError = 1
    /// Bad input or usage: nothing was written.
    case badInput = 2
    /// The journal is damaged (verify failed, or damage stopped a read or write).
    case damaged = 3
    /// Another process holds the journal's writer lock.
    case busy = 4
    /// Reading or writing a file failed (disk full, I/O error, permissions).
    case io = 5

    /// Maps any error to its exit status: an error this program reports itself
    /// (``ReportedError``) to its own, anything else to ``internalError``.
    static func of(_ error: any Error) -> ExitStatus {
        (error as? any ReportedError)?.exitStatus ?? .internalError
    }
}

/// An error this program reports itself (`accord: <message>`) with an exit status; other errors
/// (ArgumentParser's) are handed back to ArgumentParser by `Main`.
///
/// These conformances are the one table of exit codes. They switch over the codes' kinds with
/// no `default:`, so a new code of ``SegmentError``, ``AccordError`` or ``SyncError`` does not
/// compile until it is mapped here.
protocol ReportedError: Error {
    /// The exit status of the command that failed with this error.
    var exitStatus: ExitStatus { get }
}

extension SegmentError: ReportedError {
    var exitStatus: ExitStatus {
        switch code.kind {
        case .corrupt, .tornTail: .damaged
        case .busy: .busy
        case .io, .diskFull, .writerUnusable: .io
        case .notAJournal, .alreadyExists, .invalidRecord, .unsupportedVersion: .badInput
        }
    }
}

extension AccordError: ReportedError {
    var exitStatus: ExitStatus {
        switch code.kind {
        case .badInput, .notFound: .badInput
        case .damaged, .fork, .untrusted: .damaged
        case .io: .io
        }
    }
}

extension SyncError: ReportedError {
    /// From the code a client decoded from the server's status (a refusal, read back by
    /// ``SyncError/Code/init(httpStatus:)``) or assigned itself (no answer, an untrusted answer):
    /// a fork is damage, a busy server is busy, other refusals are bad input, and a failed or
    /// missing or untrusted answer is an I/O failure.
    var exitStatus: ExitStatus {
        switch code.kind {
        case .fork: .damaged
        case .busy: .busy
        case .badRequest, .unauthenticated, .untrusted, .noSuchEndpoint, .wrongMethod, .tooSlow, .tooLarge: .badInput
        case .serverFailure, .noAnswer, .notAnAccordServer, .untrustedServer, .answerTooLarge: .io
        }
    }
}

extension MirrorError: ReportedError {
    var exitStatus: ExitStatus {
        switch code.kind {
        case .badTarget, .schemaTooNew: .badInput
        case .fork: .damaged
        case .unreachable, .database: .io
        }
    }
}

extension CommandFailure: ReportedError {
    var exitStatus: ExitStatus { status }
}

/// A failure the CLI itself reports, with its exit status.
struct CommandFailure: Error, CustomStringConvertible {
    var status: ExitStatus
    var message: String
    var description: String { message }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    standardError.write(Array((text + "\n").utf8))
}

/// True when standard error is a terminal (progress is shown only then).
var stderrIsTerminal: Bool { isatty(2) == 1 }
