//! LZF, the byte-oriented compressor of Redis' RDB/DUMP strings. The compressor follows the
//! reference algorithm's exact choices (hash of the next three bytes over a 65536-slot table,
//! literal runs of at most 32 bytes, back references of 3..=264 bytes within 8 KiB, and the
//! two table refreshes after each match) so slotd's DUMP bytes equal Redis'. Decompression
//! checks every bound and never writes past the announced length.

/// Longest literal run one control byte can announce.
const LITERAL_RUN_MAX: usize = 32;
/// Longest back reference (bytes copied): 2 + 7 + 255.
const REF_LEN_MAX: usize = 264;
/// Farthest back a reference may point (bytes).
const REF_OFFSET_MAX: usize = 1 << 13;
/// Hash table slots (16 bits of index).
const HASH_SLOTS: usize = 1 << 16;

fn hash_index(h: u32) -> usize {
    ((h >> 8).wrapping_sub(h.wrapping_mul(5)) as usize) & (HASH_SLOTS - 1)
}

/// The first two bytes at `ip` as the start of a rolling hash.
fn first(input: &[u8], ip: usize) -> u32 {
    ((input[ip] as u32) << 8) | input[ip + 1] as u32
}

/// Rolls the third byte at `ip` into the hash (older bytes fall off the 32-bit top).
fn next(h: u32, input: &[u8], ip: usize) -> u32 {
    (h << 8) | input[ip + 2] as u32
}

/// Compresses `input` into at most `out_max` bytes; None when it does not fit (Redis then
/// stores the string plain).
pub fn compress(input: &[u8], out_max: usize) -> Option<Vec<u8>> {
    let n = input.len();
    if n < 2 {
        return None;
    }
    // Slot value 0 means "nothing yet": position 0 is never used as a reference anyway.
    let mut table = vec![0u32; HASH_SLOTS];
    let mut out = vec![0u8; out_max + 8];
    let out_end = out_max;
    let mut op = 1; // byte 0 is reserved for the first literal run's length
    let mut lit = 0usize;
    let mut ip = 0usize;
    let mut h = first(input, ip);
    while ip + 2 < n {
        h = next(h, input, ip);
        let slot = hash_index(h);
        let rf = table[slot] as usize;
        table[slot] = ip as u32;
        let is_match = rf > 0
            && rf < ip
            && ip - rf - 1 < REF_OFFSET_MAX
            && input[rf + 2] == input[ip + 2]
            && input[rf] == input[ip]
            && input[rf + 1] == input[ip + 1];
        if !is_match {
            if op >= out_end {
                return None;
            }
            lit += 1;
            out[op] = input[ip];
            op += 1;
            ip += 1;
            if lit == LITERAL_RUN_MAX {
                out[op - lit - 1] = (lit - 1) as u8;
                lit = 0;
                op += 1;
            }
            continue;
        }
        let off = ip - rf - 1;
        let maxlen = (n - ip - 2).min(REF_LEN_MAX);
        if op + 4 >= out_end && op - usize::from(lit == 0) + 4 >= out_end {
            return None;
        }
        out[op - lit - 1] = (lit as u8).wrapping_sub(1);
        op -= usize::from(lit == 0);
        let len = match_len(input, rf, ip, maxlen) - 2;
        ip += 1;
        if len < 7 {
            out[op] = ((off >> 8) + (len << 5)) as u8;
            op += 1;
        } else {
            out[op] = ((off >> 8) + (7 << 5)) as u8;
            out[op + 1] = (len - 7) as u8;
            op += 2;
        }
        out[op] = off as u8;
        op += 2; // the reference's last byte, then room for the next run's length
        lit = 0;
        ip += len + 1;
        if ip + 2 >= n {
            break;
        }
        // Refresh the table with the two positions just before where scanning resumes.
        ip -= 2;
        h = next(first(input, ip), input, ip);
        table[hash_index(h)] = ip as u32;
        ip += 1;
        h = next(h, input, ip);
        table[hash_index(h)] = ip as u32;
        ip += 1;
    }
    if op + 3 > out_end {
        return None;
    }
    while ip < n {
        lit += 1;
        out[op] = input[ip];
        op += 1;
        ip += 1;
        if lit == LITERAL_RUN_MAX {
            out[op - lit - 1] = (lit - 1) as u8;
            lit = 0;
            op += 1;
        }
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1);
    op -= usize::from(lit == 0);
    out.truncate(op);
    Some(out)
}

/// How many bytes at `ip` equal those at `rf` (at least the 3 already checked), extended the
/// way the reference does: 16 unchecked-against-`maxlen` steps first when `maxlen` > 16 (the
/// input still holds them), then step by step up to `maxlen`.
fn match_len(input: &[u8], rf: usize, ip: usize, maxlen: usize) -> usize {
    let mut len = 2;
    if maxlen > 16 {
        for _ in 0..16 {
            len += 1;
            if input[rf + len] != input[ip + len] {
                return len;
            }
        }
    }
    loop {
        len += 1;
        if !(len < maxlen && input[rf + len] == input[ip + len]) {
            return len;
        }
    }
}

/// Decompresses `input` into exactly `out_len` bytes; None on any malformed input.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(out_len);
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < LITERAL_RUN_MAX {
            let run = ctrl + 1;
            let bytes = input.get(ip..ip + run)?;
            if out.len() + run > out_len {
                return None;
            }
            out.extend_from_slice(bytes);
            ip += run;
            continue;
        }
        let mut len = ctrl >> 5;
        if len == 7 {
            len += *input.get(ip)? as usize;
            ip += 1;
        }
        let back = ((ctrl & 0x1F) << 8) + *input.get(ip)? as usize + 1;
        ip += 1;
        let len = len + 2;
        if back > out.len() || out.len() + len > out_len {
            return None;
        }
        let start = out.len() - back;
        // Byte by byte: the source may overlap what this copy writes.
        for i in 0..len {
            let b = out[start + i];
            out.push(b);
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_refusal() {
        // Guards that what we compress decompresses back, and that incompressible data is refused.
        let data = b"abcabcabcabcabcabcabcabcabcabcabcabcabcabc hello hello hello".repeat(20);
        let c = compress(&data, data.len() - 4).expect("compressible");
        assert!(c.len() < data.len());
        assert_eq!(decompress(&c, data.len()).as_deref(), Some(&data[..]));
        let noise: Vec<u8> = (0..200u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        assert!(compress(&noise, noise.len() - 4).is_none());
    }

    #[test]
    fn known_redis_bytes() {
        // Guards byte equality with Redis: 40 x 'a' is stored as this LZF blob by Redis 7.0.
        let c = compress(&[b'a'; 40], 36).expect("compressible");
        assert_eq!(
            c,
            vec![0x01, 0x61, 0x61, 0xE0, 0x1B, 0x00, 0x01, 0x61, 0x61]
        );
    }

    #[test]
    fn decompress_rejects_garbage() {
        // Guards against panics and over-long output on malformed input.
        assert!(decompress(&[0x05, b'a'], 6).is_none());
        assert!(decompress(&[0x20, 0x00], 3).is_none());
        assert!(decompress(&[0x00, b'a', 0xE0], 300).is_none());
        assert!(decompress(&[0x00, b'a', 0xE0, 0xFF, 0x00], 10).is_none());
        assert!(decompress(&[], 0).is_some());
    }
}
