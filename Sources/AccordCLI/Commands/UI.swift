import AccordModel
import AccordWeb
import ArgumentParser
import Dispatch

/// `accord ui`: the web view (Journal/UI.md), and `accord ui user add` for its users.
struct UI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Serve the secretariat's web view of this journal: dashboard, log, pages and the record form.",
        discussion: """
            accord ui --journal J [--listen HOST:PORT] serves http://127.0.0.1:8750 by default, with no login on a loopback \
            address. Bound to any other address it needs --tls-cert PEM --tls-key PEM and users ('accord ui user add NAME'); \
            --login asks for a login on loopback too. Port 0 picks a free port; the first line printed names it. \
            See Journal/UI.md.
            """,
        subcommands: [UIServe.self, UIUser.self],
        defaultSubcommand: UIServe.self)
}

struct UIServe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the web view until SIGINT or SIGTERM (the default of 'accord ui').")

    @OptionGroup var options: JournalOptions
    @Option(help: "HOST:PORT to listen on (a loopback address needs no login).")
    var listen: String = "127.0.0.1:\(WebServer.defaultPort)"
    @Option(help: "A PEM server certificate (chain): serve HTTPS.")
    var tlsCert: String?
    @Option(help: "The PEM private key of --tls-cert.")
    var tlsKey: String?
    @Flag(help: "Ask for a login on a loopback address too.")
    var login = false

    func run() throws {
        let journal = try options.open()
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen must be HOST:PORT, e.g. 127.0.0.1:\(WebServer.defaultPort).")
        }
        let host = String(listen[..<colon])
        var settings = WebServer.Options(host: host, port: port)
        settings.tlsCertificate = tlsCert
        settings.tlsKey = tlsKey
        settings.login = login
        settings.defaultActor = environment("ACCORD_ACTOR")
        settings.writerOptions = try JournalOptions.writerOptions()
        // Refuse before listening: TLS and users off loopback.
        _ = try WebServer.checkAccess(settings, users: WebUsers(journalPath: journal.path))
        let box = UIOutcome()
        let done = DispatchSemaphore(value: 0)
        Task { [settings] in
            do {
                try await WebServer.run(journal: journal, options: settings) { bound, scheme in
                    writeOut("Listening on \(scheme)://\(host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host):\(bound)\n")
                    standardOutput.flush()
                } onReady: { said in
                    writeOut(said + "\n")
                    standardOutput.flush()
                }
            } catch let error as AccordError {
                box.accordError = error
            } catch {
                box.error = "\(error)"
            }
            done.signal()
        }
        done.wait()
        if let error = box.accordError { throw error }
        if let error = box.error { throw CommandFailure(status: .io, message: "The web view stopped: \(error)") }
        writeOut("Stopped.\n")
    }
}

struct UIUser: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manage the users of the web view (J/ui/users).",
        subcommands: [UIUserAdd.self])
}

struct UIUserAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a user, or set a user's password: the password is read from standard input.",
        discussion: "Example: printf '%s\\n' \"$PASSWORD\" | accord ui user add amina --journal J. Stored as NAME:BCRYPT-HASH in J/ui/users (Journal/UI.md §5).")

    @OptionGroup var options: JournalOptions
    @Argument(help: "The user's name: the actor of the events they record.")
    var name: String

    func run() throws {
        let journal = try options.open()
        var password = try readInput("-", limit: 4096)
        if password.last == 0x0a { password.removeLast() }
        if password.last == 0x0d { password.removeLast() }
        try WebUsers(journalPath: journal.path).add(name: name, password: password)
        writeOut("User '\(name)' can log in to 'accord ui' of this journal.\n")
    }
}

final class UIOutcome: @unchecked Sendable {
    var accordError: AccordError?
    var error: String?
}
