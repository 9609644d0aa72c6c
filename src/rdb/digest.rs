//! DEBUG DIGEST-VALUE: a 20-byte SHA-1 based fingerprint of one value that depends only on the
//! value (and whether the key has a TTL), computed the way Redis 7.0 combines it: ordered
//! collections chain ("mix") their elements, unordered ones xor per-element digests, so two
//! nodes holding equal values agree whatever their internal order. Includes a small SHA-1.

use crate::keyspace::value::ValueRef;
use crate::types::stream::StreamId;

/// Redis' type numbers, mixed in first so equal bytes of different types differ.
const OBJ_STRING: u32 = 0;
const OBJ_LIST: u32 = 1;
const OBJ_SET: u32 = 2;
const OBJ_ZSET: u32 = 3;
const OBJ_HASH: u32 = 4;
const OBJ_STREAM: u32 = 6;

/// The digest of `v`; `has_ttl` adds the marker Redis adds for volatile keys.
pub fn digest_value(v: ValueRef<'_>, has_ttl: bool) -> [u8; 20] {
    let mut d = [0u8; 20];
    let t = match v {
        ValueRef::Str(_) => OBJ_STRING,
        ValueRef::List(_) => OBJ_LIST,
        ValueRef::Set(_) => OBJ_SET,
        ValueRef::ZSet(_) => OBJ_ZSET,
        ValueRef::Hash(_) => OBJ_HASH,
        ValueRef::Stream(_) => OBJ_STREAM,
    };
    mix(&mut d, &t.to_be_bytes());
    match v {
        ValueRef::Str(s) => mix(&mut d, s),
        ValueRef::List(l) if !l.is_empty() => l.range(0, l.len() - 1).for_each(|e| mix(&mut d, e)),
        ValueRef::List(_) => {}
        ValueRef::Set(s) => s.for_each(&mut |m| xor(&mut d, m)),
        ValueRef::ZSet(z) => {
            for e in z.iter() {
                let mut ed = [0u8; 20];
                mix(&mut ed, &e.member);
                mix(
                    &mut ed,
                    crate::resp::write::format_double_g17(e.score).as_bytes(),
                );
                xor(&mut d, &ed);
            }
        }
        ValueRef::Hash(h) => h.for_each(&mut |f, val| {
            let mut ed = [0u8; 20];
            mix(&mut ed, f);
            mix(&mut ed, val);
            xor(&mut d, &ed);
        }),
        // Entries chain in ID order: "ms.seq", then each field and value (groups are not part
        // of the digest, as in Redis).
        ValueRef::Stream(st) => st.range(StreamId::MIN, StreamId::MAX, false, |e| {
            mix(&mut d, format!("{}.{}", e.id.ms, e.id.seq).as_bytes());
            for (f, v) in e.fields() {
                mix(&mut d, f);
                mix(&mut d, v);
            }
            true
        }),
    }
    if has_ttl {
        xor(&mut d, b"!!expire!!");
    }
    d
}

/// Lowercase hex of a digest.
pub fn hex(d: &[u8; 20]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Order-independent step: xor the SHA-1 of `data` into `d`.
fn xor(d: &mut [u8; 20], data: &[u8]) {
    let h = sha1(data);
    d.iter_mut().zip(h).for_each(|(a, b)| *a ^= b);
}

/// Order-dependent step: xor in SHA-1(data), then replace `d` by SHA-1(d).
fn mix(d: &mut [u8; 20], data: &[u8]) {
    xor(d, data);
    *d = sha1(d);
}

/// SHA-1 (FIPS 180-4) of `data`.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let bit_len = (data.len() as u64).wrapping_mul(8);
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for block in msg.chunks_exact(64) {
        sha1_block(&mut h, block);
    }
    let mut out = [0u8; 20];
    for (i, w) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
    }
    out
}

fn sha1_block(h: &mut [u32; 5], block: &[u8]) {
    let mut w = [0u32; 80];
    for (i, c) in block.chunks_exact(4).enumerate() {
        w[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
    }
    for i in 16..80 {
        w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
    }
    let [mut a, mut b, mut c, mut d, mut e] = *h;
    for (i, &wi) in w.iter().enumerate() {
        let (f, k) = match i {
            0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
            20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
            40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
            _ => (b ^ c ^ d, 0xCA62_C1D6u32),
        };
        let t = a
            .rotate_left(5)
            .wrapping_add(f)
            .wrapping_add(e)
            .wrapping_add(k)
            .wrapping_add(wi);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = t;
    }
    for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
        *x = x.wrapping_add(y);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::value::{StrValue, Value};

    #[test]
    fn sha1_vectors() {
        // Guards the SHA-1 core against the standard test vectors.
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        let long = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        assert_eq!(hex(&sha1(long)), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    }

    #[test]
    fn digest_depends_on_value_and_ttl() {
        // Guards determinism: equal values agree, different values or TTL presence differ.
        let a = Value::Str(StrValue::from_slice(b"hello"));
        let b = Value::Str(StrValue::from_slice(b"hellp"));
        assert_eq!(
            digest_value(a.as_ref(), false),
            digest_value(a.clone().as_ref(), false)
        );
        assert_ne!(
            digest_value(a.as_ref(), false),
            digest_value(b.as_ref(), false)
        );
        assert_ne!(
            digest_value(a.as_ref(), false),
            digest_value(a.as_ref(), true)
        );
    }
}
