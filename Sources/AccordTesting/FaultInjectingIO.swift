import AccordSegments
import Foundation

/// A ``SegmentIO`` that fails on purpose: a short write followed by an error after a byte
/// budget, an error on every write, short writes that succeed (at most N bytes a call), a
/// failed `fdatasync`, or a failed truncate. Faults can be switched while a writer uses it.
public final class FaultInjectingIO: SegmentIO, @unchecked Sendable {
    /// What to do to the next operations.
    public enum Fault: Sendable, Equatable {
        /// Behave like the real system calls.
        case none
        /// Let `bytes` more bytes through (as a short write), then fail writes with `errno`.
        case failWrites(afterBytes: Int, errno: Int32)
        /// Let writes through, fail `fdatasync` with `errno`.
        case failSync(errno: Int32)
        /// Write at most `maxBytes` bytes a call (a short write, as `pwrite` may do), without
        /// failing: the writer must loop until the whole batch is written.
        case shortWrites(maxBytes: Int)
    }

    private let lock = NSLock()
    private var fault: Fault = .none
    private var budget = 0
    private let real = SystemSegmentIO()
    /// When true, `ftruncate` fails with `EIO` as well.
    public var failTruncate = false
    /// How many faults were injected (failed calls, and shortened writes).
    public private(set) var injected = 0

    /// An I/O that behaves like the real system calls until a fault is set.
    public init() {}

    /// Sets the fault for the operations that follow.
    public func set(_ fault: Fault) {
        lock.lock()
        defer { lock.unlock() }
        self.fault = fault
        if case .failWrites(let bytes, _) = fault { budget = bytes }
    }

    /// `pwrite(2)`, unless the current fault shortens or fails it.
    /// - Returns: the bytes written, or `-errno`.
    public func write(fd: Int32, bytes: UnsafeRawBufferPointer, at offset: Int64) -> Int {
        lock.lock()
        let current = fault
        lock.unlock()
        switch current {
        case .failWrites(_, let error):
            lock.lock()
            defer { lock.unlock() }
            if budget == 0 {
                injected += 1
                return -Int(error)
            }
            let allowed = min(budget, bytes.count)
            let wrote = real.write(fd: fd, bytes: UnsafeRawBufferPointer(rebasing: bytes[0..<allowed]), at: offset)
            if wrote > 0 { budget -= wrote }
            return wrote
        case .shortWrites(let maxBytes):
            let allowed = max(1, min(maxBytes, bytes.count))
            if allowed < bytes.count {
                lock.lock()
                injected += 1
                lock.unlock()
            }
            return real.write(fd: fd, bytes: UnsafeRawBufferPointer(rebasing: bytes[0..<allowed]), at: offset)
        default:
            return real.write(fd: fd, bytes: bytes, at: offset)
        }
    }

    /// `fdatasync(2)`, unless the current fault fails it.
    /// - Returns: 0, or `-errno`.
    public func sync(fd: Int32) -> Int32 {
        lock.lock()
        let current = fault
        lock.unlock()
        if case .failSync(let error) = current {
            lock.lock()
            injected += 1
            fault = .none  // the truncate-and-sync that undoes the write then succeeds
            lock.unlock()
            return -error
        }
        return real.sync(fd: fd)
    }

    /// `ftruncate(2)`, unless ``failTruncate`` is set (then `-EIO`).
    /// - Returns: 0, or `-errno`.
    public func truncate(fd: Int32, to length: Int64) -> Int32 {
        if failTruncate { return -EIO }
        return real.truncate(fd: fd, to: length)
    }
}
