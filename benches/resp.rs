//! Criterion micro-benchmarks of the RESP layer alone: parsing requests with
//! `slotd::resp::Parser` and writing replies with `slotd::resp::Out`. No sockets, no keyspace.
//! Run: `cargo bench --bench resp`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use slotd::api::{Out, ParseOutcome, Parser, Proto};
use std::time::Duration;

/// `proto-max-bulk-len` default (512 MB), as the connection would pass it.
const MAX_BULK_BYTES: u64 = 512 * 1024 * 1024;
const PIPELINE_DEPTH: usize = 16;
const BIG_BULK_BYTES: usize = 1024 * 1024;
const PIECE_BYTES: usize = 16 * 1024;

/// Appends one multibulk request frame for `argv`.
fn push_command(buf: &mut Vec<u8>, argv: &[&[u8]]) {
    buf.extend_from_slice(format!("*{}\r\n", argv.len()).as_bytes());
    for a in argv {
        buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        buf.extend_from_slice(a);
        buf.extend_from_slice(b"\r\n");
    }
}

/// Parses every whole command in `buf`; returns how many there were.
fn parse_all(p: &mut Parser, buf: &[u8]) -> usize {
    let mut at = 0;
    let mut commands = 0;
    while at < buf.len() {
        match p.parse(&buf[at..], MAX_BULK_BYTES) {
            ParseOutcome::Command { consumed } => {
                black_box(p.ranges());
                at += consumed;
                commands += 1;
            }
            other => panic!("bench input must be whole commands: {other:?}"),
        }
    }
    commands
}

fn bench_parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("resp_parse");
    let mut pipeline = Vec::new();
    for i in 0..PIPELINE_DEPTH {
        let key = format!("key:{i:012}");
        push_command(
            &mut pipeline,
            &[b"SET", key.as_bytes(), b"xxxxxxxxxxxxxxxx"],
        );
    }
    g.throughput(Throughput::Elements(PIPELINE_DEPTH as u64));
    g.bench_function("set_pipeline_16", |b| {
        let mut p = Parser::new();
        b.iter(|| assert_eq!(parse_all(&mut p, black_box(&pipeline)), PIPELINE_DEPTH))
    });

    let mut get = Vec::new();
    push_command(&mut get, &[b"GET", b"key:000000000001"]);
    g.throughput(Throughput::Elements(1));
    g.bench_function("get_single", |b| {
        let mut p = Parser::new();
        b.iter(|| assert_eq!(parse_all(&mut p, black_box(&get)), 1))
    });

    let mut big = Vec::new();
    push_command(&mut big, &[b"SET", b"bigkey", &vec![b'x'; BIG_BULK_BYTES]]);
    // Counted per piece, not per byte: the parser never reads a bulk's body (it only checks
    // that enough bytes arrived), so bytes/s would measure nothing real.
    g.throughput(Throughput::Elements(big.len().div_ceil(PIECE_BYTES) as u64));
    g.bench_function("bulk_1mb_in_16k_pieces", |b| {
        let mut p = Parser::new();
        b.iter(|| parse_in_pieces(&mut p, black_box(&big)))
    });
    g.finish();
}

/// Feeds `frame` to the parser the way socket reads would deliver it: the visible buffer
/// grows by one piece per call until the command completes.
fn parse_in_pieces(p: &mut Parser, frame: &[u8]) -> usize {
    let mut visible = 0;
    loop {
        visible = (visible + PIECE_BYTES).min(frame.len());
        match p.parse(&frame[..visible], MAX_BULK_BYTES) {
            ParseOutcome::Command { consumed } => return consumed,
            ParseOutcome::Incomplete { .. } if visible < frame.len() => {}
            other => panic!("unexpected parse outcome: {other:?}"),
        }
    }
}

fn bench_write(c: &mut Criterion) {
    let mut g = c.benchmark_group("resp_write");
    let value = vec![b'v'; 64];
    g.bench_function("bulk_64b", |b| {
        let mut buf = Vec::with_capacity(256);
        b.iter(|| {
            buf.clear();
            Out::new(&mut buf, Proto::Resp2).bulk(black_box(&value));
            black_box(buf.len())
        })
    });
    g.bench_function("int", |b| {
        let mut buf = Vec::with_capacity(64);
        b.iter(|| {
            buf.clear();
            Out::new(&mut buf, Proto::Resp2).int(black_box(-1_234_567_890));
            black_box(buf.len())
        })
    });
    let items: Vec<Vec<u8>> = (0..100)
        .map(|i| format!("member:{i:08}").into_bytes())
        .collect();
    g.throughput(Throughput::Elements(items.len() as u64));
    g.bench_function("array_of_100_bulks", |b| {
        let mut buf = Vec::with_capacity(4096);
        b.iter(|| {
            buf.clear();
            let mut out = Out::new(&mut buf, Proto::Resp2);
            out.array(items.len());
            for it in &items {
                out.bulk(black_box(it));
            }
            black_box(buf.len())
        })
    });
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

criterion_group! { name = benches; config = config(); targets = bench_parse, bench_write }
criterion_main!(benches);
