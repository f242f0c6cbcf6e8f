import AccordSegments
import Foundation

/// A fresh directory under the system's temporary folder, removed with everything in it when
/// the process exits.
///
/// Not at deinitialisation: Swift may end a value's lifetime right after its last use, which in
/// a test is often `temp.child("j")` — long before the test is done with the files.
public final class TemporaryDirectory: @unchecked Sendable {
    /// The directory's absolute path.
    public let path: String

    private static let registry = Registry()

    /// Creates `…/accord-test-<label>-<random>`.
    public init(_ label: String = "journal") {
        let base = NSTemporaryDirectory()
        path = (base.hasSuffix("/") ? base : base + "/") + "accord-test-\(label)-\(UUID().uuidString.prefix(12))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        Self.registry.add(path)
    }

    /// Removes the directory now.
    public func remove() { try? FileManager.default.removeItem(atPath: path) }

    final class Registry: @unchecked Sendable {
        private let lock = NSLock()
        private var paths: [String] = []
        private var installed = false

        func add(_ path: String) {
            lock.lock()
            defer { lock.unlock() }
            paths.append(path)
            if !installed {
                installed = true
                atexit { TemporaryDirectory.registry.removeAll() }
            }
        }

        func removeAll() {
            lock.lock()
            let all = paths
            paths = []
            lock.unlock()
            for path in all { try? FileManager.default.removeItem(atPath: path) }
        }
    }

    /// A path inside the directory.
    public func child(_ name: String) -> String { path + "/" + name }
}

/// Byte-level helpers for damaging files on purpose.
public enum FileDamage {
    /// The bytes of a file.
    public static func bytes(_ path: String) throws -> [UInt8] {
        try FileBytes.read(path, limit: 1 << 30)
    }

    /// Replaces a file's content (not durably; for tests).
    public static func write(_ path: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Cuts a file to `length` bytes.
    public static func truncate(_ path: String, to length: Int) throws {
        let bytes = try self.bytes(path)
        try write(path, Array(bytes.prefix(length)))
    }

    /// XORs the byte at `offset` with `mask`.
    public static func flip(_ path: String, at offset: Int, mask: UInt8 = 0xFF) throws {
        var bytes = try self.bytes(path)
        bytes[offset] ^= mask
        try write(path, bytes)
    }

    /// Appends bytes to a file.
    public static func append(_ path: String, _ extra: [UInt8]) throws {
        try write(path, try bytes(path) + extra)
    }

    /// Copies a directory tree to `destination` (which must not exist).
    public static func copyDirectory(_ source: String, to destination: String) throws {
        try FileManager.default.copyItem(atPath: source, toPath: destination)
    }

    /// Every regular file under `directory` with its bytes, by relative path — to show that a
    /// failed command changed nothing.
    public static func snapshot(of directory: String) throws -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return result }
        while let relative = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let full = directory + "/" + relative
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue {
                result[relative] = try bytes(full)
            }
        }
        return result
    }
}
