import Glibc
import Synchronization

/// A ``SegmentIO`` that kills its own process (`SIGKILL`) at a chosen point of writing, so that
/// tests of killed writers make the kill land exactly where they say: after `N` bytes of segment
/// data (the write that would cross `N` is cut short at it), or at the first `fdatasync` once
/// everything before it is written.
///
/// A child `accord` process uses it when, in a **debug build only**, the environment sets
/// ``crashAfterBytesVariable`` or ``crashBeforeSyncVariable``; release builds never read them
/// (``SegmentIOs/processDefault``). The byte count covers every segment write of the process,
/// from its start, in the order the writer issues them.
public final class CrashPointIO: SegmentIO {
    /// `ACCORD_CRASH_AFTER_BYTES`: a decimal byte count; the process kills itself once that many
    /// bytes of segment data have been written (0: before the first byte). A negative count `-N`
    /// cuts the first segment write `N` bytes short of its end instead (all but the last `N`
    /// bytes of a batch, whatever its exact size).
    public static let crashAfterBytesVariable = "ACCORD_CRASH_AFTER_BYTES"
    /// `ACCORD_CRASH_BEFORE_SYNC`: when `1`, the process kills itself when it first calls
    /// `fdatasync` on a segment, after its bytes were written but before they are durable.
    public static let crashBeforeSyncVariable = "ACCORD_CRASH_BEFORE_SYNC"

    private let real = SystemSegmentIO()
    private let budget: Int?
    private let crashBeforeSync: Bool
    private let written = Mutex(0)

    /// - Parameters:
    ///   - afterBytes: kill the process once this many bytes are written; nil for no byte limit.
    ///   - beforeSync: kill the process at its first `fdatasync`.
    public init(afterBytes: Int?, beforeSync: Bool) {
        self.budget = afterBytes
        self.crashBeforeSync = beforeSync
    }

    /// `pwrite(2)`, cut short and followed by `SIGKILL` when it would cross the byte budget.
    public func write(fd: Int32, bytes: UnsafeRawBufferPointer, at offset: Int64) -> Int {
        guard let budget else { return real.write(fd: fd, bytes: bytes, at: offset) }
        let allowed = written.withLock { written in
            if budget < 0 { return max(0, bytes.count + budget) }
            let allowed = min(bytes.count, max(0, budget - written))
            written += allowed
            return allowed
        }
        if allowed == bytes.count { return real.write(fd: fd, bytes: bytes, at: offset) }
        var done = 0
        while done < allowed {
            let wrote = real.write(fd: fd, bytes: UnsafeRawBufferPointer(rebasing: bytes[done..<allowed]), at: offset + Int64(done))
            if wrote <= 0 { break }
            done += wrote
        }
        Self.die()
    }

    /// `fdatasync(2)`, or `SIGKILL` instead when ``crashBeforeSyncVariable`` is set.
    public func sync(fd: Int32) -> Int32 {
        if crashBeforeSync { Self.die() }
        return real.sync(fd: fd)
    }

    /// `ftruncate(2)`.
    public func truncate(fd: Int32, to length: Int64) -> Int32 {
        real.truncate(fd: fd, to: length)
    }

    private static func die() -> Never {
        kill(getpid(), SIGKILL)
        while true { pause() }
    }
}

/// The I/O a ``SegmentWriter`` uses by default.
public enum SegmentIOs {
    /// The real system calls; in a debug build, a ``CrashPointIO`` when the environment asks for
    /// one (``CrashPointIO/crashAfterBytesVariable``, ``CrashPointIO/crashBeforeSyncVariable``).
    /// Read once per process.
    public static let processDefault: any SegmentIO = {
        #if DEBUG
        let bytes = getenv(CrashPointIO.crashAfterBytesVariable).flatMap { Int(String(cString: $0)) }
        let beforeSync = getenv(CrashPointIO.crashBeforeSyncVariable).map { String(cString: $0) == "1" } ?? false
        if bytes != nil || beforeSync { return CrashPointIO(afterBytes: bytes, beforeSync: beforeSync) }
        #endif
        return SystemSegmentIO()
    }()
}
