import AccordModel
import AccordSegments
import Glibc

/// The state of a layout 4 read-model file, in its two parts, and its checksum (Format.md
/// §9.4.2): where each part lies in the open file, so that a projection decodes them one after
/// the other or at the same time (``PersistedProjection/decode(parts:)``), and the trailer to
/// check the file's bytes against.
///
/// Nothing is read until a decoder reads it; each decoder's buffer is bounded as any
/// ``ReadModelDecoder``'s, so two parts decoded at once hold at most two such buffers.
public struct ReadModelParts: Sendable {
    /// The open read-model file (owned by the caller, open until the decoding has returned).
    let fd: Int32
    /// The history file the header names, for the `hist` values of the state.
    let history: HistoryFile?
    /// The first part: from the end of the header to the split.
    public let first: Range<Int64>
    /// The second part: from the split to the split field (size − 40); empty for a projection
    /// whose state is one part.
    public let second: Range<Int64>
    /// The bytes the checksum covers: offset 0 to size − 32.
    let checked: Int64
    /// The file's last 32 bytes.
    let trailer: [UInt8]
    /// Whether a projection may decode the parts at the same time, on threads of their own
    /// (true but for a long fold reading back its own chunk, Format.md §9.4.5).
    var concurrently = true

    /// A decoder of the bytes of `part` (``first`` or ``second``), that does not hash them: the
    /// checksum is ``checksumRejection()``'s.
    func decoder(_ part: Range<Int64>) -> ReadModelDecoder {
        var input = ReadModelDecoder(fd: fd, from: part.lowerBound, to: part.upperBound)
        input.hashing = false
        input.history = history
        return input
    }

    /// Bytes hashed at a time by ``checksumRejection()``.
    static let hashChunkBytes = 1 << 20

    /// Nil when the trailer is the SHA-256 of every byte before it (check 7 of §9.4.4), else
    /// why not. Reads the file in chunks of ``hashChunkBytes``.
    func checksumRejection() -> ReadModelRejection? {
        var hasher = Digest.SHA256Stream()
        var chunk = [UInt8](repeating: 0, count: Int(min(Int64(Self.hashChunkBytes), max(checked, 1))))
        var at: Int64 = 0
        while at < checked {
            let want = Int(min(Int64(chunk.count), checked - at))
            let got = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, want, off_t(at)) }
            if got < 0, errno == EINTR { continue }
            guard got > 0 else {
                return ReadModelRejection("The read model could not be read at byte \(at): \(got < 0 ? Errno(errno).description : "it is shorter than it was").")
            }
            chunk.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
            at += Int64(got)
        }
        guard hexBytes(hasher.hex()) == trailer else {
            return ReadModelRejection("The read model's checksum at byte \(checked) does not match its \(checked) bytes.")
        }
        return nil
    }
}

extension PersistedProjection {
    /// The state of one part (``ReadModelParts/first``; the second must be empty), decoded
    /// with ``init(from:)``, then the checksum checked.
    public static func decode(parts: ReadModelParts) throws -> Self {
        var input = parts.decoder(parts.first)
        let model = try Self(from: &input)
        try input.finishPart("first")
        guard parts.second.isEmpty else {
            throw ReadModelRejection("The read model has a second part at byte \(parts.second.lowerBound), which the '\(readModelName)' projection does not have.")
        }
        if let rejection = parts.checksumRejection() { throw rejection }
        return model
    }
}
