//! Unit tests of the HyperLogLog encodings and estimator.

use super::*;

/// The same elements added to a sparse value and to a dense one.
fn both(n: u64, sparse_max: u64) -> (Vec<u8>, Vec<u8>) {
    let mut s = new_sparse();
    let mut d = new_sparse();
    to_dense(&mut d).unwrap();
    for i in 0..n {
        let e = format!("e{i}");
        add(&mut s, e.as_bytes(), sparse_max).unwrap();
        add(&mut d, e.as_bytes(), sparse_max).unwrap();
    }
    (s, d)
}

#[test]
fn empty_value_is_redis_bytes() {
    // A new HLL is the header with a valid zero cache and one XZERO over all registers.
    let v = new_sparse();
    assert_eq!(
        v,
        b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"
    );
    assert_eq!(check(&v), Ok(Encoding::Sparse));
    assert_eq!(count(&v), Ok(0));
    assert_eq!(cached(&v), Some(0));
    assert_eq!(decode(&v), "Z:16384");
}

#[test]
fn check_refuses_non_hll_strings() {
    // Short strings, wrong magic, unknown encodings and dense values of the wrong size.
    assert_eq!(check(b"HYLL"), Err(NotHll));
    assert_eq!(
        check(b"HYLX\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
        Err(NotHll)
    );
    assert_eq!(
        check(b"HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
        Err(NotHll)
    );
    assert_eq!(
        check(b"HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
        Err(NotHll)
    );
    let mut d = new_sparse();
    to_dense(&mut d).unwrap();
    assert_eq!(d.len(), DENSE_BYTES);
    assert_eq!(check(&d), Ok(Encoding::Dense));
}

#[test]
fn dense_registers_hold_their_values() {
    // Every register keeps a 6-bit value without disturbing its neighbours.
    let mut regs = vec![0u8; DENSE_BYTES - HDR_BYTES];
    for i in 0..REGISTERS {
        dense_put(&mut regs, i, (i * 7 % 64) as u8);
    }
    for i in 0..REGISTERS {
        assert_eq!(dense_get(&regs, i), (i * 7 % 64) as u8, "register {i}");
    }
}

#[test]
fn sparse_and_dense_agree() {
    // Counts of both encodings are equal; the sparse value is promoted past its byte limit.
    for n in [1, 10, 100, 1000, 5000] {
        let (s, d) = both(n, 3000);
        assert_eq!(count(&s), count(&d), "n={n}");
        let mut s2 = s.clone();
        to_dense(&mut s2).unwrap();
        assert_eq!(s2[HDR_BYTES..], d[HDR_BYTES..], "n={n}");
    }
    let (s, _) = both(100, 3000);
    assert_eq!(encoding(&s), Encoding::Sparse);
    let (s, _) = both(5000, 3000);
    assert_eq!(encoding(&s), Encoding::Dense);
    let (s, _) = both(100, 0);
    assert_eq!(encoding(&s), Encoding::Dense);
}

#[test]
fn estimates_are_close() {
    // The estimator stays within a few percent at every scale.
    for n in [100u64, 10_000, 200_000] {
        let (_, d) = both(n, 3000);
        let c = count(&d).unwrap();
        assert!(c.abs_diff(n) * 100 <= n * 3, "n={n} count={c}");
    }
}

#[test]
fn corrupt_sparse_is_detected() {
    // Runs that do not cover every register are corrupt for count, merge and promotion.
    let mut v = new_sparse();
    v.truncate(HDR_BYTES);
    v.push(0x7f);
    v.push(0xfe); // 16383 registers only
    assert_eq!(count(&v), Err(Corrupt));
    let mut max = [0u8; REGISTERS];
    assert_eq!(merge_into(&mut max, &v), Err(Corrupt));
    assert_eq!(to_dense(&mut v.clone()), Err(Corrupt));
    let mut empty = new_sparse();
    empty.truncate(HDR_BYTES);
    assert_eq!(add(&mut empty, b"x", 3000), Err(Corrupt));
}

#[test]
fn merge_takes_register_maxima() {
    // Merging keeps the larger register of each input, whatever their encodings.
    let (a, _) = both(50, 3000);
    let (_, b) = both(500, 3000);
    let mut max = [0u8; REGISTERS];
    merge_into(&mut max, &a).unwrap();
    merge_into(&mut max, &b).unwrap();
    assert_eq!(count_registers(&max), count(&b).unwrap());
    let mut dst = new_sparse();
    store_registers(&mut dst, &max, 3000);
    assert_eq!(count(&dst), count(&b));
}

#[test]
fn cache_bits() {
    // The stale bit hides the cached value; setting a count makes it valid again.
    let mut v = new_sparse();
    invalidate_cache(&mut v);
    assert_eq!(cached(&v), None);
    set_cached(&mut v, 42);
    assert_eq!(cached(&v), Some(42));
}

#[test]
fn selftest_passes() {
    // PFSELFTEST's checks hold (with a fixed "random" sequence; fewer rounds than the
    // command's, which a debug build would take seconds over).
    let mut x = 12345u32;
    let rand = move || {
        x = x.wrapping_mul(1103515245).wrapping_add(12345);
        x >> 1
    };
    assert_eq!(selftest_sized(rand, 3000, 20, 200_000), Ok(()));
}

#[test]
fn dense_groups_read_every_register() {
    // The four-at-a-time reader agrees with the one-register reader.
    let mut regs = vec![0u8; DENSE_BYTES - HDR_BYTES];
    for i in 0..REGISTERS {
        dense_put(&mut regs, i, (i * 13 % 64) as u8);
    }
    let all: Vec<u8> = dense_groups(&regs).flatten().collect();
    assert_eq!(all.len(), REGISTERS);
    for (i, &r) in all.iter().enumerate() {
        assert_eq!(r, dense_get(&regs, i), "register {i}");
    }
}

#[test]
fn run_past_the_end_after_full_cover() {
    // Runs that cover every register and then go past the last one are corrupt for Redis 7.0's
    // count, merge and conversion alike.
    let mut v = new_sparse();
    v.push(0x80); // one register of value 1, past the 16384 the XZERO covered
    assert_eq!(count(&v), Err(Corrupt));
    let mut max = [0u8; REGISTERS];
    assert_eq!(merge_into(&mut max, &v), Err(Corrupt));
    assert_eq!(to_dense(&mut v), Err(Corrupt));
}
