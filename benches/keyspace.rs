//! Criterion micro-benchmarks of one shard's keyspace (`slotd::shard::db::Db`) at 1M keys of
//! 16 bytes, and of whole GET/SET commands through the in-process harness
//! (`slotd::testkit::Harness`), whose difference shows the dispatch cost per command.
//! Run: `cargo bench --bench keyspace`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use slotd::api::Db;
use slotd::api::Harness;
use slotd::api::{StrValue, Value};
use std::time::{Duration, Instant};

const KEYS: usize = 1_000_000;
/// Keys removed (or inserted) per timed stretch before the untimed refill; below KEYS so a
/// stretch never touches one key twice.
const CHUNK: usize = 100_000;
const HARNESS_KEYS: usize = 100_000;
const NOW_MS: u64 = 1_700_000_000_000;
const TTL_MS: u64 = 3_600_000;
const VALUE: &[u8] = b"0123456789abcdef";

/// `key:` plus 12 digits: 16 bytes.
fn key(i: usize) -> Vec<u8> {
    format!("key:{i:012}").into_bytes()
}

/// All keys in a fixed shuffled order, so consecutive operations land in unrelated tables and
/// heap places as a random-key client would make them.
fn shuffled_keys(n: usize) -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = (0..n).map(key).collect();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    for i in (1..n).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        keys.swap(i, (state % (i as u64 + 1)) as usize);
    }
    keys
}

fn value() -> Value {
    Value::Str(StrValue::from_slice(VALUE))
}

fn filled_db(keys: &[Vec<u8>], expire_at_ms: u64) -> Db {
    let mut db = Db::new(0, 1);
    for k in keys {
        db.set(k, value(), expire_at_ms, NOW_MS);
    }
    assert_eq!(db.len(), keys.len());
    db
}

/// Cycles through the keys forever.
struct Cursor(usize);

impl Cursor {
    fn next<'k>(&mut self, keys: &'k [Vec<u8>]) -> &'k [u8] {
        self.0 = (self.0 + 1) % keys.len();
        &keys[self.0]
    }
}

fn bench_db(c: &mut Criterion) {
    let keys = shuffled_keys(KEYS);
    let mut db = filled_db(&keys, 0);
    let mut g = c.benchmark_group("db_1m_keys");
    let mut at = Cursor(0);
    g.bench_function("lookup_read_hit", |b| {
        b.iter(|| black_box(db.lookup_read(at.next(&keys), NOW_MS).is_some()))
    });
    g.bench_function("lookup_read_miss", |b| {
        let missing = key(KEYS + 1);
        b.iter(|| black_box(db.lookup_read(black_box(&missing), NOW_MS).is_none()))
    });
    g.bench_function("set_overwrite", |b| {
        b.iter(|| db.set(at.next(&keys), value(), 0, NOW_MS))
    });
    g.bench_function("set_insert", |b| {
        b.iter_custom(|iters| chunked(iters, &mut db, &keys, &mut at, Op::Insert))
    });
    g.bench_function("remove", |b| {
        b.iter_custom(|iters| chunked(iters, &mut db, &keys, &mut at, Op::Remove))
    });
    g.finish();
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Insert,
    Remove,
}

/// Times `iters` inserts of absent keys or removes of present keys, in stretches of CHUNK;
/// between stretches the keyspace is put back to all KEYS present, untimed.
fn chunked(iters: u64, db: &mut Db, keys: &[Vec<u8>], at: &mut Cursor, op: Op) -> Duration {
    let mut timed = Duration::ZERO;
    let mut left = iters as usize;
    while left > 0 {
        let n = left.min(CHUNK);
        let stretch: Vec<&[u8]> = (0..n).map(|_| at.next(keys)).collect();
        if op == Op::Insert {
            stretch
                .iter()
                .for_each(|k| assert!(db.remove(k, NOW_MS).is_some()));
        }
        let start = Instant::now();
        for k in &stretch {
            match op {
                Op::Insert => db.set(k, value(), 0, NOW_MS),
                Op::Remove => drop(black_box(db.remove(k, NOW_MS))),
            }
        }
        timed += start.elapsed();
        if op == Op::Remove {
            stretch.iter().for_each(|k| db.set(k, value(), 0, NOW_MS));
        }
        left -= n;
    }
    assert_eq!(db.len(), keys.len());
    timed
}

fn bench_db_ttl(c: &mut Criterion) {
    let keys = shuffled_keys(KEYS);
    let mut db = filled_db(&keys, NOW_MS + TTL_MS);
    let mut g = c.benchmark_group("db_1m_keys_ttl");
    let mut at = Cursor(0);
    g.bench_function("set_with_ttl_overwrite", |b| {
        b.iter(|| db.set(at.next(&keys), value(), NOW_MS + TTL_MS, NOW_MS))
    });
    g.bench_function("lookup_read_hit_volatile", |b| {
        b.iter(|| black_box(db.lookup_read(at.next(&keys), NOW_MS).is_some()))
    });
    g.finish();
}

/// Whole commands through the harness: argument copy, table lookup, arity and routing checks,
/// handler, reply bytes. Compare with the `db_1m_keys` numbers for the dispatch overhead.
fn bench_harness(c: &mut Criterion) {
    let names: Vec<String> = (0..HARNESS_KEYS).map(|i| format!("key:{i:012}")).collect();
    let mut h = Harness::new();
    for k in &names {
        h.raw(&["SET", k, "0123456789abcdef"]);
    }
    let mut g = c.benchmark_group("harness_100k_keys");
    let mut i = 0;
    g.bench_function("get_hit", |b| {
        b.iter(|| {
            i = (i + 1) % HARNESS_KEYS;
            black_box(h.raw(&["GET", &names[i]]))
        })
    });
    g.bench_function("set", |b| {
        b.iter(|| {
            i = (i + 1) % HARNESS_KEYS;
            black_box(h.raw(&["SET", &names[i], "0123456789abcdef"]))
        })
    });
    g.bench_function("ping", |b| b.iter(|| black_box(h.raw(&["PING"]))));
    g.finish();
}

/// Short runs: the bench machine is shared, and these numbers are for spotting regressions
/// of 10% or more, not for the last percent.
fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! { name = benches; config = config(); targets = bench_db, bench_db_ttl, bench_harness }
criterion_main!(benches);
