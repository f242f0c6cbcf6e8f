import AccordModel
import AccordProjections
import AccordSegments
import Dispatch
import Glibc
import HTTPTypes
import Hummingbird
import NIOCore

/// The routes of the web view and what each answers (Journal/UI.md §2–§6).
struct WebSite: Sendable {
    let journal: WebJournal
    let users: WebUsers
    /// Whether every page but `/login` needs a logged-in session.
    let login: Bool
    /// Served over TLS: the cookie is `Secure`.
    let secure: Bool
    let defaultActor: String?
    let sessions = Sessions()

    /// What a request carries once its cookie is looked up.
    struct Visitor: Sendable {
        var sessionID: String?
        var session: Sessions.Session?
        /// A cookie to set on the answer (a new session).
        var setCookie: String?
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/") { request, _ in try await guarded(request) { visitor in try dashboard(visitor) } }
        router.get("/events") { request, _ in try await guarded(request) { visitor in try events(request, visitor) } }
        router.get("/events/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            return try await guarded(request) { visitor in try event(id, visitor) }
        }
        for (path, kind) in [("stakeholders", "stakeholder"), ("fundings", "funding"), ("actions", "action"), ("projects", "project")] {
            router.get("/\(path)/:id") { request, context in
                let id = context.parameters.get("id") ?? ""
                return try await guarded(request) { visitor in try subject(kind: kind, id: id, visitor) }
            }
        }
        router.get("/record") { request, _ in try await guarded(request) { visitor in html("Record an event", RecordForm.list(), visitor) } }
        router.get("/record/:type") { request, context in
            let type = context.parameters.get("type") ?? ""
            return try await guarded(request) { visitor in recordForm(type: type, request: request, visitor) }
        }
        router.post("/record/:type") { request, context in
            let type = context.parameters.get("type") ?? ""
            return try await posted(request) { form, visitor in try record(type: type, form: form, visitor) }
        }
        router.get("/login") { request, _ in try await Self.offload { loginPage(request) } }
        router.post("/login") { request, _ in try await posted(request, needsLogin: false) { form, visitor in logIn(form, visitor) } }
        router.post("/logout") { request, _ in try await posted(request, needsLogin: false) { _, visitor in logOut(visitor) } }
    }

    // MARK: Access

    static func now() -> Int64 { Int64(time(nil)) }

    func cookieValue(_ request: Request) -> String? {
        for field in request.headers where field.name == .cookie {
            for part in field.value.split(separator: ";") {
                let pair = part.trimmingSpaces
                if pair.hasPrefix(Sessions.cookieName + "=") { return String(pair.dropFirst(Sessions.cookieName.count + 1)) }
            }
        }
        return nil
    }

    func cookie(_ id: String) -> String {
        "\(Sessions.cookieName)=\(id); Path=/; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// The visitor of `request`; a new anonymous session (for its CSRF token) when it has none.
    func visitor(_ request: Request, create: Bool) -> Visitor {
        let id = cookieValue(request)
        if let session = sessions.session(id, now: Self.now()) { return Visitor(sessionID: id, session: session) }
        guard create else { return Visitor() }
        let made = sessions.create(user: nil, now: Self.now())
        return Visitor(sessionID: made.id, session: made.session, setCookie: cookie(made.id))
    }

    /// A GET: with a login required and none, a redirect to `/login`.
    func guarded(_ request: Request, _ page: @escaping @Sendable (Visitor) throws -> Response) async throws -> Response {
        let visitor = visitor(request, create: true)
        if login, visitor.session?.user == nil { return redirect("/login", visitor) }
        do {
            return try await Self.offload { try page(visitor) }
        } catch let error as AccordError {
            return errorPage(error.message, status: Self.status(for: error), visitor)
        } catch let error as SegmentError {
            return errorPage(error.message, status: Self.status(for: error), visitor)
        }
    }

    /// A POST: the body read (bounded), the CSRF token checked against the session (403), the
    /// login checked (a redirect to `/login`).
    func posted(_ request: Request, needsLogin: Bool = true, _ handle: @escaping @Sendable (FormData, Visitor) throws -> Response) async throws -> Response {
        let visitor = visitor(request, create: false)
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > FormData.maxBodyBytes {
            return plain(.contentTooLarge, "The form is larger than \(FormData.maxBodyBytes) bytes.")
        }
        guard let body = try? await request.body.collect(upTo: FormData.maxBodyBytes) else {
            return plain(.contentTooLarge, "The form is larger than \(FormData.maxBodyBytes) bytes.")
        }
        guard let form = FormData(urlEncoded: body.readableBytesView) else {
            return plain(.badRequest, "The form is not URL-encoded UTF-8.")
        }
        guard let session = visitor.session, let token = form["csrf"], constantTimeEqual(token, session.csrf) else {
            return plain(.forbidden, "The form's CSRF token is missing or does not belong to this session; reload the page and submit it again. Nothing was recorded.")
        }
        if needsLogin, login, session.user == nil { return redirect("/login", visitor) }
        do {
            return try await Self.offload { try handle(form, visitor) }
        } catch let error as AccordError {
            return errorPage(error.message, status: Self.status(for: error), visitor)
        } catch let error as SegmentError {
            return errorPage(error.message, status: Self.status(for: error), visitor)
        }
    }

    /// Runs blocking work — reading the journal, appending with `fdatasync`, bcrypt — on
    /// Dispatch's global queue, off the threads of Swift's cooperative pool and NIO's loops.
    static func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }

    // MARK: Answers

    func html(_ title: String, _ body: String, _ visitor: Visitor, status: HTTPResponse.Status = .ok) -> Response {
        let page = HTML.page(title: title, body: body, user: visitor.session?.user, csrf: visitor.session?.csrf)
        var headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8",
            .cacheControl: "no-store",
            .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            HTTPField.Name("Referrer-Policy")!: "no-referrer",
        ]
        if let setCookie = visitor.setCookie { headers[.setCookie] = setCookie }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: page)))
    }

    func plain(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: message + "\n")))
    }

    func redirect(_ location: String, _ visitor: Visitor) -> Response {
        var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
        if let setCookie = visitor.setCookie { headers[.setCookie] = setCookie }
        return Response(status: .seeOther, headers: headers)
    }

    /// The one place where errors become statuses (Journal/UI.md §7).
    static func status(for error: AccordError) -> HTTPResponse.Status {
        // No `default:`: a new kind of code does not compile until it is mapped here.
        switch error.code.kind {
        case .badInput: return .unprocessableContent
        case .notFound: return .notFound
        case .damaged, .fork, .untrusted: return .internalServerError
        case .io: return .serviceUnavailable
        }
    }

    /// The journal's errors as statuses: damage 500, a busy writer lock or a failed write 503.
    static func status(for error: SegmentError) -> HTTPResponse.Status {
        switch error.code.kind {
        case .corrupt, .tornTail, .notAJournal, .alreadyExists, .invalidRecord, .unsupportedVersion: return .internalServerError
        case .busy, .io, .diskFull, .writerUnusable: return .serviceUnavailable
        }
    }

    func errorPage(_ message: String, status: HTTPResponse.Status, _ visitor: Visitor) -> Response {
        html("Error", "<h1>Something went wrong</h1>\n<p id=\"error-form\" class=\"error\">\(HTML.escape(message))</p>\n<p>Nothing was recorded by this request.</p>\n", visitor, status: status)
    }

    func notFound(_ what: String, _ visitor: Visitor) -> Response {
        html("Not found", "<h1>Not found</h1>\n<p>\(HTML.escape(what))</p>\n<p><a href=\"/events\">The log</a> lists every event.</p>\n", visitor, status: .notFound)
    }

    // MARK: Pages

    func dashboard(_ visitor: Visitor) throws -> Response {
        let current = try journal.current()
        let body = Dashboard.page(state: current.state, series: current.series, today: Timestamp.now().date, facts: current.facts, exchanges: journal.lastExchanges(),
                                  ownSite: journal.journal.site.rawValue, tornTail: current.tornTail)
        return html("Dashboard", body, visitor)
    }

    func query(_ request: Request) -> FormData {
        request.uri.query.flatMap { FormData(urlEncoded: Array($0.utf8)) } ?? FormData()
    }

    func events(_ request: Request, _ visitor: Visitor) throws -> Response {
        // A query that is not URL-encoded UTF-8 is refused, as a form is, not read as no filter.
        if let text = request.uri.query, FormData(urlEncoded: Array(text.utf8)) == nil {
            return plain(.badRequest, "The query is not URL-encoded UTF-8.")
        }
        let filter = EventPages.Filter(query(request))
        let current = try journal.current()
        let log = try journal.log(filter, pageSize: EventPages.pageSize)
        let body = EventPages.log(log.events, total: log.total, page: log.page, filter: filter,
                                  names: Names(state: current.state, fundingTitles: current.facts.fundingTitles))
        return html("Events", body, visitor)
    }

    func event(_ id: String, _ visitor: Visitor) throws -> Response {
        guard id.utf8.count == 64, let found = try journal.event(id) else { return notFound("No event with id '\(id.prefix(64))' in this journal.", visitor) }
        let current = try journal.current()
        let names = Names(state: current.state, fundingTitles: current.facts.fundingTitles)
        let around = SubjectPages.kinds.contains(found.event.subject.kind) ? try journal.states(around: found.event, current: current.state) : nil
        return html("Event " + found.event.type.rawValue, EventPages.event(found, around: around, names: names), visitor)
    }

    func subject(kind: String, id: String, _ visitor: Visitor) throws -> Response {
        let current = try journal.current()
        let history = try journal.history(of: kind + "/" + id, limit: SubjectPages.maxHistory)
        guard let page = SubjectPages.page(kind: kind, id: id, state: current.state, fundingTitles: current.facts.fundingTitles, history: history) else {
            return notFound("This journal knows no \(kind) '\(id.prefix(64))'.", visitor)
        }
        return html(page.title, page.body, visitor)
    }

    func recordForm(type: String, request: Request, _ visitor: Visitor) -> Response {
        guard let entry = RecordForm.entry(type) else { return notFound("'\(type.prefix(80))' is not a type that can be recorded here.", visitor) }
        return html("Record " + type, RecordForm.page(entry: entry, values: query(request), errors: .init(), csrf: visitor.session?.csrf ?? ""), visitor)
    }

    func record(type: String, form: FormData, _ visitor: Visitor) throws -> Response {
        guard let entry = RecordForm.entry(type) else { return notFound("'\(type.prefix(80))' is not a type that can be recorded here.", visitor) }
        let refused = { (error: AccordError) -> Response in
            var errors = RecordForm.Errors()
            if let field = RecordForm.field(of: error, entry: entry) { errors.fields[field] = error.message } else { errors.form = error.message }
            return html("Record " + type, RecordForm.page(entry: entry, values: form, errors: errors, csrf: visitor.session?.csrf ?? ""), visitor, status: .unprocessableContent)
        }
        switch RecordForm.draft(type: entry, form: form) {
        case .failure(let error):
            return refused(error)
        case .success(let draft):
            do {
                let event = try journal.append(draft, actor: visitor.session?.user ?? defaultActor)
                return redirect("/events/" + event.id.hex, visitor)
            } catch let error as AccordError where error.code == .badInput {
                return refused(error)
            }
        }
    }

    func loginPage(_ request: Request, error: String? = nil, name: String = "", status: HTTPResponse.Status = .ok) -> Response {
        let visitor = visitor(request, create: true)
        return loginForm(visitor, error: error, name: name, status: status)
    }

    func loginForm(_ visitor: Visitor, error: String? = nil, name: String = "", status: HTTPResponse.Status = .ok) -> Response {
        var body = "<h1>Log in</h1>\n"
        if let error { body += "<p id=\"error-form\" class=\"error\" role=\"alert\">\(HTML.escape(error))</p>\n" }
        body += "<form method=\"post\" action=\"/login\">\n<input type=\"hidden\" name=\"csrf\" value=\"\(HTML.escape(visitor.session?.csrf ?? ""))\">\n"
        body += "<label for=\"field-name\">Name (required)</label>\n<input type=\"text\" name=\"name\" id=\"field-name\" autocomplete=\"username\" required value=\"\(HTML.escape(name))\">\n"
        body += "<label for=\"field-password\">Password (required)</label>\n<input type=\"password\" name=\"password\" id=\"field-password\" autocomplete=\"current-password\" required>\n"
        body += "<button type=\"submit\" id=\"submit\">Log in</button>\n</form>\n"
        return html("Log in", body, visitor, status: status)
    }

    func logIn(_ form: FormData, _ visitor: Visitor) -> Response {
        let name = form["name"] ?? "", password = form["password"] ?? ""
        let known = (try? users.load()) ?? []
        guard users.check(name: name, password: password, users: known) else {
            return loginForm(Visitor(sessionID: visitor.sessionID, session: visitor.session), error: "The name or the password is wrong.", name: name, status: .unauthorized)
        }
        // A new session id at login: an id known before it never becomes a logged-in one.
        if let old = visitor.sessionID { sessions.remove(old) }
        let made = sessions.create(user: name, now: Self.now())
        return redirect("/", Visitor(sessionID: made.id, session: made.session, setCookie: cookie(made.id)))
    }

    func logOut(_ visitor: Visitor) -> Response {
        if let id = visitor.sessionID { sessions.remove(id) }
        var headers: HTTPFields = [.location: login ? "/login" : "/", .cacheControl: "no-store"]
        headers[.setCookie] = "\(Sessions.cookieName)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
        return Response(status: .seeOther, headers: headers)
    }
}
