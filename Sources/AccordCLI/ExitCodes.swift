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

    /// Maps any error to its exit status.
    static func of(_ error: any Error) -> ExitStatus {
        switch error {
        case let error as SegmentError:
            switch error.code {
            case .corrupt, .tornTail: return .damaged
            case .busy: return .busy
            case .io, .diskFull, .writerUnusable: return .io
            case .notAJournal, .alreadyExists, .invalidRecord, .unsupportedVersion: return .badInput
            default: return .internalError
            }
        case let error as AccordError:
            switch error.code {
            case .badInput, .notFound: return .badInput
            case .damaged, .untrusted: return .damaged
            case .io: return .io
            default: return .internalError
            }
        case let failure as CommandFailure:
            return failure.status
        case let failure as HTTPSync.Failure:
            switch failure.status {
            case 409: return .damaged  // a fork
            case 503: return .busy
            case 400..<500: return .badInput
            default: return .io  // no answer, a server failure, an untrusted server
            }
        default:
            return .internalError
        }
    }
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
