import Glibc

/// The exclusive writer lock: `flock(LOCK_EX)` on the journal's `LOCK` file, opened
/// close-on-exec (Format.md §5). The kernel drops it when the process dies, even by `SIGKILL`.
final class WriterLock {
    private let fd: Int32

    /// Takes the lock, retrying until `timeout` seconds have passed.
    /// - Throws: ``SegmentError`` `.busy` when another process holds it that long.
    init(journalPath: String, timeout: Double) throws {
        let path = journalPath + "/" + SegmentFormat.lockFileName
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw SegmentError(.io, "Cannot open the lock file '\(path)': \(Errno(errno)).", path: SegmentFormat.lockFileName, underlying: Errno(errno))
        }
        var waited = 0.0
        var pause = 0.001
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let error = errno
            guard error == EWOULDBLOCK || error == EINTR else {
                close(fd)
                throw SegmentError(.io, "Cannot lock '\(path)': \(Errno(error)).", path: SegmentFormat.lockFileName, underlying: Errno(error))
            }
            if waited >= timeout {
                close(fd)
                throw SegmentError(.busy, "Another process is writing to the journal at '\(journalPath)' (it holds '\(SegmentFormat.lockFileName)'); waited \(Int(timeout)) s. Try again when it has finished.", path: SegmentFormat.lockFileName)
            }
            usleep(useconds_t(pause * 1_000_000))
            waited += pause
            pause = min(pause * 2, 0.05)
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
