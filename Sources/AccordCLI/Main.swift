import ArgumentParser
import Glibc

/// Entry point: parse, run one command, map errors to exit codes (ExitCodes.swift).
@main
enum Main {
    static func main() async {
        signal(SIGPIPE, SIG_IGN)
        // A parent may have started us with signals blocked (a blocked mask is inherited):
        // SIGINT and SIGTERM must stop 'log --follow' and 'serve'.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        sigaddset(&unblock, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &unblock, nil)
        // … or with them ignored (an ignored disposition is inherited too). 'serve' installs its
        // own handlers for a graceful shutdown.
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        // ArgumentParser hands over Strings, which would carry U+FFFD in place of bytes that
        // are not UTF-8: check the bytes of every argument before anything reads them.
        if let refusal = ArgumentBytes.firstInvalidUTF8() {
            printError("accord: \(refusal)")
            exit(ExitStatus.badInput.rawValue)
        }
        do {
            var command = try Accord.parseAsRoot()
            // 'sync' over HTTP is async (AsyncHTTPClient); every other command runs as before.
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
            standardOutput.flush()
            exit(ExitStatus.success.rawValue)
        } catch {
            standardOutput.flush()
            if let error = error as? any ReportedError {
                printError("accord: \(error)")
                exit(error.exitStatus.rawValue)
            }
            let code = Accord.exitCode(for: error)
            if code == .success {
                Accord.exit(withError: error)  // --help, --version
            }
            if code == .validationFailure || error is ValidationError {
                printError(Accord.fullMessage(for: error))
                exit(ExitStatus.badInput.rawValue)
            }
            printError("accord: \(Accord.fullMessage(for: error))")
            exit(code == .failure ? ExitStatus.internalError.rawValue : ExitStatus.badInput.rawValue)
        }
    }
}

struct Accord: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accord",
        abstract: "An event-sourced record of a partnership between distant offices.",
        discussion: """
            The journal is a directory: --journal DIR, else $ACCORD_JOURNAL, else \
            $XDG_DATA_HOME/accord/journal (~/.local/share/accord/journal).

            Exit codes (the same for every subcommand):
              0  success
              1  internal error (a bug)
              2  bad input or usage; nothing was written
              3  the journal is damaged (see 'accord verify')
              4  another process holds the journal's writer lock
              5  a file could not be read or written (disk full, I/O error)

            Environment: ACCORD_JOURNAL (the journal), ACCORD_ACTOR (who records), \
            ACCORD_LOCK_TIMEOUT (seconds to wait for another writer; default 30).
            """,
        version: "0.1.0",
        subcommands: [Init.self, Append.self, Log.self, Show.self, Verify.self, StateCommand.self, SnapshotCommand.self, Report.self, Conflicts.self,
                      CatalogueCommand.self,
                      Import.self, Export.self, SyncCommand.self, BundleCommand.self, Serve.self, Status.self, Peer.self, Keys.self, Restored.self,
                      Forks.self, MirrorCommand.self, CheckpointCommand.self, Prove.self, UI.self]
    )
}
