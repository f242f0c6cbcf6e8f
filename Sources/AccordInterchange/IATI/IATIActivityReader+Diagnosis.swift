import CLibXML2
import Glibc

/// What the reader says of a file that is not an IATI activity file, and of text it keeps:
/// the first bytes sniffed before parsing, libxml2's errors in words, XML white space trimmed.
extension IATIActivityReader {
    /// `text` without the XML white space (space, tab, CR, LF: XML 1.0 §2.3 `S`) at its ends.
    static func trimmed(_ text: String) -> String {
        let bytes = text.utf8
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = bytes.lastIndex(where: { !isSpace($0) })!
        if first == bytes.startIndex, bytes.index(after: last) == bytes.endIndex { return text }
        return String(text[first...last])
    }

    /// What the file is when its first bytes show it is not XML (``sniff(head:)``), read from
    /// `fd` at its current offset.
    static func sniff(fd: Int32) -> String? {
        var head = [UInt8](repeating: 0, count: 4096)
        let count = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { return nil }
        return sniff(head: head.prefix(count))
    }

    /// As ``sniff(head:)``, for the file at `path`.
    static func sniff(path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return sniff(fd: fd)
    }

    /// What the file is when its first bytes show it is not XML: empty, gzip, ZIP, PDF, or
    /// text that does not begin with '<' (after a UTF-8 byte-order mark and white space); nil
    /// when it may be XML (UTF-16 with its byte-order mark is left to the parser).
    static func sniff(head: ArraySlice<UInt8>) -> String? {
        var head = head
        if head.isEmpty { return "the file is empty" }
        if head.starts(with: [0x1F, 0x8B]) { return "the file is gzip-compressed (it begins with gzip's signature); decompress it first, e.g. 'gunzip FILE.gz'" }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return "the file is a ZIP archive (.zip, .xlsx, .docx); extract the XML file from it first" }
        if head.starts(with: Array("%PDF".utf8)) { return "the file is a PDF document; an IATI activity file is XML" }
        if head.starts(with: [0xFE, 0xFF]) || head.starts(with: [0xFF, 0xFE]) { return nil }
        if head.starts(with: [0xEF, 0xBB, 0xBF]) { head = head.dropFirst(3) }
        head = head.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        guard let first = head.first else { return "the file holds only white space" }
        if first == UInt8(ascii: "<") { return nil }
        let firstLine = head.prefix { $0 != 0x0A }
        let kind = first == UInt8(ascii: "{") || first == UInt8(ascii: "[") ? "it looks like JSON"
            : firstLine.contains(UInt8(ascii: ",")) || firstLine.contains(UInt8(ascii: ";")) || firstLine.contains(0x09) ? "it looks like a CSV or other text table"
            : "it looks like plain text"
        return "the file does not begin with '<', as an XML document does: \(kind)"
    }

    /// libxml2's error in words: those a damaged or wrong file typically gives in ours, the
    /// others in libxml2's own message (its first line, at most 200 bytes).
    static func describe(code: Int32, message: String) -> String {
        let words: String? = switch code {
        case Int32(XML_ERR_DOCUMENT_EMPTY.rawValue): "no root element: the text does not begin with an XML element"
        case Int32(XML_ERR_DOCUMENT_END.rawValue): "the document ends early (is the file cut short?)"
        case Int32(XML_ERR_INVALID_CHAR.rawValue): "a character XML does not allow here (is the file UTF-8, or in the encoding its declaration names?)"
        case Int32(XML_ERR_TAG_NAME_MISMATCH.rawValue): "an end tag does not match its start tag"
        case Int32(XML_ERR_TAG_NOT_FINISHED.rawValue): "a tag is not finished (is the file cut short?)"
        case Int32(XML_ERR_NOT_WELL_BALANCED.rawValue): "the elements are not properly nested (an end tag is missing or misplaced)"
        case Int32(XML_ERR_EXTRA_CONTENT.rawValue): "there is content after the root element ends"
        case Int32(XML_ERR_UNDECLARED_ENTITY.rawValue), Int32(XML_WAR_UNDECLARED_ENTITY.rawValue):
            "an entity reference other than XML's five (&amp; &lt; &gt; &quot; &apos;) and character references: entities are not expanded here"
        default: nil
        }
        if let words { return words }
        var text = Array(message.utf8.prefix { $0 != 0x0A }.prefix(200))
        while let last = text.last, last == 0x20 || last == 0x2E { text.removeLast() }
        return text.isEmpty ? "libxml2 reports an error it does not name" : "libxml2: " + String(decoding: text, as: UTF8.self)
    }
}
