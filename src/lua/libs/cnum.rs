//! Numbers the way the C libraries see them: printf's `%.<p>g`, glibc's `strtod` (the prefix
//! it accepts), Lua 5.1's string-to-number rule, and C's double-to-integer casts as x86-64
//! executes them (out-of-range values become the "integer indefinite" pattern).

const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// `(int64_t)x` on x86-64: truncation, or `i64::MIN` for NaN and out-of-range values.
pub fn f64_to_i64(x: f64) -> i64 {
    if !(-TWO_POW_63..TWO_POW_63).contains(&x) {
        i64::MIN
    } else {
        x as i64
    }
}

/// `(uint64_t)x` as gcc compiles it on x86-64: below 2^63 (and NaN) through the signed
/// conversion, above it by subtracting 2^63 first.
pub fn f64_to_u64(x: f64) -> u64 {
    if x >= TWO_POW_63 {
        (f64_to_i64(x - TWO_POW_63) as u64) ^ (1 << 63)
    } else {
        f64_to_i64(x) as u64
    }
}

/// `(int)x` on x86-64: truncation, or `i32::MIN` for NaN and out-of-range values.
pub fn f64_to_i32(x: f64) -> i32 {
    if !(-2_147_483_648.0..2_147_483_648.0).contains(&x.trunc()) {
        i32::MIN
    } else {
        x as i32
    }
}

/// Appends `x` as printf's `%.<prec>g` does (glibc: "inf", "-inf", "nan", "-nan").
pub fn push_g(out: &mut Vec<u8>, x: f64, prec: usize) {
    use std::io::Write;
    let prec = prec.max(1);
    if !x.is_finite() {
        if x.is_sign_negative() {
            out.push(b'-');
        }
        out.extend_from_slice(if x.is_nan() { b"nan" } else { b"inf" });
        return;
    }
    // The exponent %g decides by is the one of the value rounded to `prec` digits.
    let sci = format!("{:.*e}", prec - 1, x);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        out.extend_from_slice(trim_zeros(mantissa).as_bytes());
        let _ = write!(
            out,
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        let fixed = format!("{:.*}", decimals, x);
        out.extend_from_slice(trim_zeros(&fixed).as_bytes());
    }
}

/// `%g` drops trailing zeros of the fraction, and the point when nothing follows it.
fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn digits_len(s: &[u8], hex: bool) -> usize {
    s.iter()
        .take_while(|b| {
            if hex {
                b.is_ascii_hexdigit()
            } else {
                b.is_ascii_digit()
            }
        })
        .count()
}

/// glibc `strtod` over `s` (which ends where a C string would): the value and how many bytes
/// it used, or `None` when no number starts there.
pub fn strtod(s: &[u8]) -> Option<(f64, usize)> {
    let s = &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())];
    let mut i = s.iter().take_while(|&&b| is_c_space(b)).count();
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let rest = &s[i..];
    let (value, used) = if let Some(r) = special(rest) {
        r
    } else if rest.len() > 2
        && rest[0] == b'0'
        && rest[1] | 0x20 == b'x'
        && (rest[2].is_ascii_hexdigit()
            || (rest[2] == b'.' && rest.get(3).is_some_and(|b| b.is_ascii_hexdigit())))
    {
        hex_float(&rest[2..]).map(|(v, n)| (v, n + 2))?
    } else {
        decimal(rest)?
    };
    Some((if negative { -value } else { value }, i + used))
}

/// "inf", "infinity", "nan" and "nan(chars)", any case.
fn special(s: &[u8]) -> Option<(f64, usize)> {
    let starts = |w: &[u8]| s.len() >= w.len() && s[..w.len()].eq_ignore_ascii_case(w);
    if starts(b"infinity") {
        Some((f64::INFINITY, 8))
    } else if starts(b"inf") {
        Some((f64::INFINITY, 3))
    } else if starts(b"nan") {
        let mut n = 3;
        if s.get(3) == Some(&b'(') {
            let inner = s[4..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            if s.get(4 + inner) == Some(&b')') {
                n = 5 + inner;
            }
        }
        Some((f64::NAN, n))
    } else {
        None
    }
}

fn decimal(s: &[u8]) -> Option<(f64, usize)> {
    let int = digits_len(s, false);
    let mut n = int;
    let mut frac = 0;
    if s.get(n) == Some(&b'.') {
        frac = digits_len(&s[n + 1..], false);
        if int + frac > 0 {
            n += 1 + frac;
        }
    }
    if int + frac == 0 {
        return None;
    }
    if matches!(s.get(n), Some(b'e' | b'E')) {
        let mut j = n + 1;
        if matches!(s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let e = digits_len(&s[j.min(s.len())..], false);
        if e > 0 {
            n = j + e;
        }
    }
    let text = std::str::from_utf8(&s[..n]).ok()?;
    // Rust's parser wants a digit on each side of the point: "1." and ".5" are fine too.
    text.parse::<f64>().ok().map(|v| (v, n))
}

fn hex_float(s: &[u8]) -> Option<(f64, usize)> {
    let mut value = 0f64;
    let mut n = 0;
    let mut scale = 0i32;
    while let Some(d) = s.get(n).and_then(|b| (*b as char).to_digit(16)) {
        value = value * 16.0 + f64::from(d);
        n += 1;
    }
    if s.get(n) == Some(&b'.') {
        n += 1;
        while let Some(d) = s.get(n).and_then(|b| (*b as char).to_digit(16)) {
            value = value * 16.0 + f64::from(d);
            scale -= 4;
            n += 1;
        }
    }
    if matches!(s.get(n), Some(b'p' | b'P')) {
        let mut j = n + 1;
        let neg = s.get(j) == Some(&b'-');
        if matches!(s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let e = digits_len(&s[j.min(s.len())..], false);
        if e > 0 {
            let exp: i32 = std::str::from_utf8(&s[j..j + e])
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(i32::MAX / 2);
            scale = scale.saturating_add(if neg { -exp } else { exp });
            n = j + e;
        }
    }
    let value = if value == 0.0 {
        0.0
    } else {
        value * 2f64.powi(scale)
    };
    Some((value, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(x: f64, prec: usize) -> String {
        let mut out = Vec::new();
        push_g(&mut out, x, prec);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Guards `%.<p>g` against glibc's printf (expected values printed by printf(1)).
    #[test]
    fn g_format_matches_printf() {
        let cases: &[(f64, usize, &str)] = &[
            (0.1, 14, "0.1"),
            (100.0, 14, "100"),
            (1e15, 14, "1e+15"),
            (1e14, 14, "1e+14"),
            (123456789012345678.0, 14, "1.2345678901235e+17"),
            (0.0001, 14, "0.0001"),
            (0.00001, 14, "1e-05"),
            (-0.0, 14, "-0"),
            (7.123456789012345, 14, "7.1234567890123"),
            (1e100, 14, "1e+100"),
            (2.5e-7, 14, "2.5e-07"),
            (99999999999999.9, 14, "1e+14"),
            (0.25, 1, "0.2"),
            (1234.5, 3, "1.23e+03"),
            (95.0, 1, "1e+02"),
            (f64::INFINITY, 14, "inf"),
            (f64::NEG_INFINITY, 14, "-inf"),
        ];
        for (x, p, want) in cases {
            assert_eq!(g(*x, *p), *want, "{x} %.{p}g");
        }
    }

    /// Guards the prefix strtod accepts and the bytes it consumes.
    #[test]
    fn strtod_prefixes() {
        assert_eq!(strtod(b"12abc"), Some((12.0, 2)));
        assert_eq!(strtod(b"  -1.5e3x"), Some((-1500.0, 8)));
        assert_eq!(strtod(b"1e"), Some((1.0, 1)));
        assert_eq!(strtod(b".5"), Some((0.5, 2)));
        assert_eq!(strtod(b"5."), Some((5.0, 2)));
        assert_eq!(strtod(b"0x1F,"), Some((31.0, 4)));
        assert_eq!(strtod(b"0x"), Some((0.0, 1)));
        assert_eq!(strtod(b"Infinity"), Some((f64::INFINITY, 8)));
        assert_eq!(strtod(b"-inf]"), Some((f64::NEG_INFINITY, 4)));
        assert!(strtod(b"nan(12)").is_some_and(|(v, n)| v.is_nan() && n == 7));
        assert_eq!(strtod(b"."), None);
        assert_eq!(strtod(b"-"), None);
        assert_eq!(strtod(b"1\x002"), Some((1.0, 1)));
    }

    /// Guards the x86-64 results of C's out-of-range casts.
    #[test]
    fn c_casts() {
        assert_eq!(f64_to_i64(f64::NAN), i64::MIN);
        assert_eq!(f64_to_i64(1e300), i64::MIN);
        assert_eq!(f64_to_i64(-2.9), -2);
        assert_eq!(f64_to_u64(1e19), 10_000_000_000_000_000_000);
        assert_eq!(f64_to_u64(-1.0), u64::MAX);
        assert_eq!(f64_to_i32(3e9), i32::MIN);
    }
}
