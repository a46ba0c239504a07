/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320): detects torn writes
/// of the plaintext superblock header, the one structure read before unlock.
/// Bitwise on purpose: no table to place in RAM on a microcontroller.
public enum CRC32 {
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 {
                let mask = 0 &- (crc & 1)
                crc = (crc >> 1) ^ (0xEDB8_8320 & mask)
            }
        }
        return ~crc
    }
}
