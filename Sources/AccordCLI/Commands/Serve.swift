import AccordModel
import AccordSegments
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
            first line printed names it. Slow or idle connections are closed (--idle-timeout, --request-timeout) and \
            request bodies in flight are bounded in all and per site (--max-buffered, --max-buffered-per-site), as are \
            open connections (--max-connections); see SyncProtocol.md §4.3.3. \
            With --tls, peers connect to https://HOST:PORT: mutual TLS in which each side presents a certificate \
            for its own site key and accepts only the key it trusts for the other (SyncProtocol.md §4.4). \
            Example: accord serve --listen 127.0.0.1:8740
            """)

    @OptionGroup var options: JournalOptions
    @Option(help: "HOST:PORT to listen on.")
    var listen: String = "127.0.0.1:8740"
    @Option(help: "The largest request body accepted, in bytes.")
    var maxBody: Int = 64 << 20
    @Option(help: "Seconds a connection may stay silent (idle, or sending its headers) before it is closed.")
    var idleTimeout: Double = 30
    @Option(help: "Seconds a request's body may take to arrive after its headers (then 408).")
    var requestTimeout: Double = 60
    @Option(help: "Bytes of request bodies held at once across all connections (default: 4 × --max-body, at least 256 MiB); beyond it, 503.")
    var maxBuffered: Int?
    @Flag(help: "Serve mutual TLS pinned to the site keys (peers use https://HOST:PORT) instead of plain HTTP.")
    var tls = false
    @Option(help: "Bytes of request bodies held at once for one signing site (default: 2 × --max-body, at most --max-buffered); beyond it, 503.")
    var maxBufferedPerSite: Int?
    @Option(help: "Connections open at once; one beyond it is closed as soon as it is accepted.")
    var maxConnections: Int = SyncServer.Limits.defaultMaxConnections

    func run() throws {
        let journal = try options.open()
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen must be HOST:PORT, e.g. 127.0.0.1:8740.")
        }
        let host = String(listen[..<colon])
        let writerOptions = try JournalOptions.writerOptions()
        let box = ServeOutcome()
        let done = DispatchSemaphore(value: 0)
        guard maxBody > 0, idleTimeout > 0, requestTimeout > 0, maxConnections > 0, (maxBuffered ?? maxBody) >= maxBody, (maxBufferedPerSite ?? maxBody) >= maxBody else {
            throw ValidationError("--max-body, --idle-timeout, --request-timeout and --max-connections must be positive, and --max-buffered and --max-buffered-per-site at least --max-body.")
        }
        var limits = SyncServer.Limits(maxBody: maxBody, maxBufferedBytes: maxBuffered, maxBufferedBytesPerSite: maxBufferedPerSite)
        limits.maxConnections = maxConnections
        limits.idleTimeout = idleTimeout
        limits.requestTimeout = requestTimeout
        Task {
            do {
                try await SyncServer.run(journal: journal, host: host, port: port, limits: limits, tls: tls, writerOptions: writerOptions) { [tls] bound in
                    writeOut("Listening on \(tls ? "https" : "http")://\(host):\(bound) (site '\(journal.site)', partnership '\(journal.partnership)').\n")
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
