//! The orders Redis leaves GEOSEARCH results in, reproduced exactly so that equal distances
//! come out in the same order: a full sort is glibc's `qsort` (a stable top-down merge sort
//! at these sizes), a partial one (COUNT below the matches) is Redis' `pqsort`, a quicksort
//! that only sorts the partitions overlapping the requested positions.

use std::cmp::Ordering;

/// Redis' comparator over distances: greater, equal, or else less (so NaN sorts as less).
pub(super) fn cmp_dist(a: f64, b: f64, desc: bool) -> Ordering {
    let asc = if a > b {
        Ordering::Greater
    } else if a == b {
        Ordering::Equal
    } else {
        Ordering::Less
    };
    if desc {
        asc.reverse()
    } else {
        asc
    }
}

/// glibc's merge sort: halves of n/2 and n - n/2, the left element taken on ties.
pub(super) fn merge_sort<T: Copy>(v: &mut [T], cmp: &impl Fn(&T, &T) -> Ordering) {
    let mut tmp = Vec::with_capacity(v.len());
    merge_sort_in(v, cmp, &mut tmp);
}

fn merge_sort_in<T: Copy>(v: &mut [T], cmp: &impl Fn(&T, &T) -> Ordering, tmp: &mut Vec<T>) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    merge_sort_in(&mut v[..n1], cmp, tmp);
    merge_sort_in(&mut v[n1..], cmp, tmp);
    tmp.clear();
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < n {
        if cmp(&v[i], &v[j]) != Ordering::Greater {
            tmp.push(v[i]);
            i += 1;
        } else {
            tmp.push(v[j]);
            j += 1;
        }
    }
    tmp.extend_from_slice(&v[i..n1]);
    // What is left of the right half is already in place.
    let done = tmp.len();
    v[..done].copy_from_slice(tmp);
}

/// Redis' partial quicksort: afterwards positions `lo..=hi` hold what a full sort would put
/// there (and in the same order among equal elements as redis-server leaves them).
pub(super) fn partial_sort<T>(
    v: &mut [T],
    cmp: &impl Fn(&T, &T) -> Ordering,
    lo: usize,
    hi: usize,
) {
    // Partitions wait in a work list instead of Redis' recursion (they are disjoint, so the
    // order they are sorted in does not matter): no input can exhaust the thread's stack.
    let mut todo = vec![(0, v.len())];
    while let Some((a, n)) = todo.pop() {
        partial_in(v, a, n, cmp, lo, hi, &mut todo);
    }
}

/// The median of three positions by `cmp`, as Bentley and McIlroy's `med3`.
fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &impl Fn(&T, &T) -> Ordering) -> usize {
    use Ordering::*;
    if cmp(&v[a], &v[b]) == Less {
        if cmp(&v[b], &v[c]) == Less {
            b
        } else if cmp(&v[a], &v[c]) == Less {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) == Greater {
        b
    } else if cmp(&v[a], &v[c]) == Less {
        a
    } else {
        c
    }
}

/// Swaps `n` elements from `a` with `n` elements from `b` (disjoint runs).
fn swap_runs<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for k in 0..n {
        v.swap(a + k, b + k);
    }
}

/// Sorts `v[a..a + n]` as far as `lo..=hi` needs (Redis' `_pqsort`, indexes for pointers);
/// the left partition Redis recurses into goes to `todo`.
fn partial_in<T>(
    v: &mut [T],
    mut a: usize,
    mut n: usize,
    cmp: &impl Fn(&T, &T) -> Ordering,
    lo: usize,
    hi: usize,
    todo: &mut Vec<(usize, usize)>,
) {
    use Ordering::*;
    loop {
        if n < 7 {
            for m in a + 1..a + n {
                let mut l = m;
                while l > a && cmp(&v[l - 1], &v[l]) == Greater {
                    v.swap(l, l - 1);
                    l -= 1;
                }
            }
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(a, pm);
        // Elements equal to the pivot gather at both ends, then move to the middle.
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                let r = cmp(&v[pb], &v[a]);
                if r == Greater {
                    break;
                }
                if r == Equal {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let r = cmp(&v[pc], &v[a]);
                if r == Less {
                    break;
                }
                if r == Equal {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let pn = a + n;
        let r = (pa - a).min(pb - pa);
        swap_runs(v, a, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        swap_runs(v, pb, pn - r, r);
        // Only partitions that overlap lo..=hi are sorted further.
        let overlaps = |start: usize, len: usize| !(hi < start || lo >= start + len);
        let left = pb - pa;
        if left > 1 && overlaps(a, left) {
            todo.push((a, left));
        }
        let right = pd - pc;
        if right > 1 {
            a = pn - right;
            n = right;
            if overlaps(a, n) {
                continue;
            }
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_sort_is_stable() {
        // Equal keys keep their input order, as glibc's merge sort keeps them.
        let mut v: Vec<(u32, u32)> = (0..100).map(|i| ((i * 7) % 5, i)).collect();
        merge_sort(&mut v, &|a, b| a.0.cmp(&b.0));
        for w in v.windows(2) {
            assert!(w[0].0 < w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1));
        }
    }

    #[test]
    fn partial_sort_orders_the_requested_prefix() {
        // Whatever the input, the first k positions hold the k smallest keys in order.
        let mut seed = 12345u64;
        for n in [1usize, 5, 7, 8, 40, 41, 100, 500] {
            let mut v: Vec<u64> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    (seed >> 33) % 50
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort();
            let k = (n / 3).max(1);
            partial_sort(&mut v, &|a, b| a.cmp(b), 0, k - 1);
            assert_eq!(v[..k], sorted[..k], "n={n}");
        }
    }

    #[test]
    fn partial_sort_of_large_regular_inputs() {
        // All equal, ascending, descending and organ-pipe inputs of 200k elements: the
        // requested prefix comes out right, without deep recursion.
        let n = 200_000u64;
        let inputs: [Vec<u64>; 4] = [
            vec![7; n as usize],
            (0..n).collect(),
            (0..n).rev().collect(),
            (0..n).map(|i| i.min(n - i)).collect(),
        ];
        for mut v in inputs {
            let mut sorted = v.clone();
            sorted.sort();
            partial_sort(&mut v, &|a, b| a.cmp(b), 0, 9);
            assert_eq!(v[..10], sorted[..10]);
        }
    }
}
