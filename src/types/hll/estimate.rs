//! The cardinality estimate of Redis 7.0 (Ertl's "new" estimator, arXiv:1702.01284) from the
//! histogram of register values, computed with the same floating-point steps as
//! redis-server so both give the same integer.

use super::{sparse, Corrupt, Encoding, HDR_BYTES, Q, REGISTERS};

/// 1 / (2 ln 2): the estimator's constant for m registers as m grows.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// The estimate of a value that passed `check`; `Corrupt` for a sparse value whose runs do
/// not cover every register.
pub fn count(v: &[u8]) -> Result<u64, Corrupt> {
    let mut histo = [0u32; 64];
    match super::encoding(v) {
        Encoding::Dense => dense_histogram(&v[HDR_BYTES..], &mut histo),
        Encoding::Sparse => sparse::histogram(&v[HDR_BYTES..], &mut histo)?,
    }
    Ok(estimate(&histo))
}

/// The estimate of one byte per register (PFCOUNT of several keys).
pub fn count_registers(regs: &[u8; REGISTERS]) -> u64 {
    let mut lanes = Lanes::new();
    for c in regs.chunks_exact(4) {
        lanes.add([c[0] & 63, c[1] & 63, c[2] & 63, c[3] & 63]);
    }
    estimate(&lanes.sum())
}

/// Counts the dense registers by value.
fn dense_histogram(regs: &[u8], histo: &mut [u32; 64]) {
    let mut lanes = Lanes::new();
    for g in super::dense_groups(regs) {
        lanes.add(g);
    }
    *histo = lanes.sum();
}

/// Four histograms filled in turn, so that counting equal neighbours does not wait on the
/// previous increment of the same counter; summed at the end.
struct Lanes([[u32; 64]; 4]);

impl Lanes {
    fn new() -> Self {
        Lanes([[0; 64]; 4])
    }
    #[inline]
    fn add(&mut self, regs: [u8; 4]) {
        for (lane, r) in self.0.iter_mut().zip(regs) {
            lane[r as usize] += 1;
        }
    }
    fn sum(&self) -> [u32; 64] {
        std::array::from_fn(|i| self.0.iter().map(|l| l[i]).sum())
    }
}

fn estimate(histo: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let q = Q as usize;
    let mut z = m * tau((m - histo[q + 1] as f64) / m);
    for j in (1..=q).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if before == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if before == z {
            return z / 3.0;
        }
    }
}
