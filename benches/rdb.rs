//! Criterion micro-benchmark of the CRC-64 every RDB file and replication payload ends with
//! (`slotd::api::crc64`, slice-by-8), beside the one-table-per-byte loop it replaced, over a
//! 16 MiB buffer: bytes per second says what checksumming a large snapshot costs (at 2 GB/s a
//! 1 GB snapshot pays half a second, spread over the shards' serialization).
//! Run: `cargo bench --bench rdb`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use std::time::Duration;

const BUF_BYTES: usize = 16 << 20;

/// The reflected Jones polynomial, for the baseline's table.
const POLY_REFLECTED: u64 = 0x95AC_9329_AC4B_C9B5;

/// The previous implementation: one 256-entry table, one lookup per byte.
fn baseline_table() -> [u64; 256] {
    let mut t = [0u64; 256];
    for (i, e) in t.iter_mut().enumerate() {
        let mut crc = i as u64;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY_REFLECTED
            } else {
                crc >> 1
            };
        }
        *e = crc;
    }
    t
}

fn baseline(t: &[u64; 256], mut crc: u64, data: &[u8]) -> u64 {
    for &b in data {
        crc = t[((crc ^ b as u64) & 0xFF) as usize] ^ (crc >> 8);
    }
    crc
}

fn crc(c: &mut Criterion) {
    // Bytes spread over 0..=255 by a multiplicative hash (content does not change the cost).
    let data: Vec<u8> = (0..BUF_BYTES as u64)
        .map(|i| (i.wrapping_mul(0xD6E8_FEB8_6659_FD93) >> 48) as u8)
        .collect();
    let table = baseline_table();
    assert_eq!(slotd::api::crc64(0, &data), baseline(&table, 0, &data));
    let mut g = c.benchmark_group("crc64");
    g.throughput(Throughput::Bytes(BUF_BYTES as u64));
    g.measurement_time(Duration::from_secs(5));
    g.sample_size(20);
    g.bench_function("slice_by_8", |b| {
        b.iter(|| slotd::api::crc64(0, black_box(&data)))
    });
    g.bench_function("bytewise_baseline", |b| {
        b.iter(|| baseline(&table, 0, black_box(&data)))
    });
    g.finish();
}

criterion_group!(benches, crc);
criterion_main!(benches);
