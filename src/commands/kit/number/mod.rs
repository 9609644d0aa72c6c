//! Numbers as Redis reads and writes them: C's `strtod` (decimal, hex, `inf`, `nan`, with its
//! `ERANGE` report), `getDoubleFromObject`'s whole-argument check, `string2ll` integers, and the
//! 80-bit `long double` arithmetic of INCRBYFLOAT (`longdouble`), and `%.17g` (re-exported from
//! the reply writer). Pure functions; the argument cursor and the families call these, none
//! re-implements them.

pub mod longdouble;
pub mod timeout;

use crate::resp::ReplyError;

pub use crate::resp::parse::parse_i64;
/// `%.17g` as Redis prints doubles; it lives with the reply writer, which RDB and AOF code
/// (below the commands layer) share.
pub use crate::resp::write::format_double_g17;

/// `parse_i64`, failing with "ERR value is not an integer or out of range".
pub fn i64_arg(b: &[u8]) -> Result<i64, ReplyError> {
    parse_i64(b).ok_or(ReplyError::NotInteger)
}

pub fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// What C's `strtod` reads from the start of `s`: the value, the bytes consumed (0 when no
/// number), and whether the result over- or underflowed (`ERANGE`).
pub fn strtod(s: &[u8]) -> (f64, usize, bool) {
    let mut i = s.iter().take_while(|&&c| is_c_space(c)).count();
    let start = i;
    let neg = matches!(s.get(i), Some(b'-'));
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let rest = &s[i..];
    let word = |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
    let sign = if neg { -1.0 } else { 1.0 };
    if word(b"infinity") {
        return (sign * f64::INFINITY, i + 8, false);
    }
    if word(b"inf") {
        return (sign * f64::INFINITY, i + 3, false);
    }
    if word(b"nan") {
        return (f64::NAN, i + 3 + nan_suffix(&rest[3..]), false);
    }
    if rest.len() > 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        if let Some((v, used, erange)) = hex_float(&rest[2..]) {
            return (sign * v, i + 2 + used, erange);
        }
    }
    let used = decimal_len(rest);
    if used == 0 {
        return (0.0, 0, false);
    }
    let text = std::str::from_utf8(&rest[..used]).unwrap_or("0");
    let v: f64 = text.parse().unwrap_or(0.0);
    let nonzero_digits = rest[..used]
        .iter()
        .take_while(|c| !matches!(c, b'e' | b'E'))
        .any(|c| matches!(c, b'1'..=b'9'));
    let erange = v.is_infinite() || (v == 0.0 && nonzero_digits);
    let _ = start;
    (sign * v, i + used, erange)
}

/// Length of an optional "(chars)" after "nan", as strtod accepts.
fn nan_suffix(s: &[u8]) -> usize {
    if s.first() != Some(&b'(') {
        return 0;
    }
    match s.iter().position(|&c| c == b')') {
        Some(p)
            if s[1..p]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_') =>
        {
            p + 1
        }
        _ => 0,
    }
}

/// Length of the longest decimal float at the start of `s` ("1", "1.", ".5", "1e5").
fn decimal_len(s: &[u8]) -> usize {
    let digits = |from: usize| s[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int = digits(0);
    let mut i = int;
    let mut frac = 0;
    if s.get(i) == Some(&b'.') {
        frac = digits(i + 1);
        i += 1 + frac;
    }
    if int + frac == 0 {
        return 0;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let e = digits(j);
        if e > 0 {
            i = j + e;
        }
    }
    i
}

/// A hex float body after "0x": value, bytes used, ERANGE. None when no hex digit follows.
fn hex_float(s: &[u8]) -> Option<(f64, usize, bool)> {
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut i = 0;
    let mut any = false;
    let mut point = false;
    while i < s.len() {
        let c = s[i];
        if c == b'.' && !point {
            point = true;
        } else if let Some(v) = (c as char).to_digit(16) {
            any = true;
            if mant >> 56 == 0 {
                mant = mant * 16 + v as u64;
                exp -= if point { 4 } else { 0 };
            } else if !point {
                exp += 4;
            }
        } else {
            break;
        }
        i += 1;
    }
    if !any {
        return None;
    }
    if i < s.len() && (s[i] | 0x20) == b'p' {
        let mut j = i + 1;
        let neg = s.get(j) == Some(&b'-');
        if matches!(s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let n = s[j..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n > 0 {
            let e: i64 = std::str::from_utf8(&s[j..j + n])
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(100_000);
            exp += if neg { -e } else { e };
            i = j + n;
        }
    }
    let v = mant as f64 * 2f64.powi(exp.clamp(-2000, 2000) as i32);
    Some((v, i, v.is_infinite() || (v == 0.0 && mant != 0)))
}

/// A double as Redis reads a score or increment (`getDoubleFromObject`): the whole argument must
/// be a number, no leading space, no NaN, no overflow, no underflow to zero.
pub fn parse_f64(b: &[u8]) -> Option<f64> {
    if b.is_empty() || is_c_space(b[0]) {
        return None;
    }
    let (v, used, erange) = strtod(b);
    if used != b.len() || v.is_nan() || (erange && (v.is_infinite() || v == 0.0)) {
        return None;
    }
    Some(v)
}

/// `parse_f64`, failing with "ERR value is not a valid float".
pub fn f64_arg(b: &[u8]) -> Result<f64, ReplyError> {
    parse_f64(b).ok_or(ReplyError::NotFloat)
}

/// The text C sees: everything up to the first NUL byte.
pub fn c_str(b: &[u8]) -> &[u8] {
    match memchr::memchr(0, b) {
        Some(p) => &b[..p],
        None => b,
    }
}

#[cfg(test)]
mod tests;
