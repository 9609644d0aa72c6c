//! File tests without a server: files redis-server 7.0.15 wrote (captured as hex in
//! `redis_files.txt`) read back and rewritten byte for byte with `write`, every piece of
//! `write` read back by the `Reader`, the opcodes and versions Redis accepts or refuses, and
//! truncated or damaged files failing cleanly. Tests that ask a live redis-server are in
//! `tests/redis.rs`.

use super::read::{Item, KeyItem, ReadError, Reader};
use super::write::{self, Aux, ReplAux};
use super::{opcode, MAGIC};
use crate::keyspace::value::{StrValue, Value};
use crate::lua::store::{Libraries, Library};
use crate::rdb::crc64::crc64;
use crate::rdb::{put_len, put_string, types, DumpOpts};
use crate::types::list::ListValue;
use crate::types::stream::{StreamId, StreamValue};
use crate::types::zset::{Limits, ZSetValue};
use crate::types::{hash::HashValue, set::SetValue};

mod redis;

pub(super) fn fixture(name: &str) -> Vec<u8> {
    crate::rdb::tests::captured(include_str!("redis_files.txt"), name)
}

/// Every item of a file, or the first error.
pub(super) fn read_all(data: &[u8]) -> Result<Vec<Item>, ReadError> {
    let mut r = Reader::new(data, Limits::default())?;
    let mut items = Vec::new();
    while let Some(it) = r.next()? {
        items.push(it);
    }
    assert_eq!(r.offset(), data.len(), "nothing after the checksum");
    Ok(items)
}

pub(super) fn keys(items: Vec<Item>) -> Vec<KeyItem> {
    items
        .into_iter()
        .filter_map(|i| match i {
            Item::Key(k) => Some(k),
            _ => None,
        })
        .collect()
}

fn s(b: &str) -> Value {
    Value::Str(StrValue::from_slice(b.as_bytes()))
}

fn list<S: AsRef<[u8]>>(items: &[S]) -> Value {
    let v: Vec<&[u8]> = items.iter().map(|s| s.as_ref()).collect();
    Value::List(ListValue::from_slices(&v))
}

fn hash<S: AsRef<[u8]>>(pairs: &[(S, S)]) -> Value {
    let mut h = HashValue::new();
    pairs.iter().for_each(|(f, v)| {
        h.set(f.as_ref(), v.as_ref());
    });
    Value::Hash(h)
}

fn set<S: AsRef<[u8]>>(members: &[S]) -> Value {
    let mut st = SetValue::new();
    members.iter().for_each(|m| {
        st.insert(m.as_ref());
    });
    Value::Set(st)
}

fn zset<S: AsRef<[u8]>>(pairs: &[(f64, S)]) -> Value {
    let mut z = ZSetValue::new();
    for (score, m) in pairs {
        z.set(m.as_ref(), *score, Limits::default());
    }
    Value::ZSet(z)
}

fn id(ms: u64, seq: u64) -> StreamId {
    StreamId::new(ms, seq)
}

/// A stream with two groups, a PEL shared by two consumers and a consumer without entries.
fn stream_with_groups() -> Value {
    let mut st = StreamValue::new();
    for i in 1..=20u64 {
        let v = format!("value-{i}");
        st.append(id(i, 0), &[(b"f", v.as_bytes()), (b"n", b"7")], 4096, 100);
    }
    st.create_group(b"g1", id(5, 0), 5);
    st.create_group(b"g2", StreamId::MIN, -1);
    let g = st.group_mut(b"g1").expect("group");
    g.claim(id(2, 0), b"alice", 1_700_000_000_001, 1);
    g.claim(id(3, 0), b"bob", 1_700_000_000_002, 3);
    g.claim(id(5, 0), b"alice", 1_700_000_000_003, 2);
    g.create_consumer(b"carol", 1_700_000_000_004);
    Value::Stream(Box::new(st))
}

/// One value of every type and encoding slotd keeps, by key.
pub(super) fn every_type() -> Vec<(&'static str, Value)> {
    let many = |n: usize, p: &str| -> Vec<String> { (0..n).map(|i| format!("{p}{i}")).collect() };
    let pairs = |n: usize| -> Vec<(String, String)> {
        (0..n).map(|i| (format!("f{i}"), format!("v{i}"))).collect()
    };
    let ints: Vec<String> = (0..300).map(|i| (i * 7 - 50).to_string()).collect();
    let scored = |n: usize| -> Vec<(f64, String)> {
        (0..n)
            .map(|i| (i as f64 * 0.5 - 3.0, format!("m{i}")))
            .collect()
    };
    vec![
        ("str", s("hello")),
        ("int", s("-70000")),
        ("long", s(&"compressible text ".repeat(40))),
        ("raw", s(&"x".repeat(15))),
        ("list", list(&["a", "b", "1", "300"])),
        ("biglist", list(&many(4000, "element-"))),
        ("hash", hash(&[("f1", "v1"), ("f2", "2")])),
        ("bighash", hash(&pairs(700))),
        ("intset", set(&["1", "2", "-3", "70000"])),
        ("bigintset", set(&ints)),
        ("set", set(&["a", "b", "c"])),
        ("bigset", set(&many(600, "member"))),
        ("zset", zset(&[(1.0, "a"), (2.5, "b"), (-1e20, "c")])),
        ("bigzset", zset(&scored(300))),
        ("stream", stream_with_groups()),
        ("emptystream", {
            let mut st = StreamValue::new();
            st.append(id(5, 5), &[(b"a", b"b")], 4096, 100);
            st.delete(id(5, 5));
            Value::Stream(Box::new(st))
        }),
    ]
}

fn libs(codes: &[&[u8]]) -> Libraries {
    codes
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let name = format!("lib{i}");
            let lib = Library {
                name: name.clone(),
                engine: "LUA".into(),
                code: (*code).into(),
                functions: vec![],
            };
            (name, lib)
        })
        .collect()
}

/// Appends a footer with the right checksum.
fn close(mut out: Vec<u8>, checksum: bool) -> Vec<u8> {
    let crc = crc64(0, &out);
    write::put_footer(&mut out, crc, checksum);
    out
}

#[test]
fn redis_tiny_file_rewrites_byte_for_byte() {
    // Guards `write` against Redis 7.0's own bytes: header aux order, functions, SELECTDB,
    // RESIZEDB, expiry, key entries and the checksum of a file redis-server saved.
    let redis = fixture("tiny");
    let items = read_all(&redis).expect("redis' file reads");
    let aux = |k: &str| -> String {
        items
            .iter()
            .find_map(|i| match i {
                Item::Aux { key, value } if key == k.as_bytes() => {
                    Some(String::from_utf8(value.clone()).expect("text"))
                }
                _ => None,
            })
            .expect("aux field")
    };
    assert_eq!(aux("redis-ver"), "7.0.15");
    assert_eq!(aux("redis-bits"), "64");
    assert_eq!(aux("aof-base"), "0");
    let header = Aux {
        redis_ver: aux("redis-ver"),
        ctime_s: aux("ctime").parse().expect("ctime"),
        used_mem_bytes: aux("used-mem").parse().expect("used-mem"),
        repl: None,
        aof_base: false,
    };
    let mut out = Vec::new();
    write::put_header(&mut out, &header);
    let codes: Vec<&[u8]> = items
        .iter()
        .filter_map(|i| match i {
            Item::Function { code } => Some(&code[..]),
            _ => None,
        })
        .collect();
    assert_eq!(codes.len(), 1);
    write::put_functions(&mut out, &libs(&codes));
    for it in &items {
        match it {
            Item::SelectDb(db) => write::put_select_db(&mut out, *db),
            Item::ResizeDb { keys, expires } => write::put_resize_db(&mut out, *keys, *expires),
            Item::Key(k) => {
                let opts = DumpOpts::default();
                write::put_entry(&mut out, &k.key, k.value.as_ref(), k.expire_at_ms, opts);
            }
            Item::Aux { .. } | Item::Function { .. } => {}
        }
    }
    assert_eq!(close(out, true), redis);
}

#[test]
fn redis_rich_file_reads_every_encoding() {
    // Guards reading what 7.0 writes for big and small collections, streams with groups,
    // expiries and several databases (the file the corruption loop below damages).
    let items = read_all(&fixture("rich")).expect("reads");
    let selects: Vec<u32> = items
        .iter()
        .filter_map(|i| match i {
            Item::SelectDb(db) => Some(*db),
            _ => None,
        })
        .collect();
    assert_eq!(selects, vec![0, 1, 2]);
    let ks = keys(items);
    assert_eq!(ks.len(), 18);
    assert_eq!(ks.iter().filter(|k| k.expire_at_ms != 0).count(), 2);
    let get = |name: &str| ks.iter().find(|k| k.key == name.as_bytes()).expect(name);
    let t = get("t");
    assert_eq!((t.db, t.expire_at_ms), (0, 4_102_444_800_123));
    assert_eq!(get("lzf").value, s(&"abcdefgh".repeat(40)));
    assert_eq!(get("neg").value, s("-70000"));
    let bigz: Vec<(f64, String)> = (1..=140)
        .map(|i| (i as f64 + 0.5, format!("member{i}")))
        .collect();
    assert_eq!(get("bigz").value, zset(&bigz));
    let bigh: Vec<(String, String)> = (1..=140)
        .map(|i| (format!("field{i}"), format!("value{i}")))
        .collect();
    assert_eq!(get("bigh").value, hash(&bigh));
    let bigs: Vec<String> = (1..=140).map(|i| format!("m{i}")).collect();
    assert_eq!(get("bigs").value, set(&bigs));
    let biglist: Vec<String> = (1..=400)
        .map(|i| format!("item-with-some-length-{i}"))
        .collect();
    assert_eq!(get("biglist").db, 1);
    assert_eq!(get("biglist").value, list(&biglist));
    let Value::Stream(st) = &get("st").value else {
        panic!("stream")
    };
    assert_eq!((st.len(), st.groups_len()), (3, 2));
    let g1 = st.group(b"g1").expect("g1");
    assert_eq!((g1.pending_len(), g1.consumers_len()), (2, 1));
    assert_eq!(st.group(b"g2").expect("g2").consumers_len(), 1);
    let Value::Stream(st2) = &get("st2").value else {
        panic!("stream")
    };
    assert_eq!((st2.len(), st2.last_id()), (0, id(5, 5)));
}

#[test]
fn every_write_piece_reads_back() {
    // Guards write -> read for each piece: header with repl aux and aof-base, functions,
    // databases selected twice (chunks of two shards), RESIZEDB, expiries, every value type.
    let header = Aux {
        redis_ver: "7.0.15".into(),
        ctime_s: 1_700_000_000,
        used_mem_bytes: 123_456_789,
        repl: Some(ReplAux {
            stream_db: 3,
            replid: "a".repeat(40),
            offset: 9_876_543_210,
        }),
        aof_base: true,
    };
    for compress in [true, false] {
        let opts = DumpOpts {
            compress,
            list_fill: -2,
        };
        let mut out = Vec::new();
        write::put_header(&mut out, &header);
        write::put_functions(&mut out, &libs(&[b"#!lua name=b\n", b"#!lua name=a\n"]));
        let values = every_type();
        let (first, second) = values.split_at(values.len() / 2);
        for (db, part) in [(0u32, first), (5, second), (0, second)] {
            write::put_select_db(&mut out, db);
            write::put_resize_db(&mut out, part.len() as u64, 1);
            for (i, (k, v)) in part.iter().enumerate() {
                let exp = if i == 0 { 1_900_000_000_000 } else { 0 };
                write::put_entry(&mut out, k.as_bytes(), v.as_ref(), exp, opts);
            }
        }
        let file = close(out, true);
        assert!(file.starts_with(MAGIC));
        let items = read_all(&file).expect("reads");
        let aux: Vec<(String, String)> = items
            .iter()
            .filter_map(|i| match i {
                Item::Aux { key, value } => Some((
                    String::from_utf8_lossy(key).into_owned(),
                    String::from_utf8_lossy(value).into_owned(),
                )),
                _ => None,
            })
            .collect();
        let want: Vec<(String, String)> = [
            ("redis-ver", "7.0.15".to_string()),
            ("redis-bits", "64".into()),
            ("ctime", "1700000000".into()),
            ("used-mem", "123456789".into()),
            ("repl-stream-db", "3".into()),
            ("repl-id", "a".repeat(40)),
            ("repl-offset", "9876543210".into()),
            ("aof-base", "1".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(aux, want);
        // Functions in library name order, as Redis writes them.
        let fns: Vec<Item> = items
            .iter()
            .filter(|i| matches!(i, Item::Function { .. }))
            .map(|i| match i {
                Item::Function { code } => Item::Function { code: code.clone() },
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            fns,
            vec![
                Item::Function {
                    code: b"#!lua name=b\n".to_vec()
                },
                Item::Function {
                    code: b"#!lua name=a\n".to_vec()
                },
            ]
        );
        assert!(items.contains(&Item::ResizeDb {
            keys: first.len() as u64,
            expires: 1
        }));
        let ks = keys(items);
        let mut want = Vec::new();
        for (db, part) in [(0u32, first), (5, second), (0, second)] {
            for (i, (k, v)) in part.iter().enumerate() {
                let exp = if i == 0 { 1_900_000_000_000 } else { 0 };
                want.push((db, k.as_bytes().to_vec(), v.clone(), exp));
            }
        }
        let got: Vec<(u32, Vec<u8>, Value, u64)> = ks
            .into_iter()
            .map(|k| {
                assert_eq!((k.lru_idle_s, k.lfu_freq), (None, None));
                (k.db, k.key, k.value, k.expire_at_ms)
            })
            .collect();
        assert_eq!(got, want, "compress {compress}");
    }
}

#[test]
fn put_footer_and_put_aux_bytes() {
    // Guards the exact bytes of the small pieces: EOF + CRC (or 8 zero bytes), a SELECTDB of a
    // big database number, RESIZEDB lengths, aux integers stored as integers.
    let mut out = MAGIC.to_vec();
    let crc = crc64(0, &out);
    write::put_footer(&mut out, crc, true);
    let mut want = MAGIC.to_vec();
    want.push(opcode::EOF);
    let c = crc64(0, &want);
    want.extend_from_slice(&c.to_le_bytes());
    assert_eq!(out, want);
    let mut off = Vec::new();
    write::put_footer(&mut off, 77, false);
    assert_eq!(off, [opcode::EOF, 0, 0, 0, 0, 0, 0, 0, 0]);
    let mut b = Vec::new();
    write::put_select_db(&mut b, 300);
    write::put_resize_db(&mut b, 70_000, 2);
    write::put_aux(&mut b, b"k", b"-5");
    let want = [
        opcode::SELECTDB,
        0x41,
        0x2C,
        opcode::RESIZEDB,
        0x80,
        0,
        1,
        0x11,
        0x70,
        2,
        opcode::AUX,
        1,
        b'k',
        0xC0,
        0xFB,
    ];
    assert_eq!(b, want);
    let mut e = Vec::new();
    write::put_entry(&mut e, b"k", s("v").as_ref(), 0x0102, DumpOpts::default());
    assert_eq!(
        e,
        [
            opcode::EXPIRETIME_MS,
            2,
            1,
            0,
            0,
            0,
            0,
            0,
            0,
            types::STRING,
            1,
            b'k',
            1,
            b'v'
        ]
    );
}

/// A file of `version` from body bytes (after the magic), closed with EOF and, from version
/// 5 on, a checksum.
fn file_of(version: u32, body: &[u8]) -> Vec<u8> {
    let mut f = format!("REDIS{version:04}").into_bytes();
    f.extend_from_slice(body);
    if version < 5 {
        f.push(opcode::EOF);
        return f;
    }
    close(f, true)
}

/// A string key entry of type `t` with a raw value body.
fn entry(t: u8, key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut b = vec![t];
    put_string(&mut b, key, false);
    b.extend_from_slice(value);
    b
}

#[test]
fn checksums_versions_and_magic() {
    // Guards the EOF checksum (checked unless 0), files before version 5 without one, and the
    // refusal texts of a bad magic and of versions slotd cannot read.
    let body = entry(types::STRING, b"k", &[1, b'v']);
    let good = file_of(10, &body);
    assert_eq!(keys(read_all(&good).expect("good")).len(), 1);
    let mut bad = good.clone();
    *bad.last_mut().expect("crc") ^= 0x40;
    let err = read_all(&bad).expect_err("bad crc");
    assert!(
        err.reason.starts_with("Wrong RDB checksum expected: ("),
        "{err}"
    );
    assert_eq!(err.offset, good.len() - 8);
    let mut zero = good.clone();
    let n = zero.len();
    zero[n - 8..].fill(0);
    let mut r = Reader::new(&zero, Limits::default()).expect("header");
    while r.next().expect("crc 0 is not checked").is_some() {}
    assert!(r.checksum_skipped());
    // Version 4: the file ends at the EOF opcode.
    let mut old = b"REDIS0004".to_vec();
    old.extend_from_slice(&body);
    old.push(opcode::EOF);
    let mut r = Reader::new(&old, Limits::default()).expect("v4");
    assert!(matches!(r.next(), Ok(Some(Item::Key(_)))));
    assert_eq!(r.next(), Ok(None));
    assert_eq!(r.next(), Ok(None));
    assert_eq!((r.offset(), r.version()), (old.len(), 4));
    // An AOF tail after the checksum is left for the caller at offset().
    let mut tail = good.clone();
    tail.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
    let mut r = Reader::new(&tail, Limits::default()).expect("header");
    while r.next().expect("reads").is_some() {}
    assert_eq!(r.offset(), good.len());
    let refuse = |data: &[u8]| {
        Reader::new(data, Limits::default())
            .err()
            .map(|e| e.to_string())
    };
    let want = "Can't handle RDB format version 12 at offset 5";
    assert_eq!(refuse(b"REDIS0012\xff").as_deref(), Some(want));
    let want = "Can't handle RDB format version 0 at offset 5";
    assert_eq!(refuse(b"REDIS0000\xff").as_deref(), Some(want));
    assert_eq!(refuse(b"REDIS00x1\xff").as_deref(), Some(want));
    let want = "Wrong signature trying to load DB from file at offset 0";
    assert_eq!(refuse(b"RADIS0010").as_deref(), Some(want));
    assert_eq!(refuse(b"RED").as_deref(), Some(want));
    assert_eq!(
        refuse(b"REDIS001").as_deref(),
        Some("Can't handle RDB format version 0 at offset 5")
    );
}

#[test]
fn key_metadata_opcodes() {
    // Guards the old EXPIRETIME (seconds), EXPIRETIME_MS edge values, IDLE and FREQ, each
    // attached to the next key only.
    let mut b = vec![opcode::EXPIRETIME];
    b.extend_from_slice(&2_000_000_000i32.to_le_bytes());
    b.push(opcode::IDLE);
    put_len(&mut b, 3600);
    b.extend(entry(types::STRING, b"a", &[1, b'v']));
    b.push(opcode::FREQ);
    b.push(200);
    b.push(opcode::EXPIRETIME_MS);
    b.extend_from_slice(&0i64.to_le_bytes());
    b.extend(entry(types::STRING, b"b", &[1, b'v']));
    b.push(opcode::EXPIRETIME_MS);
    b.extend_from_slice(&(-1i64).to_le_bytes());
    b.extend(entry(types::STRING, b"c", &[1, b'v']));
    let ks = keys(read_all(&file_of(9, &b)).expect("reads"));
    let meta: Vec<(u64, Option<u64>, Option<u8>)> = ks
        .iter()
        .map(|k| (k.expire_at_ms, k.lru_idle_s, k.lfu_freq))
        .collect();
    assert_eq!(
        meta,
        vec![
            (2_000_000_000_000, Some(3600), None),
            (1, None, Some(200)),
            (0, None, None)
        ]
    );
}

#[test]
fn refused_records_name_what_they_are() {
    // Guards failing closed, with Redis' words, on module data, pre-release functions and
    // unknown types (7.2's types in a version-10 file included).
    let err = |body: &[u8]| read_all(&file_of(10, body)).expect_err("refused").reason;
    // "RedisJSON" module id: name chars at 6 bits each from the top, then 10 bits of encver.
    let charset = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mid = b"ReJSON-RL".iter().fold(0u64, |acc, c| {
        let i = charset.iter().position(|x| x == c).expect("in charset") as u64;
        (acc << 6) | i
    }) << 10
        | 3;
    let mut aux = vec![opcode::MODULE_AUX];
    put_len(&mut aux, mid);
    assert_eq!(
        err(&aux),
        "The RDB file contains AUX module data I can't load: no matching module 'ReJSON-RL'"
    );
    let mut m = entry(types::MODULE_2, b"k", &[]);
    put_len(&mut m, mid);
    assert_eq!(
        err(&m),
        "The RDB file contains module data I can't load: no matching module type 'ReJSON-RL'"
    );
    assert_eq!(
        err(&entry(types::MODULE_PRE_GA, b"k", &[0])),
        "Pre-release module format not supported"
    );
    assert_eq!(
        err(&[opcode::FUNCTION_PRE_GA, 1, b'x']),
        "Pre-release function format not supported."
    );
    assert_eq!(err(&entry(8, b"k", &[0])), "Unknown RDB encoding type 8");
    assert_eq!(err(&entry(22, b"k", &[0])), "Unknown RDB encoding type 22");
    let lp = {
        let mut w = crate::rdb::listpack::LpWriter::new();
        w.push(b"a");
        w.finish()
    };
    let mut v = Vec::new();
    put_string(&mut v, &lp, false);
    let e = entry(types::SET_LISTPACK, b"k", &v);
    assert_eq!(err(&e), "Unknown RDB encoding type 20");
    assert_eq!(keys(read_all(&file_of(11, &e)).expect("v11")).len(), 1);
    let e = entry(types::STRING, b"key", &[63, b'v']);
    assert_eq!(err(&e), "Bad data format in key 'key' (RDB type 0)");
}

#[test]
fn empty_collections_are_skipped() {
    // Guards Redis' loader behaviour: an empty collection in a file is not a key (and is
    // counted), while the keys around it load.
    let empty_lp = crate::rdb::listpack::LpWriter::new().finish();
    let mut lp = Vec::new();
    put_string(&mut lp, &empty_lp, false);
    let mut b = entry(types::SET, b"e1", &[0]);
    b.extend(entry(types::HASH_LISTPACK, b"e2", &lp));
    b.extend(entry(types::ZSET_2, b"e3", &[0]));
    b.extend(entry(types::LIST_QUICKLIST_2, b"e4", &[0]));
    b.extend(entry(types::STRING, b"k", &[1, b'v']));
    let f = file_of(10, &b);
    let mut r = Reader::new(&f, Limits::default()).expect("header");
    let mut got = Vec::new();
    while let Some(it) = r.next().expect("reads") {
        got.push(it);
    }
    assert_eq!(r.empty_keys_skipped(), 4);
    assert_eq!(keys(got).len(), 1);
}

#[test]
fn version_11_listpack_sets_and_stream_active_times() {
    // Guards the two value types Redis 7.2 adds in version 11: a listpack set (type 20) and a
    // stream whose consumers carry an active time after the seen time (type 21).
    let mut w = crate::rdb::listpack::LpWriter::new();
    for m in [&b"a"[..], b"7", b"zz"] {
        w.push(m);
    }
    let mut v = Vec::new();
    put_string(&mut v, &w.finish(), false);
    let mut b = entry(types::SET_LISTPACK, b"s", &v);
    // A stream with one group and one consumer without pending entries: its dump ends with
    // the consumer's seen time and a zero PEL count; type 21 puts the active time between.
    let mut st = StreamValue::new();
    st.append(id(1, 0), &[(b"f", b"v")], 4096, 100);
    st.create_group(b"g", id(1, 0), 1);
    st.group_mut(b"g")
        .expect("group")
        .create_consumer(b"c", 1_700_000_000_000);
    let want = Value::Stream(Box::new(st));
    let mut d = Vec::new();
    crate::rdb::dump::dump_keyed(&mut d, Some(b"x"), want.as_ref(), DumpOpts::default());
    assert_eq!(
        (d[0], d.last().copied()),
        (types::STREAM_LISTPACKS_2, Some(0))
    );
    d[0] = types::STREAM_LISTPACKS_3;
    d.pop();
    d.extend_from_slice(&1_700_000_000_500u64.to_le_bytes());
    d.push(0);
    b.extend(d);
    let ks = keys(read_all(&file_of(11, &b)).expect("v11"));
    assert_eq!(ks[0].value, set(&["a", "7", "zz"]));
    assert_eq!(ks[1].value, want);
    // A duplicate member in a listpack set is bad data.
    let mut w = crate::rdb::listpack::LpWriter::new();
    w.push(b"a");
    w.push(b"a");
    let mut v = Vec::new();
    put_string(&mut v, &w.finish(), false);
    assert!(read_all(&file_of(11, &entry(types::SET_LISTPACK, b"s", &v))).is_err());
}

#[test]
fn zipmap_hashes_of_old_files() {
    // Guards type 9 (Redis before 2.6): one-byte and 254-prefixed lengths, free bytes.
    let big = vec![b'q'; 300];
    let mut zm = vec![2u8, 2, b'f', b'1', 2, 1, b'v', b'1', 0xAA];
    zm.extend_from_slice(&[2, b'f', b'2', 254]);
    zm.extend_from_slice(&300u32.to_le_bytes());
    zm.push(0);
    zm.extend_from_slice(&big);
    zm.push(0xFF);
    let mut v = Vec::new();
    put_string(&mut v, &zm, false);
    let ks = keys(read_all(&file_of(4, &entry(types::HASH_ZIPMAP, b"h", &v))).expect("v4"));
    let q = String::from_utf8(big).expect("ascii");
    assert_eq!(ks[0].value, hash(&[("f1", "v1"), ("f2", q.as_str())]));
    zm[1] = 200;
    let mut v = Vec::new();
    put_string(&mut v, &zm, false);
    assert!(read_all(&file_of(6, &entry(types::HASH_ZIPMAP, b"h", &v))).is_err());
}

#[test]
fn truncated_and_damaged_files_never_panic() {
    // Guards hostile input: every truncation of a real 7.0 file fails with an error, and
    // ~2000 random byte flips either fail or read (a flip in a string body), never panic.
    let good = fixture("rich");
    for n in 0..good.len() {
        assert!(read_all(&good[..n]).is_err(), "truncated at {n}");
    }
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..2000 {
        let mut bad = good.clone();
        for _ in 0..1 + next() % 3 {
            let at = (next() % bad.len() as u64) as usize;
            bad[at] ^= 1 << (next() % 8);
        }
        // A flip anywhere is caught at the latest by the checksum.
        let mut r = match Reader::new(&bad, Limits::default()) {
            Ok(r) => r,
            Err(_) => continue,
        };
        let mut res = Ok(Some(Item::SelectDb(0)));
        while let Ok(Some(_)) = res {
            res = r.next();
        }
        if bad != good {
            assert!(res.is_err());
        }
    }
}
