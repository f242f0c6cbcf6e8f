import AccordModel

/// The record form (Journal/UI.md §4): one input per data field of a catalogue type, turned into
/// an ``EventDraft`` that goes through the same checks as `accord append`.
enum RecordForm {
    /// The catalogue types a person may record through the form: all but key events and
    /// checkpoints, which `accord keys` and `accord checkpoint` record.
    static var recordableTypes: [String] {
        Catalogue.entries.keys.filter { !$0.hasPrefix("key.") && !$0.hasPrefix("checkpoint.") }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    static func entry(_ type: String) -> Catalogue.Entry? {
        guard !type.hasPrefix("key."), !type.hasPrefix("checkpoint."), let entry = Catalogue.entries[type], sameBytes(entry.type, type) else { return nil }
        return entry
    }

    /// Whether a field's value is written as JSON in a text area.
    static func isJSON(_ kind: Catalogue.FieldKind) -> Bool {
        switch kind {
        case .money, .narratives, .descriptions, .activityDates: return true
        default: return false
        }
    }

    /// Errors of one submission: by field name (`subject` or a data field), and for the whole event.
    struct Errors {
        var fields: [String: String] = [:]
        var form: String?
        var isEmpty: Bool { fields.isEmpty && form == nil }
    }

    /// The draft a submission describes, or the errors that keep it from being one.
    static func draft(type entry: Catalogue.Entry, form: FormData) -> Result<EventDraft, AccordError> {
        var subjectText = form["subject"] ?? ""
        if !subjectText.contains("/"), entry.subjectKind != Catalogue.anyKind, !subjectText.isEmpty {
            subjectText = entry.subjectKind + "/" + subjectText
        }
        let subject: Subject
        do {
            subject = try Subject(subjectText)
        } catch let error as AccordError {
            return .failure(AccordError(.badInput, error.message, field: "subject"))
        } catch {
            return .failure(AccordError(.badInput, "Field 'subject' must be kind/id, e.g. \(entry.subjectKind)/example.", field: "subject"))
        }
        var members: [(key: String, value: JSONValue)] = []
        for (name, kind) in entry.required + entry.optional {
            let values = form.all(name).filter { !$0.isEmpty }
            guard let first = values.first else { continue }
            switch kind {
            case .references:
                let items = first.split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
                members.append((name, .array(items.map { .string($0) })))
            case .listOf:
                let items = values.count > 1 ? values : first.split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
                members.append((name, .array(items.map { .string($0) })))
            case .count, .sequenceNumber:
                let digits = !first.isEmpty && first.utf8.count <= 12 && first.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
                members.append((name, digits ? .number(first) : .string(first)))
            case .money, .narratives, .descriptions, .activityDates:
                do {
                    members.append((name, try JSONParser.parse(Array(first.utf8))))
                } catch {
                    return .failure(AccordError(.badInput, "Field '\(name)' must be JSON (\(kind.expectation)).", field: "data." + name))
                }
            default:
                members.append((name, .string(first)))
            }
        }
        return .success(EventDraft(type: EventType(entry.type), subject: subject, data: JSONObject(members)))
    }

    /// Where an error belongs: a field of the form, or nil for the whole event.
    static func field(of error: AccordError, entry: Catalogue.Entry) -> String? {
        guard var field = error.field else { return nil }
        if field == "subject" { return "subject" }
        if field.hasPrefix("data.") { field.removeFirst(5) }
        if let dot = field.firstIndex(where: { $0 == "." || $0 == "[" }) { field = String(field[..<dot]) }
        return (entry.required + entry.optional).contains { sameBytes($0.0, field) } ? field : nil
    }

    /// The form for `entry`, with `values` filled in and `errors` beside their fields.
    static func page(entry: Catalogue.Entry, values: FormData, errors: Errors, csrf: String) -> String {
        var out = "<h1>Record: \(HTML.escape(entry.type))</h1>\n"
        out += "<p>Fields marked “(required)” must be filled in. The event goes through the same checks as <code>accord append</code>; nothing is written when it is refused.</p>\n"
        if let message = errors.form {
            out += "<p id=\"error-form\" class=\"error\" role=\"alert\">\(HTML.escape(message))</p>\n"
        } else if !errors.isEmpty {
            out += "<p class=\"error\" role=\"alert\">The event was not recorded: see the messages beside the fields.</p>\n"
        }
        out += "<form method=\"post\" action=\"/record/\(HTML.escape(entry.type))\" novalidate>\n"
        out += "<input type=\"hidden\" name=\"csrf\" value=\"\(HTML.escape(csrf))\">\n"
        let kindHint = entry.subjectKind == Catalogue.anyKind ? "kind/id, the subject of the event it concerns" : "\(entry.subjectKind)/id, or only the id"
        out += field(name: "subject", label: "Subject", hint: kindHint, required: true, kind: nil, values: values, error: errors.fields["subject"])
        for (name, kind) in entry.required {
            out += field(name: name, label: name, hint: kind.expectation, required: true, kind: kind, values: values, error: errors.fields[name])
        }
        for (name, kind) in entry.optional {
            out += field(name: name, label: name, hint: kind.expectation, required: false, kind: kind, values: values, error: errors.fields[name])
        }
        out += "<button type=\"submit\" id=\"submit\">Record</button>\n</form>\n"
        return out
    }

    private static func field(name: String, label: String, hint: String, required: Bool, kind: Catalogue.FieldKind?, values: FormData, error: String?) -> String {
        let id = "field-" + HTML.escape(name)
        let n = HTML.escape(name)
        var describedBy = ["hint-\(n)"]
        if error != nil { describedBy.insert("error-\(n)", at: 0) }
        var attributes = "name=\"\(n)\" id=\"\(id)\" aria-describedby=\"\(describedBy.joined(separator: " "))\""
        if required { attributes += " required" }
        if error != nil { attributes += " aria-invalid=\"true\"" }
        var out = "<div class=\"field\">\n<label for=\"\(id)\">\(HTML.escape(label))\(required ? " (required)" : "")</label>\n"
        let value = values[name] ?? ""
        switch kind {
        case .oneOf(let options)?:
            out += "<select \(attributes)>\n<option value=\"\">(choose)</option>\n"
            for option in options {
                out += "<option value=\"\(HTML.escape(option))\"\(sameBytes(option, value) ? " selected" : "")>\(HTML.escape(option))</option>\n"
            }
            out += "</select>\n"
        case .listOf(let options)?:
            let chosen = values.all(name)
            out += "<select multiple \(attributes)>\n"
            for option in options {
                out += "<option value=\"\(HTML.escape(option))\"\(chosen.contains { sameBytes($0, option) } ? " selected" : "")>\(HTML.escape(option))</option>\n"
            }
            out += "</select>\n"
        case let kind? where isJSON(kind):
            out += "<textarea rows=\"4\" \(attributes)>\(HTML.escape(value))</textarea>\n"
        default:
            out += "<input type=\"text\" \(attributes) value=\"\(HTML.escape(value))\">\n"
        }
        out += "<p id=\"hint-\(n)\" class=\"hint\">\(HTML.escape(hint))\(kind.map { isJSON($0) ? " (as JSON)" : "" } ?? "")</p>\n"
        if let error {
            out += "<p id=\"error-\(n)\" class=\"error\">\(HTML.escape(error))</p>\n"
        }
        return out + "</div>\n"
    }

    /// The list of types.
    static func list() -> String {
        var out = "<h1>Record an event</h1>\n<p>Choose what happened. Key events and checkpoints are recorded with <code>accord keys</code> and <code>accord checkpoint</code>.</p>\n<ul id=\"types\">\n"
        for type in recordableTypes {
            out += "<li><a href=\"/record/\(HTML.escape(type))\">\(HTML.escape(type))</a></li>\n"
        }
        return out + "</ul>\n"
    }
}

extension Substring {
    /// Without leading and trailing spaces (U+0020 only).
    var trimmingSpaces: String {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return String(text)
    }
}
