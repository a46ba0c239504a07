/// Bech32 (BIP 173) as the age format uses it: no 90-character limit, and
/// the checksum computed over the lowercase form (age secret keys are
/// written in uppercase).
public enum Bech32 {
    public enum DecodingError: Error, Equatable, CustomStringConvertible {
        case mixedCase
        case missingSeparator
        case invalidCharacter(Character)
        case badChecksum
        case badPadding

        public var description: String {
            switch self {
            case .mixedCase: return "Bech32 string mixes upper and lower case"
            case .missingSeparator: return "Bech32 string has no '1' separator or too short a checksum"
            case .invalidCharacter(let c): return "Bech32 string contains invalid character '\(c)'"
            case .badChecksum: return "Bech32 checksum does not match (a typo?)"
            case .badPadding: return "Bech32 data has invalid padding"
            }
        }
    }

    private static let charset = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)

    private static func polymod(_ values: [UInt8]) -> UInt32 {
        let generator: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
        var chk: UInt32 = 1
        for v in values {
            let top = chk >> 25
            chk = (chk & 0x1ff_ffff) << 5 ^ UInt32(v)
            for i in 0..<5 where (top >> i) & 1 == 1 { chk ^= generator[i] }
        }
        return chk
    }

    private static func expand(_ hrp: [UInt8]) -> [UInt8] {
        hrp.map { $0 >> 5 } + [0] + hrp.map { $0 & 31 }
    }

    /// Regroups bits (8 → 5 when encoding, 5 → 8 when decoding).
    static func convert(_ data: [UInt8], from: Int, to: Int, pad: Bool) throws(DecodingError) -> [UInt8] {
        var acc = 0, bits = 0
        var out: [UInt8] = []
        let maxv = (1 << to) - 1
        for value in data {
            acc = (acc << from) | Int(value)
            bits += from
            while bits >= to {
                bits -= to
                out.append(UInt8((acc >> bits) & maxv))
            }
        }
        if pad {
            if bits > 0 { out.append(UInt8((acc << (to - bits)) & maxv)) }
        } else if bits >= from || ((acc << (to - bits)) & maxv) != 0 {
            throw .badPadding
        }
        return out
    }

    /// Encodes `data` with human-readable part `hrp` (lowercase output).
    public static func encode(hrp: String, data: [UInt8]) -> String {
        let h = Array(hrp.lowercased().utf8)
        let values = (try? convert(data, from: 8, to: 5, pad: true)) ?? []
        let mod = polymod(expand(h) + values + [0, 0, 0, 0, 0, 0]) ^ 1
        let checksum = (0..<6).map { UInt8((mod >> (5 * (5 - $0))) & 31) }
        return String(decoding: h + [UInt8(ascii: "1")] + (values + checksum).map { charset[Int($0)] }, as: UTF8.self)
    }

    /// Decodes a Bech32 string into its (lowercase) human-readable part and data.
    public static func decode(_ text: String) throws(DecodingError) -> (hrp: String, data: [UInt8]) {
        let lower = text.lowercased(), upper = text.uppercased()
        guard text == lower || text == upper else { throw .mixedCase }
        let bytes = Array(lower.utf8)
        guard let sep = bytes.lastIndex(of: UInt8(ascii: "1")), sep >= 1, bytes.count - sep - 1 >= 6 else {
            throw .missingSeparator
        }
        let hrp = Array(bytes[..<sep])
        for c in hrp where c < 33 || c > 126 { throw .invalidCharacter(Character(UnicodeScalar(c))) }
        var values: [UInt8] = []
        for c in bytes[(sep + 1)...] {
            guard let v = charset.firstIndex(of: c) else { throw .invalidCharacter(Character(UnicodeScalar(c))) }
            values.append(UInt8(v))
        }
        guard polymod(expand(hrp) + values) == 1 else { throw .badChecksum }
        let data = try convert(Array(values.dropLast(6)), from: 5, to: 8, pad: false)
        return (String(decoding: hrp, as: UTF8.self), data)
    }
}
