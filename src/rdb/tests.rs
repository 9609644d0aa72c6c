//! Payload tests: byte equality with Redis 7.0.15's DUMP for the same values (captured in
//! `redis_dumps.txt`), roundtrips of every encoding, and refusal of damaged payloads.

use super::*;
use crate::keyspace::value::{StrValue, Value};
use crate::types::list::ListValue;
use crate::types::zset::{Limits, ZSetValue};
use crate::types::{hash::HashValue, set::SetValue};

fn redis_dump(name: &str) -> Vec<u8> {
    captured(include_str!("redis_dumps.txt"), name)
}

/// The bytes on the line of `text` that starts with `name` (lines of "name hex").
pub(in crate::rdb) fn captured(text: &str, name: &str) -> Vec<u8> {
    let line = text
        .lines()
        .find(|l| l.split(' ').next() == Some(name))
        .expect("captured bytes");
    let hex = line.split(' ').nth(1).expect("hex");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digit"))
        .collect()
}

fn s(b: &str) -> Value {
    Value::Str(StrValue::from_slice(b.as_bytes()))
}

fn list(items: &[String]) -> Value {
    let v: Vec<&[u8]> = items.iter().map(|s| s.as_bytes()).collect();
    Value::List(ListValue::from_slices(&v))
}

fn zset(pairs: &[(f64, String)]) -> Value {
    let mut z = ZSetValue::new();
    for (score, m) in pairs {
        z.set(m.as_bytes(), *score, Limits::default());
    }
    Value::ZSet(z)
}

fn hash(pairs: &[(&str, &str)]) -> Value {
    let mut h = HashValue::new();
    pairs.iter().for_each(|(f, v)| {
        h.set(f.as_bytes(), v.as_bytes());
    });
    Value::Hash(h)
}

fn set(members: &[&str]) -> Value {
    let mut st = SetValue::new();
    members.iter().for_each(|m| {
        st.insert(m.as_bytes());
    });
    Value::Set(st)
}

fn long_text() -> String {
    (0..60)
        .map(|i| format!("the quick brown fox {} jumps; ", i % 7))
        .collect()
}

fn strs(v: impl Iterator<Item = String>) -> Vec<String> {
    v.collect()
}

/// Every value whose Redis DUMP was captured, by name.
fn captured_values() -> Vec<(&'static str, Value)> {
    vec![
        ("str", s("hello")),
        ("int", s("123")),
        ("big", s("12345678901")),
        ("neg", s("-70000")),
        ("long", s(&long_text())),
        ("a40", s(&"a".repeat(40))),
        (
            "list",
            list(&strs(
                ["a", "b", "c", "1", "2", "-5", "300", "70000"]
                    .iter()
                    .map(|x| x.to_string()),
            )),
        ),
        (
            "biglist",
            list(&strs((0..3000).map(|i| format!("elem-{i}")))),
        ),
        (
            "bigz",
            zset(
                &(0..300)
                    .map(|i| (i as f64 * 1.5, format!("m{i}")))
                    .collect::<Vec<_>>(),
            ),
        ),
        (
            "z",
            zset(&[
                (1.0, "a".into()),
                (2.5, "b".into()),
                (-3.0, "c".into()),
                (0.1, "d".into()),
                (1e20, "e".into()),
            ]),
        ),
        (
            "h",
            hash(&[("f1", "v1"), ("f2", "2"), ("f3", &"x".repeat(30))]),
        ),
        ("is", set(&["1", "2", "3", "70000", "-5"])),
        ("is8", set(&["1", "9999999999"])),
    ]
}

#[test]
fn dump_bytes_equal_redis() {
    // Guards byte-for-byte DUMP compatibility with Redis 7.0 for every deterministic encoding.
    for (name, v) in captured_values() {
        assert_eq!(
            dump(v.as_ref(), DumpOpts::default()),
            redis_dump(name),
            "{name}"
        );
    }
}

#[test]
fn redis_payloads_restore_to_the_same_values() {
    // Guards that what Redis dumps decodes to the value it was made from.
    for (name, v) in captured_values() {
        let back = restore(&redis_dump(name), Limits::default()).expect(name);
        assert_eq!(back, v, "{name}");
    }
}

#[test]
fn large_unordered_values_roundtrip() {
    // Guards the hashtable encodings (types 2 and 4), whose element order is not Redis'.
    let pairs: Vec<(String, String)> = (0..600)
        .map(|i| (format!("f{i}"), format!("v{i}")))
        .collect();
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let members: Vec<String> = (0..700).map(|i| format!("m{i}")).collect();
    let mrefs: Vec<&str> = members.iter().map(|s| s.as_str()).collect();
    let ints: Vec<String> = (0..600).map(|i| (i * 7).to_string()).collect();
    let irefs: Vec<&str> = ints.iter().map(|s| s.as_str()).collect();
    for v in [
        hash(&refs),
        set(&mrefs),
        set(&irefs),
        s(&"z".repeat(100_000)),
    ] {
        let p = dump(v.as_ref(), DumpOpts::default());
        assert_eq!(restore(&p, Limits::default()).expect("valid"), v);
        let plain = dump(
            v.as_ref(),
            DumpOpts {
                compress: false,
                list_fill: -2,
            },
        );
        assert_eq!(restore(&plain, Limits::default()).expect("valid"), v);
    }
}

/// A payload from a body: adds version and CRC.
fn seal(body: &[u8], version: u16) -> Vec<u8> {
    let mut p = body.to_vec();
    p.extend_from_slice(&version.to_le_bytes());
    let crc = crc64::crc64(0, &p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

#[test]
fn legacy_encodings_restore() {
    // Guards the older types a 7.0 node still accepts: plain list, text-score zset, ziplists.
    let plain_list = seal(&[types::LIST, 2, 1, b'a', 0xC0, 5], 9);
    assert_eq!(
        restore(&plain_list, Limits::default()),
        Ok(list(&["a".into(), "5".into()]))
    );
    let old_zset = seal(
        &[types::ZSET, 2, 1, b'a', 3, b'1', b'.', b'5', 1, b'b', 254],
        6,
    );
    let want = zset(&[(1.5, "a".into()), (f64::INFINITY, "b".into())]);
    assert_eq!(restore(&old_zset, Limits::default()), Ok(want));
    let mut zl = vec![15, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 1, b'x', 3, 0xF3, 0xFF];
    zl[0] = zl.len() as u8;
    let mut body = vec![types::LIST_ZIPLIST, zl.len() as u8];
    body.extend_from_slice(&zl);
    assert_eq!(
        restore(&seal(&body, 7), Limits::default()),
        Ok(list(&["x".into(), "2".into()]))
    );
    let mut body = vec![types::LIST_QUICKLIST, 1, zl.len() as u8];
    body.extend_from_slice(&zl);
    assert_eq!(
        restore(&seal(&body, 9), Limits::default()),
        Ok(list(&["x".into(), "2".into()]))
    );
    // A PLAIN quicklist node holds one element as is.
    let body = [types::LIST_QUICKLIST_2, 1, 1, 3, b'b', b'i', b'g'];
    assert_eq!(
        restore(&seal(&body, 10), Limits::default()),
        Ok(list(&["big".into()]))
    );
}

#[test]
fn damaged_payloads_are_refused_without_panic() {
    // Guards the exact error class for footer damage versus body damage, and no panics.
    let good = dump(
        list(&strs((0..50).map(|i| format!("e{i}")))).as_ref(),
        DumpOpts::default(),
    );
    let lim = Limits::default();
    assert_eq!(
        restore(&good[..5], lim),
        Err(PayloadError::VersionOrChecksum)
    );
    let mut bad_crc = good.clone();
    *bad_crc.last_mut().expect("non-empty") ^= 1;
    assert_eq!(restore(&bad_crc, lim), Err(PayloadError::VersionOrChecksum));
    let body = &good[..good.len() - FOOTER_BYTES];
    assert_eq!(
        restore(&seal(body, 11), lim),
        Err(PayloadError::VersionOrChecksum)
    );
    // Every truncation of the body, correctly sealed: bad data, never a panic.
    for n in 0..body.len() {
        assert_eq!(
            restore(&seal(&body[..n], 10), lim),
            Err(PayloadError::BadData),
            "{n}"
        );
    }
    // Huge announced lengths and counts.
    let huge = [
        vec![
            types::STRING,
            0x81,
            0xFF,
            0xFF,
            0xFF,
            0xFF,
            0xFF,
            0xFF,
            0xFF,
            0xFF,
        ],
        vec![types::SET, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 1, b'a'],
        vec![
            types::STRING,
            0xC3,
            2,
            0x80,
            0x7F,
            0xFF,
            0xFF,
            0xFF,
            0,
            b'a',
        ],
        vec![types::ZSET_2, 0x81, 0, 0, 0, 1, 0, 0, 0, 0],
        vec![types::LIST_QUICKLIST_2, 1, 2, 0x80, 0xFF, 0xFF, 0, 0],
        vec![types::HASH_LISTPACK, 7, 0xFF, 0xFF, 0, 0, 1, 0, 0xFF],
        vec![types::SET_INTSET, 8, 8, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x0F],
        vec![42, 0],
        vec![types::SET, 0],
        vec![types::HASH, 1, 1, b'a'],
    ];
    for body in huge {
        assert_eq!(
            restore(&seal(&body, 10), lim),
            Err(PayloadError::BadData),
            "{body:?}"
        );
    }
    // Duplicates in a plain set or a NaN score are bad data too.
    let dup = seal(&[types::SET, 2, 1, b'a', 1, b'a'], 10);
    assert_eq!(restore(&dup, lim), Err(PayloadError::BadData));
    let mut nan = vec![types::ZSET_2, 1, 1, b'a'];
    nan.extend_from_slice(&f64::NAN.to_le_bytes());
    assert_eq!(restore(&seal(&nan, 10), lim), Err(PayloadError::BadData));
}

#[test]
fn random_bytes_never_panic() {
    // Guards the decoder against arbitrary sealed garbage (a cheap deterministic fuzz).
    let mut x: u64 = 0x1234_5678_9ABC_DEF0;
    for round in 0..3000 {
        let len = round % 64;
        let body: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let _ = restore(&seal(&body, 10), Limits::default());
    }
}

mod stream;
