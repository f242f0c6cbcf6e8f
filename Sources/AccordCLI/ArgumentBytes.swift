import Glibc

/// The command line as the kernel passed it: bytes, before ArgumentParser turns them into Strings.
///
/// A Swift `String` made from bytes that are not UTF-8 holds U+FFFD in their place, so
/// `accord append TYPE --data '…'` would sign a replacement character the user never typed,
/// while the same bytes through `--from` are refused by the JSON parser. Every argument is
/// checked here instead, so both ways in refuse them alike (exit 2, nothing written).
enum ArgumentBytes {
    /// A description of the first argument that is not valid UTF-8 (RFC 3629), naming its
    /// position, the option it is the value of, and the byte offset; nil when all are valid.
    static func firstInvalidUTF8() -> String? {
        let count = Int(CommandLine.argc)
        let argv = CommandLine.unsafeArgv
        for index in 1..<max(count, 1) {
            guard let pointer = argv[index] else { continue }
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: strlen(pointer))
            guard let offset = firstInvalidOffset(bytes) else { continue }
            var place = "Argument \(index)"
            if index > 1, let previous = argv[index - 1], previous.pointee == 0x2D, String(validatingCString: previous) != nil {
                let option = String(cString: previous)
                if option.hasPrefix("-") && !option.contains("=") { place += " (the value of '\(option.prefix(40))')" }
            } else if bytes.first == 0x2D, let equals = bytes.firstIndex(of: 0x3D), equals < offset {
                place += " ('\(String(decoding: bytes[..<equals].prefix(40), as: UTF8.self))=…')"
            }
            return "\(place) is not valid UTF-8 at byte offset \(offset); Accord keeps text byte for byte and takes only UTF-8: convert it first (e.g. with 'iconv -f LATIN1 -t UTF-8'). Nothing was written."
        }
        return nil
    }

    /// The offset of the first byte of `bytes` that starts no valid UTF-8 sequence, or nil.
    static func firstInvalidOffset(_ bytes: some Collection<UInt8>) -> Int? {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }
}
