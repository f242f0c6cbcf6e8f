import AccordProjections

/// Building HTML as text: every piece of text from the journal goes through ``HTML/escape(_:)``.
///
/// The pages are built by appending to one `String`; nothing from an event, a query or a form is
/// written without escaping (`&`, `<`, `>`, `"`, `'`). Journal/UI.md §3.
enum HTML {
    /// `text` with `&`, `<`, `>`, `"` and `'` replaced by character references, for element
    /// content and double- or single-quoted attribute values alike.
    /// - Complexity: O(n) in the UTF-8 length of `text`.
    static func escape<S: StringProtocol>(_ text: S) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A decimal's text with thousands separators in its integer part (`1234567.50` →
    /// `1,234,567.50`), kept exact: the digits are those of the projection, never a `Double`.
    static func grouped(_ decimal: String) -> String {
        var text = Substring(decimal)
        var sign = ""
        if text.hasPrefix("-") { sign = "-"; text = text.dropFirst() } else if text.hasPrefix("+") { text = text.dropFirst() }
        let dot = text.firstIndex(of: ".")
        let integer = Array(text[..<(dot ?? text.endIndex)])
        let fraction = dot.map { String(text[$0...]) } ?? ""
        var out = ""
        for (index, digit) in integer.enumerated() {
            if index > 0, (integer.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return sign + (out.isEmpty ? "0" : out) + fraction
    }

    /// ``grouped(_:)`` of an exact decimal.
    static func grouped(_ decimal: ExactDecimal) -> String { grouped(decimal.description) }

    /// An integer with thousands separators.
    static func grouped(_ count: Int) -> String { grouped(String(count)) }

    /// Percent-encodes `text` for a URL's query value or path segment (RFC 3986 unreserved
    /// characters kept).
    static func urlEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF")
                out.append("%")
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 15)])
            }
        }
        return out
    }

    /// The whole page around `body`: `<html lang="en">`, the title, the style, the banner and
    /// navigation landmarks, `<main>` and the footer.
    static func page(title: String, body: String, user: String?, csrf: String?) -> String {
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        out += "<title>\(escape(title)) — Accord</title>\n<style>\(style)</style>\n</head>\n<body>\n"
        out += "<a class=\"skip\" href=\"#main\">Skip to content</a>\n"
        out += "<header><p class=\"brand\">Accord</p><nav aria-label=\"main\"><ul>"
        out += "<li><a href=\"/\">Dashboard</a></li><li><a href=\"/events\">Events</a></li><li><a href=\"/record\">Record an event</a></li></ul></nav>"
        if let user {
            out += "<form method=\"post\" action=\"/logout\" class=\"logout\"><input type=\"hidden\" name=\"csrf\" value=\"\(escape(csrf ?? ""))\">"
            out += "<span>Signed in as \(escape(user))</span> <button type=\"submit\" id=\"logout\">Log out</button></form>"
        }
        out += "</header>\n<main id=\"main\">\n" + body + "\n</main>\n<footer><p>Accord web view: read from the journal's read model; nothing here runs JavaScript.</p></footer>\n</body>\n</html>\n"
        return out
    }

    static let style = """
        body{font-family:system-ui,sans-serif;color:#1a1a1a;background:#fff;margin:0;line-height:1.45}\
        header{background:#12284c;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}\
        header a{color:#fff}header ul{list-style:none;display:flex;gap:1rem;margin:0;padding:0}.brand{font-weight:bold;margin:0}\
        .logout{margin-left:auto}.logout span{margin-right:.5rem}\
        main{padding:1rem;max-width:80rem}a{color:#0b4fa3}table{border-collapse:collapse;margin:.5rem 0}\
        th,td{border:1px solid #767676;padding:.25rem .5rem;text-align:left;vertical-align:top}td.num,dd{font-variant-numeric:tabular-nums}\
        td.num{text-align:right}.error{color:#a4001d;font-weight:bold}.overdue{color:#a4001d;font-weight:bold}\
        label{display:block;font-weight:bold;margin-top:.75rem}input,select,textarea{font:inherit;padding:.25rem;border:1px solid #595959;max-width:40rem;width:100%}\
        button{font:inherit;margin-top:1rem;padding:.4rem 1rem;background:#12284c;color:#fff;border:0}\
        .skip{position:absolute;left:-10000px}.skip:focus{left:1rem;top:1rem;background:#fff;color:#0b4fa3;padding:.5rem}\
        dl.totals{display:grid;grid-template-columns:max-content max-content;gap:.25rem 1rem}dl.totals dd{margin:0;text-align:right}\
        .hint{color:#4a4a4a;font-weight:normal}pre{white-space:pre-wrap;word-break:break-all;background:#f4f4f4;padding:.5rem}\
        .filters{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:0 1rem;align-items:end}\
        .field p{margin:.2rem 0}\
        footer{padding:1rem;color:#4a4a4a;border-top:1px solid #ccc}
        """
}
