//! HyperLogLog values in Redis 7.0's exact byte layout, so a value written by slotd is the
//! value redis-server writes for the same additions (GET, DUMP and RESTORE carry it both ways).
//! Pure functions over the string's bytes; no commands, no keyspace.
//!
//! Layout: a 16-byte header ("HYLL", the encoding byte, 3 zero bytes, the cached cardinality
//! as 8 little-endian bytes whose top bit marks it stale), then the registers: 16384 six-bit
//! registers packed little-endian (dense), or run-length opcodes (sparse, `sparse`). An
//! element picks its register and its run of zeros from MurmurHash64A with Redis' seed.
//! The estimator is in `estimate`. Operations never panic on corrupt input: they report
//! `Corrupt`, which commands answer with Redis' INVALIDOBJ error.

mod estimate;
mod sparse;
#[cfg(test)]
mod tests;

pub use estimate::{count, count_registers};
pub use sparse::{decode, sparse_set, to_dense};

/// Registers are addressed by the low 14 bits of the hash.
pub const P: u32 = 14;
/// Bits of the hash left for the run of zeros (64 - P).
pub const Q: u32 = 64 - P;
pub const REGISTERS: usize = 1 << P;
/// Bits per dense register and the largest value one holds.
const REGISTER_BITS: usize = 6;
const REGISTER_MAX: u8 = 63;
pub const HDR_BYTES: usize = 16;
/// A dense value is exactly this long (header and 12288 register bytes).
pub const DENSE_BYTES: usize = HDR_BYTES + (REGISTERS * REGISTER_BITS).div_ceil(8);
/// The encoding byte (offset 4).
const ENCODING_AT: usize = 4;
const ENC_DENSE: u8 = 0;
const ENC_SPARSE: u8 = 1;
/// The cached cardinality (offset 8, little endian); bit 7 of its last byte marks it stale.
const CARD_AT: usize = 8;
const CARD_STALE_BIT: u8 = 0x80;
/// MurmurHash64A's seed in Redis' HyperLogLog.
const HASH_SEED: u64 = 0xadc8_3b19;

/// The value's bytes are a HyperLogLog but their registers do not add up (Redis' INVALIDOBJ).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Corrupt;

/// The string is not a HyperLogLog at all (Redis' WRONGTYPE "not a valid HyperLogLog").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotHll;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Dense,
    Sparse,
}

impl Encoding {
    /// PFDEBUG ENCODING's names.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Dense => "dense",
            Encoding::Sparse => "sparse",
        }
    }
}

/// Redis' validity check of a string used as a HyperLogLog: long enough for the header, the
/// magic, a known encoding, and a dense value of exactly the dense length.
pub fn check(b: &[u8]) -> Result<Encoding, NotHll> {
    if b.len() < HDR_BYTES || &b[..4] != b"HYLL" {
        return Err(NotHll);
    }
    match b[ENCODING_AT] {
        ENC_DENSE if b.len() == DENSE_BYTES => Ok(Encoding::Dense),
        ENC_SPARSE => Ok(Encoding::Sparse),
        _ => Err(NotHll),
    }
}

/// The encoding of a value that passed `check`.
pub fn encoding(b: &[u8]) -> Encoding {
    if b[ENCODING_AT] == ENC_DENSE {
        Encoding::Dense
    } else {
        Encoding::Sparse
    }
}

/// A new empty HyperLogLog: sparse, every register zero (one XZERO opcode), cache valid at 0.
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR_BYTES + 2);
    v.extend_from_slice(b"HYLL");
    v.extend_from_slice(&[ENC_SPARSE, 0, 0, 0]);
    v.extend_from_slice(&[0; 8]);
    sparse::push_xzero(&mut v, REGISTERS);
    v
}

/// The cached cardinality, when it is not stale.
pub fn cached(b: &[u8]) -> Option<u64> {
    let card: [u8; 8] = b[CARD_AT..CARD_AT + 8].try_into().ok()?;
    (card[7] & CARD_STALE_BIT == 0).then(|| u64::from_le_bytes(card))
}

pub fn set_cached(b: &mut [u8], card: u64) {
    b[CARD_AT..CARD_AT + 8].copy_from_slice(&card.to_le_bytes());
}

pub fn invalidate_cache(b: &mut [u8]) {
    b[CARD_AT + 7] |= CARD_STALE_BIT;
}

/// Redis' MurmurHash64A (little-endian reads), as its HyperLogLog uses it.
pub fn murmur64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let mut k = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element falls in and the value it proposes: one more than the number of
/// trailing zeros of the rest of its hash (at most Q + 1).
pub fn register_of(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, HASH_SEED);
    let index = (hash as usize) & (REGISTERS - 1);
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Dense register `i` of the register bytes `regs` (the value after its header).
#[inline]
pub fn dense_get(regs: &[u8], i: usize) -> u8 {
    let bit = i * REGISTER_BITS;
    let (byte, shift) = (bit / 8, bit % 8);
    let b0 = regs[byte] as u16;
    // The last register ends inside its first byte; Redis reads the byte after it anyway.
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u16;
    (((b0 | (b1 << 8)) >> shift) as u8) & REGISTER_MAX
}

#[inline]
pub fn dense_put(regs: &mut [u8], i: usize, val: u8) {
    let bit = i * REGISTER_BITS;
    let (byte, shift) = (bit / 8, bit % 8);
    let v = (val & REGISTER_MAX) as u16;
    let mask = (REGISTER_MAX as u16) << shift;
    regs[byte] = (regs[byte] & !(mask as u8)) | ((v << shift) as u8);
    if shift > 8 - REGISTER_BITS {
        let hi = (mask >> 8) as u8;
        regs[byte + 1] = (regs[byte + 1] & !hi) | ((v << shift) >> 8) as u8;
    }
}

/// The dense registers four at a time (every three bytes hold four whole registers).
#[inline]
fn dense_groups(regs: &[u8]) -> impl Iterator<Item = [u8; 4]> + '_ {
    regs.chunks_exact(3).map(|c| {
        let (b0, b1, b2) = (c[0], c[1], c[2]);
        [
            b0 & REGISTER_MAX,
            (b0 >> 6) | ((b1 & 15) << 2),
            (b1 >> 4) | ((b2 & 3) << 4),
            b2 >> 2,
        ]
    })
}

/// Raises dense register `i` to `val`; true when it changed.
#[inline]
pub fn dense_set(regs: &mut [u8], i: usize, val: u8) -> bool {
    if val > dense_get(regs, i) {
        dense_put(regs, i, val);
        true
    } else {
        false
    }
}

/// Raises register `index` to `val` in either encoding (a sparse value may turn dense: past
/// `sparse_max_bytes`, or for a value above 32). True when a register changed.
pub fn set_register(
    v: &mut Vec<u8>,
    index: usize,
    val: u8,
    sparse_max_bytes: u64,
) -> Result<bool, Corrupt> {
    match encoding(v) {
        Encoding::Dense => Ok(dense_set(&mut v[HDR_BYTES..], index, val)),
        Encoding::Sparse => sparse_set(v, index, val, sparse_max_bytes),
    }
}

/// PFADD of one element to a value that passed `check`. True when a register changed (the
/// caller invalidates the cached cardinality).
pub fn add(v: &mut Vec<u8>, element: &[u8], sparse_max_bytes: u64) -> Result<bool, Corrupt> {
    let (index, val) = register_of(element);
    set_register(v, index, val, sparse_max_bytes)
}

/// Raises each of `max`'s registers to this value's (PFMERGE and PFCOUNT of several keys).
pub fn merge_into(max: &mut [u8; REGISTERS], v: &[u8]) -> Result<(), Corrupt> {
    match encoding(v) {
        Encoding::Dense => {
            for (m, g) in max.chunks_exact_mut(4).zip(dense_groups(&v[HDR_BYTES..])) {
                for (m, r) in m.iter_mut().zip(g) {
                    *m = (*m).max(r);
                }
            }
            Ok(())
        }
        Encoding::Sparse => sparse::merge_into(max, &v[HDR_BYTES..]),
    }
}

/// Writes the registers of `max` into a value that passed `check` (PFMERGE's destination),
/// register by register as Redis does, so a sparse destination ends up with Redis' bytes.
pub fn store_registers(v: &mut Vec<u8>, max: &[u8; REGISTERS], sparse_max_bytes: u64) {
    for (i, &m) in max.iter().enumerate() {
        if m != 0 {
            // The destination was checked as a source (or is new): it cannot be corrupt,
            // and Redis ignores the result here too.
            let _ = set_register(v, i, m, sparse_max_bytes);
        }
    }
}

/// PFSELFTEST: the dense registers keep what is stored in them, and counts of a dense and a
/// sparse value fed the same elements agree and stay within bounds. `rand` is C's `rand()`.
pub fn selftest(rand: impl FnMut() -> u32, sparse_max_bytes: u64) -> Result<(), String> {
    selftest_sized(rand, sparse_max_bytes, 1000, 10_000_000)
}

/// PFSELFTEST with `cycles` rounds of the register test and `elements` additions.
fn selftest_sized(
    mut rand: impl FnMut() -> u32,
    sparse_max_bytes: u64,
    cycles: usize,
    elements: u64,
) -> Result<(), String> {
    let mut dense = vec![0u8; DENSE_BYTES];
    dense[..4].copy_from_slice(b"HYLL");
    let mut want = [0u8; REGISTERS];
    for _ in 0..cycles {
        for (i, w) in want.iter_mut().enumerate() {
            *w = (rand() & REGISTER_MAX as u32) as u8;
            dense_put(&mut dense[HDR_BYTES..], i, *w);
        }
        for (i, &w) in want.iter().enumerate() {
            let got = dense_get(&dense[HDR_BYTES..], i);
            if got != w {
                return Err(format!(
                    "TESTFAILED Register {i} should be {w} but is {got}"
                ));
            }
        }
    }
    dense[HDR_BYTES..].fill(0);
    let mut sparse = new_sparse();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let seed = rand() as u64 | (rand() as u64) << 32;
    for j in 1..=elements {
        let ele = (j ^ seed).to_le_bytes();
        let (index, val) = register_of(&ele);
        dense_set(&mut dense[HDR_BYTES..], index, val);
        add(&mut sparse, &ele, sparse_max_bytes).map_err(|_| "TESTFAILED corrupt".to_string())?;
        if j != checkpoint {
            continue;
        }
        if j < sparse_max_bytes / 2 && encoding(&sparse) != Encoding::Sparse {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let card = count(&dense).unwrap_or(0);
        if count(&sparse).ok() != Some(card) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let maxerr = if j == 10 {
            1
        } else {
            (relerr * 6.0 * checkpoint as f64).ceil() as u64
        };
        let abserr = checkpoint.abs_diff(card);
        if abserr > maxerr {
            return Err(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}
