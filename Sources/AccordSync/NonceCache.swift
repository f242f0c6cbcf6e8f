import AccordModel
import Foundation

extension RequestSigning {
    /// The most nonces a server remembers for one site at once (SyncProtocol.md §4.3.1): a
    /// site that sends more signed requests than this within a window of ``window`` seconds
    /// gets 503 until the oldest expire. An honest sync sends 3 requests plus one per 8 MiB
    /// pushed.
    public static let nonceCapacityPerSite = 16_384
    /// The most nonces a server remembers for all sites together (about 100 bytes each).
    public static let nonceCapacity = 65_536
}

/// The nonces of admitted requests, each kept until its request's time is more than
/// ``RequestSigning/window`` seconds in the past (after which the time check refuses the request
/// anyway), so that a request replayed within its window is refused. Bounded by
/// ``RequestSigning/nonceCapacityPerSite`` and ``RequestSigning/nonceCapacity``; only requests
/// whose headers' signature verified are recorded, so only trusted sites can fill it.
final class NonceCache: @unchecked Sendable {
    enum Outcome {
        case inserted, seen, full
    }

    private let lock = NSLock()
    /// Per site: nonce bytes → the second after which the entry may be forgotten.
    private var entries: [SiteID: [[UInt8]: Int64]] = [:]
    private var total = 0
    private let perSite: Int
    private let capacity: Int

    init(perSite: Int = RequestSigning.nonceCapacityPerSite, capacity: Int = RequestSigning.nonceCapacity) {
        self.perSite = perSite
        self.capacity = capacity
    }

    /// Records `nonce` of `site`, signed at `seconds`; `.seen` when it is already recorded,
    /// `.full` when a bound is reached even after forgetting expired entries.
    func insert(site: SiteID, nonce: String, seconds: Int64, now: Int64) -> Outcome {
        let key = Array(nonce.utf8)
        lock.lock()
        defer { lock.unlock() }
        if let expiry = entries[site]?[key], expiry >= now { return .seen }
        if (entries[site]?.count ?? 0) >= perSite || total >= capacity { forgetExpired(now: now) }
        if (entries[site]?.count ?? 0) >= perSite || total >= capacity { return .full }
        if entries[site, default: [:]].updateValue(seconds + RequestSigning.window, forKey: key) == nil { total += 1 }
        return .inserted
    }

    private func forgetExpired(now: Int64) {
        for site in Array(entries.keys) {
            let kept = entries[site]!.filter { $0.value >= now }
            total -= entries[site]!.count - kept.count
            entries[site] = kept.isEmpty ? nil : kept
        }
    }
}
