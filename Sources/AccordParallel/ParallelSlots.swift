import Dispatch

/// Runs a fixed number of tasks at once on every core, each writing only its own result slot
/// (STYLE.md §16).
///
/// The results are one buffer allocated before the tasks start; task `i` initializes slot `i`
/// and touches no other, and the buffer is read only after
/// `DispatchQueue.concurrentPerform` has returned, which it does once every task has finished.
/// No two threads ever write the same storage, so there is nothing to lock and nothing for
/// ThreadSanitizer to report.
///
/// ```swift
/// let halves = ParallelSlots.map(2) { part in compress(half: part) }
/// ```
package enum ParallelSlots {
    /// The results of `task(0)`, `task(1)`, … `task(count - 1)`, in that order, computed at once.
    ///
    /// - Parameters:
    ///   - count: how many tasks; 0 gives an empty array (after running `alongside`).
    ///   - alongside: other work to run at the same time as the tasks, on one of the threads
    ///     (the event iterator reads and inflates the next batch there). It is started first,
    ///     as it is usually the longest, and has finished when this returns. It may write
    ///     storage that the caller owns and reads after the call, and nothing the tasks touch.
    ///   - task: computes one slot's value from its index; it must not touch the other slots'
    ///     inputs in a way that writes them.
    /// - Returns: the tasks' results, in index order.
    /// - Complexity: `count` calls of `task` spread over the cores, plus `alongside`.
    package static func map<Value>(
        _ count: Int, alongside: (() -> Void)? = nil, _ task: (Int) -> Value
    ) -> [Value] {
        map(count, run: 1, alongside: alongside, state: {}) { index, _ in task(index) }
    }

    /// The results of `task` for `0..<count`, in index order, computed in runs of `run`
    /// consecutive indices at once on every core; each run starts with a fresh `state()`, which
    /// its task calls carry from one index to the next (a decoder's memo).
    ///
    /// Each run initializes its own slots of the one result buffer, in place: nothing is copied
    /// or joined afterwards (flattening per-run arrays copied every value, retaining whatever it
    /// holds, on the calling thread alone). Runs touch disjoint slots, and the buffer is read only
    /// after `DispatchQueue.concurrentPerform` has returned (STYLE.md §16).
    ///
    /// - Parameters:
    ///   - count: how many values; 0 gives an empty array (after running `alongside`).
    ///   - run: indices per run, at least 1.
    ///   - alongside: as in ``map(_:alongside:_:)``: started first, finished when this returns.
    ///   - state: a run's starting state.
    ///   - task: computes index `i`'s value, reading and updating its run's state.
    /// - Returns: the values, in index order.
    package static func map<Value, State>(
        _ count: Int, run: Int, alongside: (() -> Void)? = nil, state: () -> State, _ task: (Int, inout State) -> Value
    ) -> [Value] {
        precondition(count >= 0 && run >= 1, "a negative number of values or an empty run")
        let runs = (count + run - 1) / run
        return withoutActuallyEscaping(state) { state in
            withoutActuallyEscaping(task) { task in
                [Value](unsafeUninitializedCapacity: count) { buffer, initialized in
                    let work = RunWork(slots: buffer.baseAddress, count: count, run: run, state: state, task: task, alongside: alongside)
                    let first = alongside == nil ? 0 : 1
                    DispatchQueue.concurrentPerform(iterations: runs + first) { iteration in
                        if iteration < first {
                            work.alongside?()
                        } else {
                            let start = (iteration - first) * work.run
                            var local = work.state()
                            for index in start..<min(work.count, start + work.run) {
                                (work.slots! + index).initialize(to: work.task(index, &local))
                            }
                        }
                    }
                    initialized = count
                }
            }
        }
    }

    /// What the threads share for ``map(_:run:alongside:state:_:)``: read-only, except that
    /// each run initializes its own slots.
    private struct RunWork<Value, State>: @unchecked Sendable {
        let slots: UnsafeMutablePointer<Value>?
        let count: Int
        let run: Int
        let state: () -> State
        let task: (Int, inout State) -> Value
        let alongside: (() -> Void)?
    }
}
