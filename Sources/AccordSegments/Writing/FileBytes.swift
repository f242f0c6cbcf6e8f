import Glibc

/// Small, durable whole-file operations over POSIX calls (`open`, `write`, `fsync`, `rename`).
public enum FileBytes {
    /// Reads a whole file.
    /// - Parameter limit: the largest size accepted, in bytes.
    /// - Throws: ``SegmentError`` `.io` when the file cannot be read or is larger than `limit`.
    public static func read(_ path: String, limit: Int = 64 << 20) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SegmentError(.io, "Cannot open '\(path)': \(Errno(errno)).", path: path, underlying: Errno(errno)) }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw SegmentError(.io, "Cannot read '\(path)': \(Errno(errno)).", path: path, underlying: Errno(errno))
            }
            if got == 0 { return result }
            result.append(contentsOf: chunk[0..<got])
            if result.count > limit {
                throw SegmentError(.io, "'\(path)' is larger than \(limit) bytes.", path: path)
            }
        }
    }

    /// Creates a new file (failing if it exists) with `bytes`, synced to disk.
    ///
    /// A file this call created is removed again when a later step fails (a full disk, a failed
    /// `fsync`), so a failure leaves nothing behind; a file that existed is never touched.
    /// - Parameters:
    ///   - mode: permission bits, e.g. `0o600` for a private key.
    ///   - durable: false for a scratch file that is read back and removed at once (a received
    ///     bundle): neither it nor its directory is synced.
    /// - Throws: ``SegmentError`` `.io` when the file exists, or cannot be created, written or
    ///   synced; `.diskFull` when the disk is full.
    public static func writeNew(_ path: String, bytes: [UInt8], mode: mode_t, durable: Bool = true) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SegmentError(.io, "Cannot create '\(path)': \(Errno(errno)).", path: path, underlying: Errno(errno)) }
        do {
            _ = fchmod(fd, mode)  // the umask must not widen or narrow what was asked for
            try writeAll(fd, bytes, path: path)
            guard !durable || fsync(fd) == 0 else {
                let error = Errno(errno)
                throw SegmentError(error.rawValue == ENOSPC ? .diskFull : .io, "Cannot sync '\(path)': \(error).", path: path, underlying: error)
            }
        } catch {
            close(fd)
            unlink(path)  // O_EXCL: the file is this call's own
            throw error
        }
        close(fd)
        if durable { try syncDirectory(parent(of: path)) }
    }

    /// Replaces `path` with `bytes` atomically: write a temporary file, sync it, rename it over
    /// the old one, sync the directory. A crash leaves either the old or the new content; any
    /// other failure (a full disk, an I/O error) leaves the old content and removes the
    /// temporary file (`<path>.tmp-<pid>`). This is the one way Accord replaces a whole file.
    ///
    /// When `path` names something that is not a regular file — a character device such as
    /// `/dev/null` or `/dev/stdout`, a FIFO, a socket — there is nothing to replace: the bytes
    /// are written to it in place. (Renaming over it would replace the device with a regular
    /// file, which root is allowed to do: `--out /dev/null` once turned `/dev/null` into a file.)
    /// - Throws: ``SegmentError`` `.io` (or `.diskFull`) when a step fails.
    public static func writeAtomically(_ path: String, bytes: [UInt8], mode: mode_t = 0o644) throws {
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG, (info.st_mode & S_IFMT) != S_IFDIR {
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SegmentError(.io, "Cannot open '\(path)' to write: \(Errno(errno)).", path: path, underlying: Errno(errno)) }
            defer { close(fd) }
            try writeAll(fd, bytes, path: path)
            return
        }
        let temporary = path + ".tmp-\(getpid())"
        unlink(temporary)
        try writeNew(temporary, bytes: bytes, mode: mode)
        guard rename(temporary, path) == 0 else {
            let error = Errno(errno)
            unlink(temporary)
            throw SegmentError(.io, "Cannot rename '\(temporary)' to '\(path)': \(error).", path: path, underlying: error)
        }
        try syncDirectory(parent(of: path))
    }

    /// `fsync` on a directory, so that a file created or renamed in it survives power loss.
    /// - Throws: ``SegmentError`` `.io` when the directory cannot be opened or synced.
    public static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SegmentError(.io, "Cannot open the directory '\(path)': \(Errno(errno)).", path: path, underlying: Errno(errno)) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw SegmentError(.io, "Cannot sync the directory '\(path)': \(Errno(errno)).", path: path, underlying: Errno(errno)) }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        var done = 0
        try bytes.withUnsafeBytes { raw in
            while done < raw.count {
                let wrote = write(fd, raw.baseAddress! + done, raw.count - done)
                if wrote < 0 {
                    if errno == EINTR { continue }
                    throw SegmentError(errno == ENOSPC ? .diskFull : .io, "Cannot write '\(path)': \(Errno(errno)).", path: path, underlying: Errno(errno))
                }
                done += wrote
            }
        }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
