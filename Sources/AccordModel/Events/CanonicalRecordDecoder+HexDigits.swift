extension CanonicalRecordDecoder {
    /// 64 bytes of hex digits, held by value (nothing allocated per record).
    struct HexDigits: Equatable {
        private var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

        /// The 64 bytes at `base`.
        init(_ base: UnsafeRawPointer) {
            func word(_ n: Int) -> UInt64 { base.loadUnaligned(fromByteOffset: 8 * n, as: UInt64.self) }
            words = (word(0), word(1), word(2), word(3), word(4), word(5), word(6), word(7))
        }

        static func == (a: Self, b: Self) -> Bool {
            (a.words.0 ^ b.words.0) | (a.words.1 ^ b.words.1) | (a.words.2 ^ b.words.2) | (a.words.3 ^ b.words.3)
                | (a.words.4 ^ b.words.4) | (a.words.5 ^ b.words.5) | (a.words.6 ^ b.words.6) | (a.words.7 ^ b.words.7) == 0
        }
    }
}
