//! Just enough 80-bit `long double` arithmetic to reproduce Redis' INCRBYFLOAT on x86-64:
//! parsing like `strtold` (correctly rounded, decimal and hex forms, `inf`), one correctly
//! rounded addition, and `%.17Lf` printing with trailing zeros removed. Redis computes in this
//! format, and its answers differ visibly from f64 ones (0.1 + 0.2 prints "0.3" there).
//! Everything is exact big-integer arithmetic, bounded by the 5119-byte input limit.
use super::is_c_space;
use std::cmp::Ordering;

/// Longest input Redis' `string2ld` accepts, plus one.
const INPUT_MAX_BYTES: usize = 5 * 1024;
/// Exponent of the smallest subnormal, and the largest exponent of a finite value, for a
/// value written as `mant * 2^exp` with a 64-bit `mant`.
const EXP_MIN: i64 = -16445;
const EXP_MAX: i64 = 16320;
/// Decimal magnitudes (position of the first significant digit) beyond which a decimal
/// input surely overflows or surely rounds to zero.
const DEC_MAG_MAX: i64 = 4934;
const DEC_MAG_MIN: i64 = -4952;
/// Parsed exponents saturate here, far outside both ranges.
const EXP_PARSE_CAP: i64 = 1_000_000;
/// Digits printed after the point (`%.17Lf`).
const FRAC_DIGITS: usize = 17;

/// A finite value `(-1)^neg * mant * 2^exp`; `mant == 0` is zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct F80 {
    neg: bool,
    mant: u64,
    exp: i64,
}

impl F80 {
    pub const ZERO: F80 = F80 {
        neg: false,
        mant: 0,
        exp: 0,
    };

    /// (negative, mantissa, exponent): the value is `(-1)^neg * mant * 2^exp`.
    pub fn parts(self) -> (bool, u64, i64) {
        (self.neg, self.mant, self.exp)
    }
}

/// What `strtold` would return for an accepted input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed {
    Finite(F80),
    Inf,
}

/// Unsigned big integer: little-endian 64-bit limbs, no zero limb on top.
#[derive(Clone, Debug)]
struct Big(Vec<u64>);

impl Big {
    fn from_u64(v: u64) -> Big {
        let mut b = Big(vec![v]);
        b.trim();
        b
    }
    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }
    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }
    fn bits(&self) -> i64 {
        match self.0.last() {
            None => 0,
            Some(&top) => self.0.len() as i64 * 64 - top.leading_zeros() as i64,
        }
    }
    fn mul_add_small(&mut self, m: u64, add: u64) {
        let mut carry = add as u128;
        for l in &mut self.0 {
            let v = *l as u128 * m as u128 + carry;
            *l = v as u64;
            carry = v >> 64;
        }
        if carry != 0 {
            self.0.push(carry as u64);
        }
        self.trim();
    }
    fn pow10(n: u64) -> Big {
        Big::from_u64(1).mul_pow10(n)
    }
    fn shl(&self, n: u64) -> Big {
        if self.is_zero() {
            return Big(Vec::new());
        }
        let (limbs, bits) = ((n / 64) as usize, (n % 64) as u32);
        let mut v = vec![0u64; limbs];
        if bits == 0 {
            v.extend_from_slice(&self.0);
        } else {
            let mut carry = 0u64;
            for &l in &self.0 {
                v.push((l << bits) | carry);
                carry = l >> (64 - bits);
            }
            v.push(carry);
        }
        let mut b = Big(v);
        b.trim();
        b
    }
    fn shr(&self, n: u64) -> Big {
        let (limbs, bits) = ((n / 64) as usize, (n % 64) as u32);
        if limbs >= self.0.len() {
            return Big(Vec::new());
        }
        let src = &self.0[limbs..];
        let mut v = Vec::with_capacity(src.len());
        for (k, &l) in src.iter().enumerate() {
            let hi = match (bits, src.get(k + 1)) {
                (0, _) | (_, None) => 0,
                (_, Some(&h)) => h << (64 - bits),
            };
            v.push((l >> bits) | hi);
        }
        let mut b = Big(v);
        b.trim();
        b
    }
    fn bit(&self, i: u64) -> bool {
        let limb = self.0.get((i / 64) as usize).copied().unwrap_or(0);
        limb >> (i % 64) & 1 == 1
    }
    /// True when any bit below position `i` is set.
    fn any_below(&self, i: u64) -> bool {
        let (limbs, bits) = ((i / 64) as usize, i % 64);
        let whole = self.0.iter().take(limbs).any(|&l| l != 0);
        let part = bits != 0 && self.0.get(limbs).is_some_and(|&l| l << (64 - bits) != 0);
        whole || part
    }
    fn cmp(&self, o: &Big) -> Ordering {
        let by_len = self.0.len().cmp(&o.0.len());
        by_len.then_with(|| self.0.iter().rev().cmp(o.0.iter().rev()))
    }
    /// self -= o; requires self >= o.
    fn sub_assign(&mut self, o: &Big) {
        let mut borrow = 0u64;
        for (k, l) in self.0.iter_mut().enumerate() {
            let r = o.0.get(k).copied().unwrap_or(0);
            let (d1, b1) = l.overflowing_sub(r);
            let (d2, b2) = d1.overflowing_sub(borrow);
            *l = d2;
            borrow = (b1 || b2) as u64;
        }
        assert!(borrow == 0, "big subtraction underflow");
        self.trim();
    }
    fn add(&self, o: &Big) -> Big {
        let n = self.0.len().max(o.0.len());
        let mut v = Vec::with_capacity(n + 1);
        let mut carry = 0u128;
        for k in 0..n {
            let s = self.0.get(k).copied().unwrap_or(0) as u128
                + o.0.get(k).copied().unwrap_or(0) as u128
                + carry;
            v.push(s as u64);
            carry = s >> 64;
        }
        v.push(carry as u64);
        let mut b = Big(v);
        b.trim();
        b
    }
    /// self /= d, returning the remainder.
    fn div_small(&mut self, d: u64) -> u64 {
        let mut rem = 0u128;
        for l in self.0.iter_mut().rev() {
            let cur = (rem << 64) | *l as u128;
            *l = (cur / d as u128) as u64;
            rem = cur % d as u128;
        }
        self.trim();
        rem as u64
    }
    fn to_decimal(&self) -> String {
        const CHUNK: u64 = 10_000_000_000_000_000_000;
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            chunks.push(n.div_small(CHUNK));
        }
        let mut s = chunks.pop().map_or("0".to_string(), |c| c.to_string());
        for c in chunks.iter().rev() {
            s.push_str(&format!("{c:019}"));
        }
        s
    }
}

/// `n / d` when the quotient is below 2^66; `n` becomes the remainder.
fn div_bounded(n: &mut Big, d: &Big) -> u128 {
    let mut q = 0u128;
    for i in (0..66).rev() {
        let ds = d.shl(i);
        if ds.cmp(n) != Ordering::Greater {
            n.sub_assign(&ds);
            q |= 1 << i;
        }
    }
    q
}

/// Rounds `num / den * 2^exp2` (num > 0) to the nearest 80-bit value, ties to even,
/// with subnormals; None when it overflows.
fn round(num: &Big, den: &Big, exp2: i64, neg: bool) -> Option<F80> {
    // The value lies in [2^(t-1), 2^(t+1)).
    let t = exp2 + num.bits() - den.bits();
    if t > EXP_MAX + 66 {
        return None;
    }
    if t < EXP_MIN - 2 {
        return Some(F80 { neg, ..F80::ZERO });
    }
    let mut e = (t - 64).max(EXP_MIN);
    loop {
        let s = exp2 - e;
        let (mut n, d) = if s >= 0 {
            (num.shl(s as u64), den.clone())
        } else {
            (num.clone(), den.shl(s.unsigned_abs()))
        };
        let q = div_bounded(&mut n, &d);
        if q >> 64 != 0 {
            e += 1;
            continue;
        }
        let mut mant = q as u64;
        let up = match n.shl(1).cmp(&d) {
            Ordering::Greater => true,
            Ordering::Equal => mant & 1 == 1,
            Ordering::Less => false,
        };
        if up {
            (mant, e) = match mant.checked_add(1) {
                Some(m) => (m, e),
                None => (1 << 63, e + 1),
            };
        }
        return (e <= EXP_MAX).then_some(F80 { neg, mant, exp: e });
    }
}

/// Parses like Redis' `string2ld`: the whole text (up to a NUL, as C sees it) must be a
/// number, no leading space; NaN, overflow and underflow to zero are rejected.
pub fn parse(raw: &[u8]) -> Option<Parsed> {
    if raw.is_empty() || raw.len() >= INPUT_MAX_BYTES {
        return None;
    }
    let s = match memchr::memchr(0, raw) {
        Some(p) => &raw[..p],
        None => raw,
    };
    if s.is_empty() {
        // strtold("") consumes nothing and stops at the terminator: zero.
        return Some(Parsed::Finite(F80::ZERO));
    }
    if is_c_space(s[0]) {
        return None;
    }
    let (neg, body) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some(Parsed::Inf);
    }
    let hex = body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x';
    let v = if hex {
        parse_hex(&body[2..], neg)?
    } else {
        parse_dec(body, neg)?
    };
    Some(Parsed::Finite(v))
}

/// Digits with an optional point; returns (digit values, digits after the point, rest).
fn mantissa(s: &[u8], radix: u32) -> Option<(Vec<u8>, i64, &[u8])> {
    let mut digits = Vec::new();
    let mut frac = 0i64;
    let mut seen_point = false;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == b'.' && !seen_point {
            seen_point = true;
        } else if let Some(d) = (c as char).to_digit(radix) {
            digits.push(d as u8);
            frac += seen_point as i64;
        } else {
            break;
        }
        i += 1;
    }
    (!digits.is_empty()).then_some((digits, frac, &s[i..]))
}

/// An exponent part `<marker>[+-]digits` that must end the text (or no exponent at all).
fn exponent(s: &[u8], marker: u8) -> Option<i64> {
    if s.is_empty() {
        return Some(0);
    }
    if s[0] | 0x20 != marker {
        return None;
    }
    let (neg, ds) = match s.get(1) {
        Some(b'-') => (true, &s[2..]),
        Some(b'+') => (false, &s[2..]),
        _ => (false, &s[1..]),
    };
    if ds.is_empty() || !ds.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = ds.iter().fold(0i64, |acc, &d| {
        (acc * 10 + (d - b'0') as i64).min(EXP_PARSE_CAP)
    });
    Some(if neg { -v } else { v })
}

/// Big integer of `digits` in `radix`, leading zeros already dropped.
fn digits_value(digits: &[u8], radix: u64) -> Big {
    let mut b = Big(Vec::new());
    for &d in digits {
        b.mul_add_small(radix, d as u64);
    }
    b
}

fn finish(v: Option<F80>) -> Option<F80> {
    // Overflow (None) and a nonzero input rounding to zero are both ERANGE rejections.
    v.filter(|f| f.mant != 0)
}

fn parse_dec(s: &[u8], neg: bool) -> Option<F80> {
    let (digits, frac, rest) = mantissa(s, 10)?;
    let exp10 = exponent(rest, b'e')?;
    let first = digits.iter().position(|&d| d != 0);
    let Some(first) = first else {
        return Some(F80 { neg, ..F80::ZERO });
    };
    let last = digits.iter().rposition(|&d| d != 0).unwrap_or(first);
    let sig = &digits[first..=last];
    // value = sig * 10^k
    let k = exp10 - frac + (digits.len() - 1 - last) as i64;
    let mag = k + sig.len() as i64;
    if !(DEC_MAG_MIN..=DEC_MAG_MAX).contains(&mag) {
        return None;
    }
    let d = digits_value(sig, 10);
    let one = Big::from_u64(1);
    let v = if k >= 0 {
        round(&{ d }.mul_pow10(k as u64), &one, 0, neg)
    } else {
        round(&d, &Big::pow10(k.unsigned_abs()), 0, neg)
    };
    finish(v)
}

fn parse_hex(s: &[u8], neg: bool) -> Option<F80> {
    let (digits, frac, rest) = mantissa(s, 16)?;
    let exp2 = exponent(rest, b'p')?;
    let h = digits_value(&digits, 16);
    if h.is_zero() {
        return Some(F80 { neg, ..F80::ZERO });
    }
    finish(round(&h, &Big::from_u64(1), exp2 - 4 * frac, neg))
}

impl Big {
    fn mul_pow10(mut self, n: u64) -> Big {
        let mut left = n;
        while left > 0 {
            let step = left.min(19);
            self.mul_add_small(10u64.pow(step as u32), 0);
            left -= step;
        }
        self
    }
}

/// The correctly rounded sum; None when it overflows.
pub fn add(a: F80, b: F80) -> Option<F80> {
    if a.mant == 0 {
        return Some(b);
    }
    if b.mant == 0 {
        return Some(a);
    }
    let emin = a.exp.min(b.exp);
    let x = Big::from_u64(a.mant).shl((a.exp - emin) as u64);
    let y = Big::from_u64(b.mant).shl((b.exp - emin) as u64);
    let (n, neg) = if a.neg == b.neg {
        (x.add(&y), a.neg)
    } else {
        match x.cmp(&y) {
            Ordering::Equal => return Some(F80::ZERO),
            Ordering::Greater => (sub(x, &y), a.neg),
            Ordering::Less => (sub(y, &x), b.neg),
        }
    };
    round(&n, &Big::from_u64(1), emin, neg)
}

fn sub(mut x: Big, y: &Big) -> Big {
    x.sub_assign(y);
    x
}

/// `%.17Lf` (ties to even, as glibc), then trailing zeros and a bare point removed, and
/// "-0" shown as "0".
pub fn format_human(v: F80) -> String {
    let scaled = Big::from_u64(v.mant).mul_pow10(FRAC_DIGITS as u64);
    let q = if v.exp >= 0 {
        scaled.shl(v.exp as u64)
    } else {
        let sh = v.exp.unsigned_abs();
        let mut q = scaled.shr(sh);
        let half = scaled.bit(sh - 1);
        if half && (scaled.any_below(sh - 1) || q.bit(0)) {
            q.mul_add_small(1, 1);
        }
        q
    };
    let mut digits = q.to_decimal();
    if digits.len() <= FRAC_DIGITS {
        digits = format!("{}{digits}", "0".repeat(FRAC_DIGITS + 1 - digits.len()));
    }
    let (int, frac) = digits.split_at(digits.len() - FRAC_DIGITS);
    let frac = frac.trim_end_matches('0');
    let mut s = String::with_capacity(digits.len() + 2);
    if v.neg && !(int == "0" && frac.is_empty()) {
        s.push('-');
    }
    s.push_str(int);
    if !frac.is_empty() {
        s.push('.');
        s.push_str(frac);
    }
    s
}
