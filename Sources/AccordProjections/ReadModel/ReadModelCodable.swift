import AccordModel

/// A value that a read-model file holds (Format.md §9.4.3): encoded by hand, field by field, in
/// the order the spec gives; never through `Codable`.
public protocol ReadModelCodable {
    /// Writes the value.
    func encode(to out: inout ReadModelEncoder) throws
    /// Reads a value written by ``encode(to:)``.
    init(from input: inout ReadModelDecoder) throws
}

extension String: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws { try out.text(self) }
    public init(from input: inout ReadModelDecoder) throws { self = try input.text() }
}

extension Int: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws { try out.i64(Int64(self)) }
    public init(from input: inout ReadModelDecoder) throws { self = Int(try input.i64()) }
}

extension UInt64: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws { try out.u64(self) }
    public init(from input: inout ReadModelDecoder) throws { self = try input.u64() }
}

extension Optional: ReadModelCodable where Wrapped: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws {
        if let value = self {
            try out.u8(1)
            try value.encode(to: &out)
        } else {
            try out.u8(0)
        }
    }

    public init(from input: inout ReadModelDecoder) throws {
        let at = input.offset
        switch try input.u8() {
        case 0: self = nil
        case 1: self = try Wrapped(from: &input)
        case let other: throw ReadModelRejection("The presence byte at \(at) is \(other), not 0 or 1.")
        }
    }
}

extension Array: ReadModelCodable where Element: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws {
        try out.count(count)
        for element in self { try element.encode(to: &out) }
    }

    public init(from input: inout ReadModelDecoder) throws {
        let count = try input.count()
        self = []
        for _ in 0..<count { append(try Element(from: &input)) }
    }
}

extension Dictionary: ReadModelCodable where Key == String, Value: ReadModelCodable {
    public func encode(to out: inout ReadModelEncoder) throws {
        try out.count(count)
        for (key, value) in self {
            try out.text(key)
            try value.encode(to: &out)
        }
    }

    public init(from input: inout ReadModelDecoder) throws {
        let count = try input.count(each: 4)
        self = [:]
        // Bounded whatever the count claims; most maps of a state are smaller.
        reserveCapacity(Swift.min(count, 1 << 16))
        for _ in 0..<count {
            let at = input.offset
            let key = try input.text()
            let value = try Value(from: &input)
            guard updateValue(value, forKey: key) == nil else {
                throw ReadModelRejection("The key at byte \(at) appears twice in one map.")
            }
        }
    }
}
