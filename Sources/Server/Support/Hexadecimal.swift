extension Sequence<UInt8> {
    /// The bytes as lowercase hexadecimal, two digits each: how hashes, MACs and tokens
    /// are written out.
    var hexadecimal: String {
        map { byte in
            let digits = String(byte, radix: 16)
            return byte < 0x10 ? "0" + digits : digits
        }.joined()
    }
}
