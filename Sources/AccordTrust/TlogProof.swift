import AccordModel

/// A C2SP tlog-proof receipt (c2sp.org/tlog-proof; Trust.md §4): a leaf's index, its inclusion
/// proof, and the signed (and cosigned) checkpoint the proof leads to.
///
/// ```
/// c2sp.org/tlog-proof@v1
/// extra <base64 of the 32-byte event id>
/// index <leaf index, decimal>
/// <base64 of one proof hash>          (one line per hash, from the leaf up)
///
/// <the signed checkpoint note>
/// ```
public struct TlogProof: Sendable, Equatable {
    /// The first line.
    public static let header = "c2sp.org/tlog-proof@v1"
    /// The most hashes a proof may hold (Trust.md §4, `MAX_PROOF_HASHES`): 63 suffice for a log
    /// of 2^63 leaves.
    public static let maxHashes = 63
    /// The most bytes a receipt may have (Trust.md §4, `MAX_PROOF_BYTES`): the note and 63 hashes.
    public static let maxBytes = SignedNote.maxBytes + 4_096

    /// The opaque `extra` data: Accord writes the 32-byte event id (the leaf's bytes).
    public var extra: [UInt8]?
    /// The leaf's index: seq - 1.
    public var index: Int
    /// The inclusion proof's hashes.
    public var hashes: [MerkleHash]
    /// The signed checkpoint.
    public var note: SignedNote

    /// A receipt from its parts.
    public init(extra: [UInt8]?, index: Int, hashes: [MerkleHash], note: SignedNote) {
        self.extra = extra
        self.index = index
        self.hashes = hashes
        self.note = note
    }

    /// The receipt's bytes.
    public var bytes: [UInt8] {
        var text = Self.header + "\n"
        if let extra { text += "extra " + Base64.encode(extra) + "\n" }
        text += "index \(index)\n"
        for hash in hashes { text += Base64.encode(hash) + "\n" }
        text += "\n"
        return Array(text.utf8) + note.bytes
    }

    /// Parses a receipt (form only; ``verify(leafHash:verifiers:)`` checks it).
    /// - Throws: ``AccordError`` `.badInput`, naming the line.
    public init(parsing bytes: [UInt8]) throws {
        guard bytes.count <= Self.maxBytes else {
            throw AccordError(.badInput, "The proof is \(bytes.count) bytes, more than the \(Self.maxBytes) a receipt may have (Trust.md §4).")
        }
        guard let blank = bytes.indices.dropLast().first(where: { bytes[$0] == 0x0A && bytes[$0 + 1] == 0x0A }) else {
            throw AccordError(.badInput, "The proof has no blank line before its checkpoint (Trust.md §4).")
        }
        var lines = bytes[0..<blank].split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard lines.first == Self.header else {
            throw AccordError(.badInput, "The proof does not start with '\(Self.header)' (Trust.md §4).")
        }
        lines.removeFirst()
        var extra: [UInt8]?
        if let line = lines.first, line.hasPrefix("extra ") {
            guard let data = Base64.decode(String(line.dropFirst(6))) else {
                throw AccordError(.badInput, "The proof's 'extra' line is not base64 (Trust.md §4).")
            }
            extra = data
            lines.removeFirst()
        }
        guard let line = lines.first, line.hasPrefix("index "), let index = Int(line.dropFirst(6)), index >= 0,
              String(index) == line.dropFirst(6)
        else {
            throw AccordError(.badInput, "The proof has no 'index N' line after its header (Trust.md §4).")
        }
        lines.removeFirst()
        guard lines.count <= Self.maxHashes else {
            throw AccordError(.badInput, "The proof has \(lines.count) hashes, more than \(Self.maxHashes) (Trust.md §4).")
        }
        var hashes: [MerkleHash] = []
        for (number, line) in lines.enumerated() {
            guard let hash = Base64.decode(line), hash.count == 32 else {
                throw AccordError(.badInput, "Hash \(number + 1) of the proof is not the base64 of 32 bytes (Trust.md §4).")
            }
            hashes.append(hash)
        }
        self.extra = extra
        self.index = index
        self.hashes = hashes
        self.note = try SignedNote(parsing: Array(bytes[(blank + 2)...]))
    }
}

/// A consistency proof between two checkpoints of one log (Trust.md §4.2), as `accord prove
/// --consistency` prints it:
///
/// ```
/// accord/consistency-proof@v1
/// old <size>
/// new <size>
/// <base64 of one proof hash>          (one line per hash, RFC 9162 §2.1.4.1 order)
/// ```
public struct ConsistencyProof: Sendable, Equatable {
    /// The first line.
    public static let header = "accord/consistency-proof@v1"
    /// The older size.
    public var oldSize: Int
    /// The newer size.
    public var newSize: Int
    /// The proof's hashes.
    public var hashes: [MerkleHash]

    /// A proof from its parts.
    public init(oldSize: Int, newSize: Int, hashes: [MerkleHash]) {
        self.oldSize = oldSize
        self.newSize = newSize
        self.hashes = hashes
    }

    /// The proof's bytes.
    public var bytes: [UInt8] {
        Array((Self.header + "\nold \(oldSize)\nnew \(newSize)\n" + hashes.map { Base64.encode($0) + "\n" }.joined()).utf8)
    }

    /// Parses a proof.
    /// - Throws: ``AccordError`` `.badInput`, naming the line.
    public init(parsing bytes: [UInt8]) throws {
        guard bytes.count <= TlogProof.maxBytes, bytes.last == 0x0A else {
            throw AccordError(.badInput, "The consistency proof is over \(TlogProof.maxBytes) bytes or does not end with a line feed (Trust.md §4.2).")
        }
        let lines = bytes.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard lines.count >= 3, lines[0] == Self.header,
              lines[1].hasPrefix("old "), let old = Int(lines[1].dropFirst(4)), old >= 0,
              lines[2].hasPrefix("new "), let new = Int(lines[2].dropFirst(4)), new >= old
        else {
            throw AccordError(.badInput, "The consistency proof does not start with '\(Self.header)', 'old N', 'new M' (M ≥ N) (Trust.md §4.2).")
        }
        guard lines.count - 3 <= TlogProof.maxHashes else {
            throw AccordError(.badInput, "The consistency proof has more than \(TlogProof.maxHashes) hashes (Trust.md §4.2).")
        }
        var hashes: [MerkleHash] = []
        for (number, line) in lines.dropFirst(3).enumerated() {
            guard let hash = Base64.decode(line), hash.count == 32 else {
                throw AccordError(.badInput, "Hash \(number + 1) of the consistency proof is not the base64 of 32 bytes (Trust.md §4.2).")
            }
            hashes.append(hash)
        }
        oldSize = old
        newSize = new
        self.hashes = hashes
    }
}
