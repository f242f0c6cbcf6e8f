import Glibc

/// The three system calls a journal writer makes on a segment file, behind a protocol so that
/// tests can inject faults (`AccordTesting.FaultInjectingIO`): short writes, `EIO`, `ENOSPC`,
/// failed `fdatasync`.
///
/// Each method returns `0`/a count on success or `-errno` on failure, as the system calls do.
public protocol SegmentIO: Sendable {
    /// `pwrite(2)`: writes up to `bytes.count` bytes at `offset`; returns the count written, or
    /// `-errno`.
    func write(fd: Int32, bytes: UnsafeRawBufferPointer, at offset: Int64) -> Int
    /// `fdatasync(2)`: returns 0 or `-errno`.
    func sync(fd: Int32) -> Int32
    /// `ftruncate(2)`: returns 0 or `-errno`.
    func truncate(fd: Int32, to length: Int64) -> Int32
}

/// The real system calls.
public struct SystemSegmentIO: SegmentIO {
    /// The real system calls; the default of ``SegmentWriter/Options/io``.
    public init() {}
    /// `pwrite(2)`; returns the count written, or `-errno`.
    public func write(fd: Int32, bytes: UnsafeRawBufferPointer, at offset: Int64) -> Int {
        let wrote = pwrite(fd, bytes.baseAddress, bytes.count, off_t(offset))
        return wrote < 0 ? -Int(errno) : wrote
    }
    /// `fdatasync(2)`; returns 0 or `-errno`.
    public func sync(fd: Int32) -> Int32 {
        return fdatasync(fd) == 0 ? 0 : -errno
    }
    /// `ftruncate(2)`; returns 0 or `-errno`.
    public func truncate(fd: Int32, to length: Int64) -> Int32 {
        ftruncate(fd, off_t(length)) == 0 ? 0 : -errno
    }
}
