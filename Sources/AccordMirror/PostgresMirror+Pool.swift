import NIOPosix

extension PostgresMirror {
    /// A value handed between the mirror's task and a thread of the blocking pool, which only
    /// one of them uses at a time: the task awaits the work that holds it before it touches the
    /// value again.
    struct Exclusive<Value>: @unchecked Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    /// Runs CPU-bound `work` (reading and decoding the next transaction's events, folding this
    /// one's) on NIO's blocking thread pool rather than on Swift's cooperative pool, which has
    /// one thread per core. With both of those threads busy reading ahead and folding, the task
    /// that streams `COPY events` to the server waited for a thread, and the server had nothing
    /// to do (Mirror.md §3, step 5).
    static func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(work)
    }
}
