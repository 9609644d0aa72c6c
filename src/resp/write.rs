//! Reply writer: appends RESP2 or RESP3 frames to an output buffer. Handlers write replies
//! through `Out` only, so the protocol version is decided in one place.

use super::error::ReplyError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Proto {
    #[default]
    Resp2,
    Resp3,
}

pub struct Out<'a> {
    pub buf: &'a mut Vec<u8>,
    pub proto: Proto,
}

/// Appends the decimal form of `v` without allocating.
pub fn push_int(buf: &mut Vec<u8>, v: i64) {
    if v < 0 {
        buf.push(b'-');
    }
    push_u64(buf, v.unsigned_abs());
}

/// Appends the decimal form of `u` without allocating.
#[inline]
pub fn push_u64(buf: &mut Vec<u8>, u: u64) {
    let mut tmp = [0u8; 20];
    let start = digits_u64(&mut tmp, u);
    buf.extend_from_slice(&tmp[start..]);
}

/// Writes the decimal digits of `u` right-aligned into `tmp`; returns where they start.
#[inline]
pub fn digits_u64(tmp: &mut [u8; 20], mut u: u64) -> usize {
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    i
}

/// Formats a double the way Redis 7.0 prints scores and floats in replies (`%.17g`, with
/// `inf`/`-inf`), e.g. `1.5`, `0.10000000000000001`, `1e+20`.
pub fn format_double_g17(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v.is_nan() {
        return "nan".into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let exp = v.abs().log10().floor() as i32;
    // %.17g: scientific when exp < -4 or exp >= 17.
    let sci = format!("{:.16e}", v);
    let (mant, e) = sci.split_once('e').unwrap_or((&sci, "0"));
    let e: i32 = e.parse().unwrap_or(exp);
    if !(-4..17).contains(&e) {
        let mant = trim_zeros(mant);
        let sign = if e < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", e.abs());
    }
    let decimals = (16 - e).max(0) as usize;
    trim_zeros(&format!("{:.*}", decimals, v)).to_string()
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

impl<'a> Out<'a> {
    pub fn new(buf: &'a mut Vec<u8>, proto: Proto) -> Self {
        Out { buf, proto }
    }
    pub fn resp3(&self) -> bool {
        self.proto == Proto::Resp3
    }
    fn header(&mut self, tag: u8, n: i64) {
        self.buf.push(tag);
        push_int(self.buf, n);
        self.buf.extend_from_slice(b"\r\n");
    }
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }
    pub fn simple(&mut self, s: &str) {
        self.simple_bytes(s.as_bytes());
    }
    /// A status reply of any bytes (CR and LF must not occur in it).
    pub fn simple_bytes(&mut self, s: &[u8]) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }
    pub fn error(&mut self, e: &ReplyError) {
        self.buf.push(b'-');
        e.write_text(self.buf);
        self.buf.extend_from_slice(b"\r\n");
    }
    /// A raw error line; `text` must carry its code (e.g. "ERR ...").
    pub fn error_text(&mut self, text: &str) {
        self.error_bytes(text.as_bytes());
    }
    /// `error_text` of any bytes (CR and LF must not occur in them).
    pub fn error_bytes(&mut self, text: &[u8]) {
        self.buf.push(b'-');
        self.buf.extend_from_slice(text);
        self.buf.extend_from_slice(b"\r\n");
    }
    pub fn int(&mut self, v: i64) {
        self.header(b':', v);
    }
    pub fn bulk(&mut self, s: &[u8]) {
        self.header(b'$', s.len() as i64);
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }
    pub fn bulk_int(&mut self, v: i64) {
        let mut tmp = Vec::with_capacity(20);
        push_int(&mut tmp, v);
        self.bulk(&tmp);
    }
    /// Null bulk string: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        if self.resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }
    /// Null array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        if self.resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }
    pub fn array(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }
    /// A map of `n` pairs: `%n` in RESP3, a flat array of 2n in RESP2.
    pub fn map(&mut self, n: usize) {
        if self.resp3() {
            self.header(b'%', n as i64);
        } else {
            self.header(b'*', 2 * n as i64);
        }
    }
    /// A set: `~n` in RESP3, an array in RESP2.
    pub fn set(&mut self, n: usize) {
        if self.resp3() {
            self.header(b'~', n as i64);
        } else {
            self.header(b'*', n as i64);
        }
    }
    /// A double: `,v` in RESP3, a bulk string in RESP2.
    pub fn double(&mut self, v: f64) {
        let s = format_double_g17(v);
        if self.resp3() {
            self.buf.push(b',');
            self.buf.extend_from_slice(s.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(s.as_bytes());
        }
    }
    /// A boolean: `#t`/`#f` in RESP3, integer 1/0 in RESP2.
    pub fn boolean(&mut self, v: bool) {
        if self.resp3() {
            self.buf
                .extend_from_slice(if v { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(v as i64);
        }
    }
    /// Verbatim text (`=len\r\ntxt:...` in RESP3), a bulk string in RESP2.
    pub fn verbatim(&mut self, s: &[u8]) {
        if self.resp3() {
            self.header(b'=', s.len() as i64 + 4);
            self.buf.extend_from_slice(b"txt:");
            self.buf.extend_from_slice(s);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(s);
        }
    }
    /// Bytes already encoded as RESP (e.g. replies computed on another shard).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g17_matches_redis() {
        assert_eq!(format_double_g17(1.5), "1.5");
        assert_eq!(format_double_g17(0.1), "0.10000000000000001");
        assert_eq!(format_double_g17(3.0), "3");
        assert_eq!(format_double_g17(1e20), "1e+20");
        assert_eq!(format_double_g17(1e-5), "1.0000000000000001e-05");
        assert_eq!(format_double_g17(f64::INFINITY), "inf");
        assert_eq!(format_double_g17(-2.5), "-2.5");
        assert_eq!(format_double_g17(123456789.0), "123456789");
    }

    #[test]
    fn ints_and_nulls() {
        let mut b = vec![];
        let mut o = Out::new(&mut b, Proto::Resp2);
        o.int(i64::MIN);
        o.null();
        assert_eq!(b, b":-9223372036854775808\r\n$-1\r\n");
        let mut b = vec![];
        Out::new(&mut b, Proto::Resp3).null();
        assert_eq!(b, b"_\r\n");
    }
}
