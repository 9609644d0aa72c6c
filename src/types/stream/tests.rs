//! Unit tests of the stream value: IDs, append/range/delete/trim against a simple model,
//! consumer groups.

use super::*;
use std::collections::BTreeMap;

fn id(ms: u64, seq: u64) -> StreamId {
    StreamId::new(ms, seq)
}

#[test]
fn id_next_prev_and_text() {
    // Guards carry/borrow at the edges and the "ms-seq" text.
    assert_eq!(id(1, u64::MAX).next(), Some(id(2, 0)));
    assert_eq!(StreamId::MAX.next(), None);
    assert_eq!(id(2, 0).prev(), Some(id(1, u64::MAX)));
    assert_eq!(StreamId::MIN.prev(), None);
    let mut b = Vec::new();
    id(1526919030474, 55).write(&mut b);
    assert_eq!(b, b"1526919030474-55");
    assert_eq!(StreamId::from_be_bytes(id(7, 9).to_be_bytes()), id(7, 9));
}

#[test]
fn append_range_delete() {
    // Guards the basic contract: order, reverse, deletes and the metadata they move.
    let mut s = StreamValue::new();
    for i in 1..=5u64 {
        s.append(
            id(i, 0),
            &[(b"f", b"v"), (b"n", i.to_string().as_bytes())],
            4096,
            100,
        );
    }
    assert_eq!(s.len(), 5);
    assert_eq!(s.first_id(), Some(id(1, 0)));
    assert!(s.delete(id(3, 0)));
    assert!(!s.delete(id(3, 0)));
    assert_eq!(s.max_deleted_id(), id(3, 0));
    let mut seen = Vec::new();
    s.range(StreamId::MIN, StreamId::MAX, true, |e| {
        seen.push(e.id.ms);
        true
    });
    assert_eq!(seen, vec![5, 4, 2, 1]);
    let e = s.get(id(4, 0)).expect("present");
    let f: Vec<_> = e.fields().collect();
    assert_eq!(f, vec![(&b"f"[..], &b"v"[..]), (&b"n"[..], &b"4"[..])]);
    assert_eq!(s.entries_added(), 5);
    assert_eq!(s.last_id(), id(5, 0));
}

#[test]
fn groups_pel_and_consumers() {
    // Guards claim/ack/move between consumers and consumer deletion.
    let mut s = StreamValue::new();
    assert!(s.create_group(b"g", StreamId::MIN, 0));
    assert!(!s.create_group(b"g", StreamId::MIN, 0));
    let g = s.group_mut(b"g").expect("exists");
    g.claim(id(1, 0), b"alice", 10, 1);
    g.claim(id(2, 0), b"alice", 10, 1);
    g.claim(id(2, 0), b"bob", 20, 2);
    assert_eq!(g.consumer_pending_len(b"alice"), 1);
    assert_eq!(
        g.consumer_pending(b"bob").collect::<Vec<_>>(),
        vec![id(2, 0)]
    );
    assert!(g.ack(id(1, 0)));
    assert!(!g.ack(id(1, 0)));
    assert_eq!(g.delete_consumer(b"bob"), Some(1));
    assert_eq!(g.pending_len(), 0);
    assert!(g.create_consumer(b"carol", 5));
    assert!(!g.create_consumer(b"carol", 6));
    assert_eq!(g.consumers().count(), 2);
    assert!(s.destroy_group(b"g"));
}

type Pairs = Vec<(Vec<u8>, Vec<u8>)>;
type Model = BTreeMap<StreamId, Pairs>;

fn collect(
    s: &StreamValue,
    a: StreamId,
    b: StreamId,
    rev: bool,
    max: usize,
) -> Vec<(StreamId, Pairs)> {
    let mut out = Vec::new();
    s.range(a, b, rev, |e| {
        assert_eq!(e.field_count(), e.fields().count());
        out.push((
            e.id,
            e.fields().map(|(f, v)| (f.to_vec(), v.to_vec())).collect(),
        ));
        out.len() < max
    });
    out
}

fn model_range(
    m: &Model,
    a: StreamId,
    b: StreamId,
    rev: bool,
    max: usize,
) -> Vec<(StreamId, Pairs)> {
    if a > b {
        return Vec::new();
    }
    let it = m.range(a..=b).map(|(k, v)| (*k, v.clone()));
    if rev {
        it.rev().take(max).collect()
    } else {
        it.take(max).collect()
    }
}

#[test]
fn random_operations_match_a_model() {
    // Guards the node representation (splits, SAMEFIELDS, deletion marks, node removal,
    // exact and ~ trimming, forward and backward walks) against a plain ordered map.
    let mut x: u64 = 0xDEAD_BEEF_1234_5678;
    let mut rnd = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n.max(1)
    };
    for round in 0..60 {
        let max_entries = [0, 1, 2, 5, 100][round % 5];
        let max_bytes = [0, 40, 120, 4096][(round / 5) % 4];
        let mut s = StreamValue::new();
        let mut m: Model = BTreeMap::new();
        let mut next = id(1, 0);
        for _ in 0..400 {
            match rnd(10) {
                0..=4 => {
                    next = if rnd(3) == 0 {
                        id(next.ms + 1 + rnd(1000), rnd(3))
                    } else {
                        next.next().unwrap()
                    };
                    let nf = 1 + rnd(3) as usize;
                    let fields: Vec<(Vec<u8>, Vec<u8>)> = (0..nf)
                        .map(|i| {
                            let f = if rnd(4) == 0 {
                                format!("x{}", rnd(5))
                            } else {
                                format!("f{i}")
                            };
                            let v = match rnd(4) {
                                0 => rnd(100000).to_string(),
                                1 => format!("-{}", rnd(5000)),
                                2 => "v".repeat(rnd(80) as usize),
                                _ => format!("val{}", rnd(10)),
                            };
                            (f.into_bytes(), v.into_bytes())
                        })
                        .collect();
                    let refs: Vec<(&[u8], &[u8])> =
                        fields.iter().map(|(f, v)| (&f[..], &v[..])).collect();
                    s.append(next, &refs, max_bytes, max_entries);
                    m.insert(next, fields);
                }
                5 | 6 => {
                    let target = match m.keys().nth(rnd(m.len() as u64 + 1) as usize) {
                        Some(k) if rnd(5) > 0 => *k,
                        _ => id(rnd(next.ms + 2), rnd(3)),
                    };
                    assert_eq!(s.delete(target), m.remove(&target).is_some());
                    if m.contains_key(&target) {
                        unreachable!();
                    }
                }
                7 => {
                    let approx = rnd(2) == 0;
                    let how = if rnd(2) == 0 {
                        Trim::MaxLen(rnd(m.len() as u64 + 3))
                    } else {
                        Trim::MinId(id(rnd(next.ms + 2), rnd(2)))
                    };
                    let limit = if approx && rnd(3) == 0 {
                        Some(rnd(50))
                    } else {
                        None
                    };
                    let removed = s.trim(how, approx, limit);
                    let exact_goal = match how {
                        Trim::MaxLen(n) => (m.len() as u64).saturating_sub(n),
                        Trim::MinId(min) => m.range(..min).count() as u64,
                    };
                    if approx {
                        assert!(removed <= exact_goal);
                    } else {
                        assert_eq!(removed, exact_goal);
                    }
                    for _ in 0..removed {
                        let k = *m.keys().next().unwrap();
                        m.remove(&k);
                    }
                }
                _ => {
                    let a = id(rnd(next.ms + 2), rnd(2));
                    let b = id(rnd(next.ms + 2), u64::MAX - rnd(2));
                    let rev = rnd(2) == 0;
                    let max = 1 + rnd(20) as usize;
                    assert_eq!(collect(&s, a, b, rev, max), model_range(&m, a, b, rev, max));
                }
            }
            assert_eq!(s.len(), m.len() as u64);
            assert_eq!(s.first_id(), m.keys().next().copied());
            assert_eq!(s.last_entry_id(), m.keys().next_back().copied());
        }
        assert_eq!(
            collect(&s, StreamId::MIN, StreamId::MAX, false, usize::MAX),
            model_range(&m, StreamId::MIN, StreamId::MAX, false, usize::MAX)
        );
        assert_eq!(
            collect(&s, StreamId::MIN, StreamId::MAX, true, usize::MAX),
            model_range(&m, StreamId::MIN, StreamId::MAX, true, usize::MAX)
        );
        for (k, v) in &m {
            let e = s.get(*k).expect("present");
            let got: Vec<_> = e.fields().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
            assert_eq!(&got, v);
        }
        if max_entries > 0 {
            assert!(s.nodes().all(|(_, lp)| {
                let m = node::master(lp).unwrap();
                m.live + m.deleted <= max_entries as u64
            }));
        }
        for (k, lp) in s.nodes() {
            assert!(node::validate(lp, k).is_some());
        }
    }
}

#[test]
fn approx_trim_removes_whole_nodes_only() {
    // Guards `~`: nodes go whole while the rest still reaches the target; nothing else moves.
    let mut s = StreamValue::new();
    for i in 1..=35u64 {
        s.append(id(i, 0), &[(b"f", b"v")], 4096, 10);
    }
    assert_eq!(s.trim(Trim::MaxLen(12), true, None), 20);
    assert_eq!(s.len(), 15);
    assert_eq!(s.trim(Trim::MaxLen(12), true, None), 0);
    assert_eq!(s.trim(Trim::MinId(id(30, 0)), true, None), 0);
    assert_eq!(s.trim(Trim::MinId(id(31, 0)), true, None), 10);
    assert_eq!(s.first_id(), Some(id(31, 0)));
    // LIMIT stops before a node that would exceed it.
    let mut s = StreamValue::new();
    for i in 1..=35u64 {
        s.append(id(i, 0), &[(b"f", b"v")], 4096, 10);
    }
    assert_eq!(s.trim(Trim::MaxLen(0), true, Some(25)), 20);
}

#[test]
fn read_counters_and_lag() {
    // Guards the estimates XINFO and XREADGROUP share, on the edge cases Redis 7.0 names.
    let mut s = StreamValue::new();
    assert_eq!(s.estimate_entries_read(id(5, 0)), Some(0));
    for i in 1..=5u64 {
        s.append(id(i, 0), &[(b"f", b"v")], 4096, 100);
    }
    assert_eq!(s.estimate_entries_read(id(5, 0)), Some(5));
    assert_eq!(s.estimate_entries_read(id(6, 0)), None);
    assert_eq!(s.estimate_entries_read(id(1, 0)), Some(1));
    assert_eq!(s.estimate_entries_read(StreamId::MIN), Some(0));
    assert_eq!(s.estimate_entries_read(id(3, 0)), None);
    s.delete(id(2, 0));
    assert!(s.range_has_tombstones(None, None));
    assert!(!s.range_has_tombstones(Some(id(3, 0)), None));
    s.create_group(b"g", id(1, 0), 1);
    assert_eq!(s.group_lag(s.group(b"g").unwrap()), None);
    s.create_group(b"h", id(3, 0), 3);
    assert_eq!(s.group_lag(s.group(b"h").unwrap()), Some(2));
}

#[test]
fn many_integer_fields_read_back() {
    // Guards the integer-text buffer past its stack part: 30 fields of 19-digit numbers.
    let texts: Vec<(String, String)> = (0..30i64)
        .map(|i| (i.to_string(), (i64::MIN + i).to_string()))
        .collect();
    let pairs: Vec<(&[u8], &[u8])> = texts
        .iter()
        .map(|(f, v)| (f.as_bytes(), v.as_bytes()))
        .collect();
    let mut s = StreamValue::new();
    s.append(id(1, 0), &pairs, 0, 0);
    s.append(id(2, 0), &pairs, 0, 0);
    let want: Vec<(Vec<u8>, Vec<u8>)> = pairs
        .iter()
        .map(|(f, v)| (f.to_vec(), v.to_vec()))
        .collect();
    for e in collect(&s, StreamId::MIN, StreamId::MAX, false, 10) {
        assert_eq!(e.1, want);
    }
    let e = s.get(id(2, 0)).expect("present");
    let got: Vec<_> = e.fields().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
    assert_eq!(got, want);
}
