import AccordModel
import AccordServer
import AccordSync
import ArgumentParser
import Dispatch

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve this journal to trusted peers over HTTP until SIGINT or SIGTERM.",
        discussion: """
            Peers run 'accord sync --with http://HOST:PORT'. Every request must be signed by a site this \
            journal trusts ('accord peer add'); see Journal/SyncProtocol.md. Port 0 picks a free port; the \
            first line printed names it. Example: accord serve --listen 127.0.0.1:8740
            """)

    @OptionGroup var options: JournalOptions
    @Option(help: "HOST:PORT to listen on.")
    var listen: String = "127.0.0.1:8740"
    @Option(help: "The largest request body accepted, in bytes.")
    var maxBody: Int = 64 << 20

    func run() throws {
        let journal = try options.open()
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen must be HOST:PORT, e.g. 127.0.0.1:8740.")
        }
        let host = String(listen[..<colon])
        let box = ServeOutcome()
        let done = DispatchSemaphore(value: 0)
        let maxBody = self.maxBody
        Task {
            do {
                try await SyncServer.run(journal: journal, host: host, port: port, maxBody: maxBody) { bound in
                    writeOut("Listening on http://\(host):\(bound) (site '\(journal.site)', partnership '\(journal.partnership)').\n")
                    standardOutput.flush()
                }
            } catch {
                box.error = "\(error)"
            }
            done.signal()
        }
        done.wait()
        if let error = box.error { throw CommandFailure(status: .io, message: "The server stopped: \(error)") }
        writeOut("Stopped.\n")
    }
}

final class ServeOutcome: @unchecked Sendable {
    var error: String?
}
