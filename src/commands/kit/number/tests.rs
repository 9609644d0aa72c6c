//! Unit tests of the number readers: strtod's reach and ERANGE, getDoubleFromObject's checks.

use super::*;

#[test]
fn strtod_reads_the_longest_prefix() {
    // Guards what C's strtod consumes: leading space, signs, hex, inf/nan words, exponents.
    assert_eq!(strtod(b"  1.5xyz"), (1.5, 5, false));
    assert_eq!(strtod(b"-inf"), (f64::NEG_INFINITY, 4, false));
    assert_eq!(strtod(b"Infinity!"), (f64::INFINITY, 8, false));
    assert_eq!(strtod(b"0x1p4"), (16.0, 5, false));
    assert_eq!(strtod(b"1e"), (1.0, 1, false));
    assert_eq!(strtod(b"abc").1, 0);
    let (v, used, _) = strtod(b"nan(abc)");
    assert!(v.is_nan());
    assert_eq!(used, 8);
}

#[test]
fn strtod_reports_erange() {
    // Overflow and underflow to zero set ERANGE; a plain zero does not.
    assert_eq!(strtod(b"1e400"), (f64::INFINITY, 5, true));
    assert_eq!(strtod(b"1e-400"), (0.0, 6, true));
    assert_eq!(strtod(b"0e-400"), (0.0, 6, false));
}

#[test]
fn whole_argument_doubles() {
    // getDoubleFromObject refuses what strtod only half reads, NaN, space and ERANGE.
    assert_eq!(parse_f64(b"3"), Some(3.0));
    assert_eq!(parse_f64(b"+inf"), Some(f64::INFINITY));
    for bad in [&b""[..], b" 1", b"1 ", b"nan", b"1e400", b"1e-400", b"x"] {
        assert_eq!(parse_f64(bad), None, "{:?}", String::from_utf8_lossy(bad));
    }
    assert_eq!(
        f64_arg(b"x").map_err(|e| e.text()),
        Err("ERR value is not a valid float".into())
    );
}

#[test]
fn integers_and_c_strings() {
    // string2ll's error text, and the NUL cut C applies to arguments.
    assert_eq!(i64_arg(b"-12"), Ok(-12));
    assert_eq!(
        i64_arg(b"12a").map_err(|e| e.text()),
        Err("ERR value is not an integer or out of range".into())
    );
    assert_eq!(c_str(b"12\0junk"), b"12");
}

#[test]
fn long_double_parts() {
    // Guards the accessor to the long double's parts (it replaced a bridge that parsed the
    // Debug output; this is that bridge's test, moved from list/tests.rs).
    let Some(longdouble::Parsed::Finite(v)) = longdouble::parse(b"-3") else {
        panic!("parse failed")
    };
    let (neg, mant, exp) = v.parts();
    assert!(neg);
    assert_eq!((mant as u128 * (1u128 << 64)) >> (-exp) as u32, 3 << 64);
}
