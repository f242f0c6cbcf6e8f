import Dispatch

/// Work started on another thread now and waited for later: the one thread that runs it writes
/// only this object's result, which is read only after ``withResult(_:)`` has waited for the
/// work to finish (STYLE.md §16; the wait is a `DispatchGroup` wait, a join).
///
/// The event iterator decodes the next batch with it while the caller is still handed the
/// events of the current one, so that the second core does not idle while the caller works.
///
/// ```swift
/// let next = BackgroundWork { decode(batch) }
/// … // other work
/// let events = next.withResult { $0 }
/// ```
package final class BackgroundWork<Value>: @unchecked Sendable {
    /// Written once by the work's thread, before the group is left; read after waiting for it.
    private var result: Value?
    private let group = DispatchGroup()

    /// Starts `work` on another thread at once.
    /// - Parameter work: the work; it must touch nothing the caller uses before waiting for it.
    package init(_ work: @escaping () -> Value) {
        let task = Task(work: work)
        DispatchQueue.global().async(group: group) { [self] in
            result = task.work()
        }
    }

    /// Waits for the work to finish, then calls `body` with its result (which `body` may change,
    /// e.g. to move part of it out).
    /// - Returns: what `body` returns.
    package func withResult<R>(_ body: (inout Value) -> R) -> R {
        group.wait()
        return body(&result!)
    }

    /// The work, handed to the other thread once.
    private struct Task: @unchecked Sendable {
        let work: () -> Value
    }
}
