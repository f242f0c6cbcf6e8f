@testable import AccordMirror
import Testing

/// COPY text (Mirror.md §3) is escaped eight bytes at a time, with a byte-by-byte fallback: both
/// paths must give what escaping each byte alone gives, wherever in a word the byte falls.
@Suite("CopyText")
struct CopyTextTests {
    /// Escapes one byte at a time, as PostgreSQL's text format asks.
    static func reference(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for byte in bytes {
            switch byte {
            case 0x5c: out += [0x5c, 0x5c]
            case 0x09: out += [0x5c, 0x74]
            case 0x0a: out += [0x5c, 0x6e]
            case 0x0d: out += [0x5c, 0x72]
            default: out.append(byte)
            }
        }
        return out
    }

    @Test func everyByteToEscapeIsEscapedAtEveryOffsetOfEveryLength() {
        // Bytes next to the four (0x08, 0x0b, 0x0c, 0x5b, 0x5d, 0xdc) and high ones must pass unchanged.
        let fillers: [UInt8] = [0x61, 0x08, 0x0b, 0x0c, 0x5b, 0x5d, 0xdc, 0xff, 0x00]
        for special: UInt8 in [0x5c, 0x09, 0x0a, 0x0d] {
            for length in 1..<26 {
                for offset in 0..<length {
                    for filler in fillers {
                        var bytes = [UInt8](repeating: filler, count: length)
                        bytes[offset] = special
                        if length > 3 { bytes[length - 1] = special }
                        var line = CopyLine()
                        line.raw(bytes)
                        #expect(line.bytes == Self.reference(bytes), "length \(length), offset \(offset), byte \(special), filler \(filler)")
                    }
                }
            }
        }
    }

    @Test func textWithoutBytesToEscapeIsCopiedAsItIs() {
        let text = Array(#"{"name":"Ministry of Industry and Infrastructure Development","country":"KZ"}"#.utf8)
        var line = CopyLine()
        line.raw(text)
        #expect(line.bytes == text)
    }

    @Test func thePayloadOfARecordIsItsDataObjectUpToTheSignature() {
        let record = Array(#"{"hlc":"1:0","data":{"name":"EIB","n":{"k":"}"}},"sig":"abc"}"#.utf8)
        #expect(PostgresMirror.payload(of: record, signed: true).map { Array($0) } == Array(#"{"name":"EIB","n":{"k":"}"}}"#.utf8))
        #expect(PostgresMirror.payload(of: Array(#"{"hlc":"1:0","data":{}}"#.utf8), signed: false).map { Array($0) } == Array("{}".utf8))
        #expect(PostgresMirror.payload(of: Array(#"{"hlc":"1:0"}"#.utf8), signed: false) == nil)
    }

    @Test func aPayloadWithAMemberNamedSigAfterAnObjectIsWholeInSignedAndUnsignedRecords() {
        // Members are sorted: "sig" follows "limits", an object, so the payload holds `},"sig":"`.
        let data = #"{"limits":{"max":"5"},"sig":"not the signature"}"#
        let signed = Array((#"{"hlc":"1:0","data":"# + data + #","sig":"c2lnbmF0dXJl"}"#).utf8)
        let unsigned = Array((#"{"hlc":"1:0","data":"# + data + "}").utf8)
        #expect(PostgresMirror.payload(of: signed, signed: true).map { Array($0) } == Array(data.utf8))
        #expect(PostgresMirror.payload(of: unsigned, signed: false).map { Array($0) } == Array(data.utf8))
    }
}
