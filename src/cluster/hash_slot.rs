//! Key -> hash slot: CRC16/XMODEM of the key (or of its `{hash tag}`) modulo 16384.

/// The bytes of `key` that decide its slot: the first non-empty `{...}` tag, else the whole key.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(s) = memchr::memchr(b'{', key) {
        if let Some(len) = memchr::memchr(b'}', &key[s + 1..]) {
            if len > 0 {
                return &key[s + 1..s + 1 + len];
            }
        }
    }
    key
}

/// The hash slot of `key` (0..16384).
pub fn key_hash_slot(key: &[u8]) -> u16 {
    crc16::State::<crc16::XMODEM>::calculate(hash_tag(key)) & 0x3FFF
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_from_redis() {
        assert_eq!(key_hash_slot(b"123456789"), 12739);
        assert_eq!(key_hash_slot(b""), 0);
        assert_eq!(key_hash_slot(b"foo{bar}{zap}"), key_hash_slot(b"bar"));
        assert_eq!(
            key_hash_slot(b"foo{}{bar}"),
            crc16::State::<crc16::XMODEM>::calculate(b"foo{}{bar}") & 0x3FFF
        );
        assert_eq!(key_hash_slot(b"foo{{bar}}zap"), key_hash_slot(b"{bar"));
    }
}
