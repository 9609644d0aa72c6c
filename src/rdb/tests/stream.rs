//! Stream payloads: DUMP bytes equal to Redis 7.0.15's for the same command history (captured
//! in `redis_dumps.txt`), Redis' payloads (groups, PEL, consumers) restoring and dumping back
//! unchanged, the older type 15, and mutated payloads refused without a panic.

use super::{redis_dump, seal};
use crate::keyspace::value::Value;
use crate::rdb::{dump, put_len, put_string, restore, types, DumpOpts, PayloadError};
use crate::types::stream::{StreamId, StreamValue, Trim};
use crate::types::zset::Limits;

fn id(ms: u64, seq: u64) -> StreamId {
    StreamId::new(ms, seq)
}

/// XADD with Redis' default node limits.
fn add(s: &mut StreamValue, i: StreamId, fields: &[(&[u8], &[u8])]) {
    s.append(i, fields, 4096, 100);
}

const LONG: &[u8] = b"a long value that is longer than twenty bytes for lzf lzf lzf lzf";

/// The same command histories `redis_dumps.txt` was captured from (see each comment).
fn histories() -> Vec<(&'static str, StreamValue)> {
    let mut out = Vec::new();
    // XADD s 1-1 a 1 b 2 / 1-2 a 3 b 4 / 2-0 c x / 3-5 a hello b LONG / 3-6 a -5 b 100000
    let mut s = StreamValue::new();
    add(&mut s, id(1, 1), &[(b"a", b"1"), (b"b", b"2")]);
    add(&mut s, id(1, 2), &[(b"a", b"3"), (b"b", b"4")]);
    add(&mut s, id(2, 0), &[(b"c", b"x")]);
    add(&mut s, id(3, 5), &[(b"a", b"hello"), (b"b", LONG)]);
    add(&mut s, id(3, 6), &[(b"a", b"-5"), (b"b", b"100000")]);
    out.push(("stream_small", s));
    // XADD n i-0 f v<i> n <i> for i in 1..=250; XDEL 5-0 150-0 250-0; XTRIM MAXLEN ~ 120;
    // XTRIM MINID 170-0
    let mut s = StreamValue::new();
    for i in 1..=250u64 {
        let v = format!("v{i}");
        add(
            &mut s,
            id(i, 0),
            &[(b"f", v.as_bytes()), (b"n", i.to_string().as_bytes())],
        );
    }
    for i in [5, 150, 250] {
        assert!(s.delete(id(i, 0)));
    }
    assert_eq!(s.trim(Trim::MaxLen(120), true, Some(10_000)), 99);
    assert_eq!(s.trim(Trim::MinId(id(170, 0)), false, None), 68);
    out.push(("stream_nodes", s));
    // stream-node-max-bytes 300, -entries 0: XADD b i-(i%3) k(i%2) "x"*(i*7%50), i in 1..=40
    let mut s = StreamValue::new();
    for i in 1..=40u64 {
        let f = format!("k{}", i % 2);
        let v = vec![b'x'; ((i * 7) % 50) as usize];
        s.append(id(i, i % 3), &[(f.as_bytes(), &v)], 300, 0);
    }
    out.push(("stream_bytes", s));
    // XADD e 5-5 a b; XDEL e 5-5
    let mut s = StreamValue::new();
    add(&mut s, id(5, 5), &[(b"a", b"b")]);
    assert!(s.delete(id(5, 5)));
    out.push(("stream_empty", s));
    // XADD g 1-0 a b / 2-0 a c; XGROUP CREATE g g1 0 / g2 $ / 123 1-0 ENTRIESREAD 1
    let mut s = StreamValue::new();
    add(&mut s, id(1, 0), &[(b"a", b"b")]);
    add(&mut s, id(2, 0), &[(b"a", b"c")]);
    // Without ENTRIESREAD, Redis 7.0 creates groups with an unknown read counter.
    s.create_group(b"g1", StreamId::MIN, -1);
    s.create_group(b"g2", id(2, 0), -1);
    s.create_group(b"123", id(1, 0), 1);
    out.push(("stream_groups", s));
    // XADD x i-0 f v for i in 1..=30; XTRIM x MAXLEN 25; XADD x 31-0 g w
    let mut s = StreamValue::new();
    for i in 1..=30u64 {
        add(&mut s, id(i, 0), &[(b"f", b"v")]);
    }
    assert_eq!(s.trim(Trim::MaxLen(25), false, None), 5);
    add(&mut s, id(31, 0), &[(b"g", b"w")]);
    out.push(("stream_exact", s));
    out
}

fn stream_of(v: Value) -> StreamValue {
    match v {
        Value::Stream(s) => *s,
        other => panic!("not a stream: {}", other.type_name()),
    }
}

#[test]
fn dump_bytes_equal_redis_for_the_same_history() {
    // Guards the node layout (splits by entries and by bytes, SAMEFIELDS, deletion flags,
    // ~ and exact trimming) and the type-19 metadata against Redis 7.0.15's DUMP.
    for (name, s) in histories() {
        let v = Value::Stream(Box::new(s));
        assert_eq!(
            dump(v.as_ref(), DumpOpts::default()),
            redis_dump(name),
            "{name}"
        );
    }
}

#[test]
fn redis_stream_payloads_restore_and_dump_back_unchanged() {
    // Guards groups, PEL (delivery times and counts), consumers (seen times, their pending
    // IDs), entries_read, max deleted ID and entries added through a RESTORE/DUMP roundtrip.
    let names = [
        "stream_small",
        "stream_nodes",
        "stream_bytes",
        "stream_empty",
        "stream_groups",
        "stream_exact",
        "stream_pel",
    ];
    for name in names {
        let p = redis_dump(name);
        let v = restore(&p, Limits::default()).expect(name);
        assert_eq!(v.type_name(), "stream");
        assert_eq!(dump(v.as_ref(), DumpOpts::default()), p, "{name}");
    }
    let s = stream_of(restore(&redis_dump("stream_pel"), Limits::default()).expect("pel"));
    assert_eq!(s.len(), 6);
    assert_eq!(s.max_deleted_id(), id(4, 0));
    assert_eq!(s.entries_added(), 7);
    let g = s.group(b"grp").expect("grp");
    assert_eq!(g.last_id, id(5, 0));
    assert_eq!(g.entries_read, 5);
    assert_eq!(g.pending_len(), 4);
    assert_eq!(
        g.consumer_pending(b"bob").collect::<Vec<_>>(),
        vec![id(3, 0), id(4, 0), id(5, 0)]
    );
    assert_eq!(g.pending_get(id(3, 0)).expect("3-0").delivery_count, 2);
    assert_eq!(
        g.consumers().map(|(n, _)| n.to_vec()).collect::<Vec<_>>(),
        vec![b"alice".to_vec(), b"bob".to_vec(), b"carol".to_vec()]
    );
    assert_eq!(s.group_lag(g), Some(2));
    // XREADGROUP with nothing to serve (and no BLOCK) creates no consumer in Redis 7.0.
    let other = s.group(b"other").expect("other");
    assert!(other.consumer(b"77").is_none());
    assert_eq!(other.entries_read, -1);
}

/// A type-15 payload (Redis 5 and 6): no first ID, max deleted ID, entries added, or group
/// read counters.
fn v1_payload(s: &StreamValue) -> Vec<u8> {
    let mut b = vec![types::STREAM_LISTPACKS];
    put_len(&mut b, s.node_count() as u64);
    for (k, lp) in s.nodes() {
        put_string(&mut b, &k.to_be_bytes(), false);
        put_string(&mut b, lp, false);
    }
    for n in [s.len(), s.last_id().ms, s.last_id().seq] {
        put_len(&mut b, n);
    }
    put_len(&mut b, s.groups_len() as u64);
    for (name, g) in s.groups() {
        put_string(&mut b, name, false);
        put_len(&mut b, g.last_id.ms);
        put_len(&mut b, g.last_id.seq);
        put_len(&mut b, 0);
        put_len(&mut b, 0);
    }
    seal(&b, 9)
}

#[test]
fn type_15_payloads_restore() {
    // Guards the older stream encoding: metadata derived as Redis 7.0 derives it on load.
    let (_, s) = histories()
        .into_iter()
        .find(|(n, _)| *n == "stream_groups")
        .expect("groups");
    let back = stream_of(restore(&v1_payload(&s), Limits::default()).expect("v1"));
    assert_eq!(back.len(), 2);
    assert_eq!(back.entries_added(), 2);
    assert_eq!(back.first_id(), Some(id(1, 0)));
    assert_eq!(back.max_deleted_id(), StreamId::MIN);
    // Type 15 carries no read counters: estimated from the group's last ID.
    assert_eq!(back.group(b"g1").expect("g1").entries_read, 0);
    assert_eq!(back.group(b"g2").expect("g2").entries_read, 2);
    assert_eq!(back.group(b"123").expect("123").entries_read, 1);
    let (_, n) = histories()
        .into_iter()
        .find(|(n, _)| *n == "stream_nodes")
        .expect("nodes");
    let back = stream_of(restore(&v1_payload(&n), Limits::default()).expect("v1 nodes"));
    assert_eq!(back.len(), n.len());
    assert_eq!(back.first_id(), n.first_id());
}

/// Exercises every read and write path of a restored stream (no panics, counts stay sane).
fn exercise(mut s: StreamValue) {
    let mut n = 0u64;
    s.range(StreamId::MIN, StreamId::MAX, false, |e| {
        n += 1;
        e.fields().count();
        true
    });
    let mut back = 0u64;
    s.range(StreamId::MIN, StreamId::MAX, true, |e| {
        back += 1;
        e.fields().count();
        true
    });
    assert_eq!(n, back);
    assert_eq!(n, s.len());
    let _ = dump(
        Value::Stream(Box::new(s.clone())).as_ref(),
        DumpOpts::default(),
    );
    if let Some(f) = s.first_id() {
        s.delete(f);
    }
    let next = s.last_id().next().unwrap_or(StreamId::MAX);
    if next > s.last_id() {
        s.append(next, &[(b"f", b"v")], 4096, 100);
    }
    s.trim(Trim::MaxLen(1), false, None);
    for (_, g) in s.groups() {
        let _ = s.group_lag(g);
    }
}

#[test]
fn mutated_stream_payloads_never_panic() {
    // Guards the stream decoder against corrupt nodes, counts and PELs: thousands of sealed
    // mutations of real payloads answer Bad data or decode to a stream that works.
    let bodies: Vec<Vec<u8>> = [
        "stream_small",
        "stream_nodes",
        "stream_bytes",
        "stream_pel",
        "stream_groups",
    ]
    .iter()
    .map(|n| {
        let p = redis_dump(n);
        p[..p.len() - 10].to_vec()
    })
    .collect();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (mut ok, mut bad) = (0, 0);
    for round in 0..4000 {
        let mut b = bodies[round % bodies.len()].clone();
        match rnd() % 4 {
            0 => {
                let i = (rnd() as usize) % b.len();
                b[i] ^= 1 << (rnd() % 8);
            }
            1 => {
                let i = (rnd() as usize) % b.len();
                b[i] = rnd() as u8;
            }
            2 => {
                let cut = (rnd() as usize) % b.len();
                b.truncate(cut);
            }
            _ => {
                for _ in 0..3 {
                    let i = (rnd() as usize) % b.len();
                    b[i] = rnd() as u8;
                }
            }
        }
        match restore(&seal(&b, 10), Limits::default()) {
            Ok(Value::Stream(s)) => {
                ok += 1;
                exercise(*s);
            }
            Ok(_) => ok += 1,
            Err(e) => {
                assert_eq!(e, PayloadError::BadData);
                bad += 1;
            }
        }
    }
    assert!(bad > 1000, "{ok} {bad}");
}

#[test]
fn inconsistent_streams_are_refused() {
    // Guards specific lies: wrong length, PEL entry owned by no consumer or by two.
    let p = redis_dump("stream_small");
    let mut body = p[..p.len() - 10].to_vec();
    // The body ends: length 5, last 3-6, first 1-1, max deleted 0-0, added 5, no groups.
    let tail = [5u8, 3, 6, 1, 1, 0, 0, 5, 0];
    let pos = body.len() - tail.len();
    assert_eq!(body[pos..], tail);
    body[pos] = 6;
    assert_eq!(
        restore(&seal(&body, 10), Limits::default()),
        Err(PayloadError::BadData)
    );
    // A group whose PEL entry has no consumer.
    let mut b = vec![types::STREAM_LISTPACKS_2, 0];
    for n in [0u64, 5, 5, 0, 0, 5, 5, 1, 1] {
        put_len(&mut b, n);
    }
    put_string(&mut b, b"g", false);
    for n in [0u64, 0, 0, 1] {
        put_len(&mut b, n);
    }
    b.extend_from_slice(&id(1, 0).to_be_bytes());
    b.extend_from_slice(&0u64.to_le_bytes());
    put_len(&mut b, 1);
    let mut no_owner = b.clone();
    put_len(&mut no_owner, 0);
    assert_eq!(
        restore(&seal(&no_owner, 10), Limits::default()),
        Err(PayloadError::BadData)
    );
    let mut two_owners = b.clone();
    put_len(&mut two_owners, 2);
    for name in [b"a", b"b"] {
        put_string(&mut two_owners, name, false);
        two_owners.extend_from_slice(&0u64.to_le_bytes());
        put_len(&mut two_owners, 1);
        two_owners.extend_from_slice(&id(1, 0).to_be_bytes());
    }
    assert_eq!(
        restore(&seal(&two_owners, 10), Limits::default()),
        Err(PayloadError::BadData)
    );
    let mut one_owner = b;
    put_len(&mut one_owner, 1);
    put_string(&mut one_owner, b"a", false);
    one_owner.extend_from_slice(&0u64.to_le_bytes());
    put_len(&mut one_owner, 1);
    one_owner.extend_from_slice(&id(1, 0).to_be_bytes());
    assert!(restore(&seal(&one_owner, 10), Limits::default()).is_ok());
}
