/// Iterates a journal's batches in order; see ``SegmentDirectory/batches(from:tolerateTornTail:)``.
///
/// At the end it returns nil but keeps its place: calling ``next()`` again later picks up
/// batches appended since (what `accord log --follow` does).
public struct BatchIterator {
    private let directory: SegmentDirectory
    private let tolerateTornTail: Bool
    private var position: SegmentPosition
    private var scanner: SegmentScanner?
    private var lastSegment: Int
    /// Records returned so far, for error messages ("N earlier records are intact").
    public private(set) var recordsRead = 0
    /// The torn tail that ended the last ``next()``, if any.
    public private(set) var tornTail: Damage?

    /// Whether and how the batches read record their access points.
    private let accessPoints: AccessPointOptions?

    init(directory: SegmentDirectory, position: SegmentPosition, tolerateTornTail: Bool, accessPoints: AccessPointOptions? = nil) throws {
        self.directory = directory
        self.accessPoints = accessPoints
        self.position = position
        self.tolerateTornTail = tolerateTornTail
        lastSegment = try directory.segmentNumbers().last ?? 0
    }

    /// Where the next batch will be read from.
    public var nextPosition: SegmentPosition { position }

    /// The next complete batch, or nil at the end of the journal.
    /// - Throws: ``SegmentError`` `.corrupt` (damage with valid data after it), `.tornTail`
    ///   (when not tolerated), `.io`.
    public mutating func next() throws -> Batch? {
        tornTail = nil
        while true {
            if position.segment > lastSegment {
                lastSegment = try directory.segmentNumbers().last ?? 0
                if position.segment > lastSegment { return nil }
            }
            // The batch another reader of this directory just read and checked (the heads
            // cache's check), when the file has not changed since.
            if accessPoints == nil,
               let batch = directory.handoff.take(segment: position.segment, offset: position.offset, of: directory) {
                position.offset = batch.offset + Int64(batch.length)
                scanner?.seek(to: position.offset)
                recordsRead += batch.records.count
                return batch
            }
            if scanner == nil {
                scanner = try SegmentScanner(
                    path: directory.segmentPath(position.segment),
                    relativePath: SegmentDirectory.relativeSegmentPath(position.segment))
                scanner!.seek(to: position.offset)
                scanner!.accessPoints = accessPoints
            }
            let current = scanner!
            current.refreshSize()
            var payload: [UInt8] = []
            var newlines: [Int] = []
            switch try current.next(into: &payload, newlines: &newlines) {
            case .batch(let offset, let length, _):
                let batch = Batch(
                    segment: position.segment, offset: offset, length: length, payload: payload, newlines: newlines,
                    checksum: current.lastChecksum, accessPoints: current.lastAccessPoints)
                position.offset = offset + Int64(length)
                recordsRead += batch.records.count
                return batch
            case .end:
                lastSegment = try directory.segmentNumbers().last ?? 0
                if position.segment < lastSegment {
                    position = SegmentPosition(segment: position.segment + 1, offset: 0)
                    scanner = nil
                    continue
                }
                return nil
            case .invalid(let invalid):
                lastSegment = try directory.segmentNumbers().last ?? 0
                let damage = try current.classify(invalid, inLastSegment: position.segment == lastSegment)
                if damage.kind == .tornTail, tolerateTornTail {
                    tornTail = damage.damage
                    return nil
                }
                throw damage.error(intactRecords: recordsRead)
            }
        }
    }
}
