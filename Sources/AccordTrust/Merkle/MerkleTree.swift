import AccordModel
import Crypto

/// A 32-byte SHA-256 hash: a Merkle tree's leaf hash, node hash or root (Trust.md §1).
public typealias MerkleHash = [UInt8]

/// RFC 6962 Merkle tree hashing (RFC 9162 §2.1), over a log's leaf hashes in order.
///
/// A feed of Accord is such a log: its leaves are its events in `seq` order, and the leaf
/// *bytes* of an event are the 32 raw bytes of its event id (Trust.md §1.1), so
/// `leafHash = SHA-256(0x00 || id)` and `nodeHash = SHA-256(0x01 || left || right)`.
///
/// The tree keeps only the leaf hashes (32 bytes each); the root, the inclusion proofs and the
/// consistency proofs are computed from them.
///
/// ```swift
/// let tree = MerkleTree(leafHashes: ids.map { MerkleTree.leafHash(of: $0) })
/// let proof = try tree.inclusionProof(index: 3, size: tree.size)
/// MerkleTree.verifyInclusion(leafHash: tree.leafHashes[3], index: 3, size: tree.size, proof: proof, root: tree.root())
/// ```
/// - Complexity: ``root(size:)`` and each proof: O(n) hashes for a tree of n leaves (no
///   intermediate hashes are stored); memory O(n) for the leaves and O(log n) besides.
public struct MerkleTree: Sendable {
    /// The leaf hashes, in log order.
    public private(set) var leafHashes: [MerkleHash]

    /// A tree over these leaf hashes (each 32 bytes).
    public init(leafHashes: [MerkleHash] = []) {
        self.leafHashes = leafHashes
    }

    /// The number of leaves.
    public var size: Int { leafHashes.count }

    /// Appends one leaf hash.
    public mutating func append(leafHash: MerkleHash) {
        leafHashes.append(leafHash)
    }

    /// The leaf hash of `bytes`: SHA-256(0x00 || bytes) (RFC 6962 §2.1).
    public static func leafHash(of bytes: [UInt8]) -> MerkleHash {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: bytes)
        return Array(hasher.finalize())
    }

    /// The hash of an interior node: SHA-256(0x01 || left || right) (RFC 6962 §2.1).
    public static func nodeHash(_ left: MerkleHash, _ right: MerkleHash) -> MerkleHash {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }

    /// The root of the empty tree: SHA-256 of no bytes (RFC 6962 §2.1).
    public static let emptyRoot: MerkleHash = Array(SHA256.hash(data: [UInt8]()))

    /// The root of the tree of the first `size` leaves (the whole tree by default).
    /// - Precondition: `0 <= size <= self.size`.
    public func root(size: Int? = nil) -> MerkleHash {
        let n = size ?? leafHashes.count
        precondition(n >= 0 && n <= leafHashes.count)
        return Self.root(of: leafHashes[0..<n])
    }

    /// The root of a range of leaf hashes, with a stack of at most log2(n) + 1 subtree hashes.
    static func root(of leaves: ArraySlice<MerkleHash>) -> MerkleHash {
        if leaves.isEmpty { return emptyRoot }
        // Complete subtrees, left to right, of strictly decreasing size (powers of two).
        var stack: [(hash: MerkleHash, size: Int)] = []
        for leaf in leaves {
            var node = (hash: leaf, size: 1)
            while let last = stack.last, last.size == node.size {
                stack.removeLast()
                node = (hash: nodeHash(last.hash, node.hash), size: last.size * 2)
            }
            stack.append(node)
        }
        // RFC 6962 splits at the largest power of two below n: fold the smaller subtrees from the right.
        var hash = stack.removeLast().hash
        while let last = stack.popLast() {
            hash = nodeHash(last.hash, hash)
        }
        return hash
    }

    /// The largest power of two strictly below `n` (n ≥ 2).
    static func split(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// The inclusion proof (audit path) of leaf `index` in the tree of the first `size` leaves:
    /// RFC 9162 §2.1.3.1 (`PATH(m, D[n])`), the sibling hashes from the leaf up.
    /// - Throws: ``AccordError`` `.badInput` unless `0 <= index < size <= self.size`.
    public func inclusionProof(index: Int, size: Int) throws -> [MerkleHash] {
        guard index >= 0, index < size, size <= leafHashes.count else {
            throw AccordError(.badInput, "No inclusion proof for leaf \(index) in a tree of \(size) leaves (the log holds \(leafHashes.count)).")
        }
        var proof: [MerkleHash] = []
        path(index, leafHashes[0..<size], into: &proof)
        return proof
    }

    private func path(_ m: Int, _ leaves: ArraySlice<MerkleHash>, into proof: inout [MerkleHash]) {
        let n = leaves.count
        if n <= 1 { return }
        let k = Self.split(n)
        let start = leaves.startIndex
        if m < k {
            path(m, leaves[start..<start + k], into: &proof)
            proof.append(Self.root(of: leaves[(start + k)...]))
        } else {
            path(m - k, leaves[(start + k)...], into: &proof)
            proof.append(Self.root(of: leaves[start..<start + k]))
        }
    }

    /// The consistency proof between the trees of the first `oldSize` and `newSize` leaves:
    /// RFC 9162 §2.1.4.1 (`PROOF(m, D[n])`). Empty when `oldSize` is 0 or equals `newSize`.
    /// - Throws: ``AccordError`` `.badInput` unless `0 <= oldSize <= newSize <= self.size`.
    public func consistencyProof(oldSize: Int, newSize: Int) throws -> [MerkleHash] {
        guard oldSize >= 0, oldSize <= newSize, newSize <= leafHashes.count else {
            throw AccordError(.badInput, "No consistency proof from size \(oldSize) to size \(newSize) (the log holds \(leafHashes.count) leaves).")
        }
        var proof: [MerkleHash] = []
        if oldSize > 0 && oldSize < newSize {
            subproof(oldSize, leafHashes[0..<newSize], complete: true, into: &proof)
        }
        return proof
    }

    private func subproof(_ m: Int, _ leaves: ArraySlice<MerkleHash>, complete: Bool, into proof: inout [MerkleHash]) {
        let n = leaves.count
        if m == n {
            if !complete { proof.append(Self.root(of: leaves)) }
            return
        }
        let k = Self.split(n)
        let start = leaves.startIndex
        if m <= k {
            subproof(m, leaves[start..<start + k], complete: complete, into: &proof)
            proof.append(Self.root(of: leaves[(start + k)...]))
        } else {
            subproof(m - k, leaves[(start + k)...], complete: false, into: &proof)
            proof.append(Self.root(of: leaves[start..<start + k]))
        }
    }

    /// True when `proof` shows that the leaf with hash `leafHash` is leaf `index` of the tree
    /// of `size` leaves with root `root`: RFC 9162 §2.1.3.2.
    public static func verifyInclusion(leafHash: MerkleHash, index: Int, size: Int, proof: [MerkleHash], root: MerkleHash) -> Bool {
        guard index >= 0, index < size, leafHash.count == 32, root.count == 32 else { return false }
        var fn = UInt64(index), sn = UInt64(size - 1)
        var r = leafHash
        for p in proof {
            guard p.count == 32, sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// True when `proof` shows that the tree of `oldSize` leaves with root `oldRoot` is a prefix
    /// of the tree of `newSize` leaves with root `newRoot`: RFC 9162 §2.1.4.2. Equal sizes need
    /// an empty proof and equal roots; an old size of 0 needs an empty proof.
    public static func verifyConsistency(oldSize: Int, newSize: Int, oldRoot: MerkleHash, newRoot: MerkleHash, proof: [MerkleHash]) -> Bool {
        guard oldSize >= 0, oldSize <= newSize, oldRoot.count == 32, newRoot.count == 32 else { return false }
        if oldSize == newSize { return proof.isEmpty && oldRoot == newRoot }
        if oldSize == 0 { return proof.isEmpty }
        guard !proof.isEmpty, proof.allSatisfy({ $0.count == 32 }) else { return false }
        var path = proof
        if oldSize & (oldSize - 1) == 0 { path.insert(oldRoot, at: 0) }
        var fn = UInt64(oldSize - 1), sn = UInt64(newSize - 1)
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0], sr = path[0]
        for c in path.dropFirst() {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return fr == oldRoot && sr == newRoot && sn == 0
    }
}
