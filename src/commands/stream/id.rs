//! Stream IDs as the stream commands read and write them: Redis 7.0's parsing rules (`-` and
//! `+`, a missing sequence, `ms-*` for XADD, `(` exclusive interval ends, the C `strtoull`
//! fallback of `string2ull`) with its exact error texts, and the ID as a bulk reply written
//! without allocating. Pure functions over bytes; no keyspace, no reply state beyond `Out`.

use crate::resp::{Out, ReplyError};
use crate::types::stream::StreamId;

/// Redis copies an ID argument into a 128-byte buffer: longer ones are invalid.
const ID_ARG_MAX_BYTES: usize = 127;

pub const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

pub fn invalid_id() -> ReplyError {
    ReplyError::other(INVALID_ID)
}

/// Redis' `string2ull`: a strict decimal integer first (negative values refused), else what
/// C's `strtoull` accepts for the whole string (leading white space, a sign, digits; a minus
/// sign negates modulo 2^64; overflow refused).
pub fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = crate::resp::parse::parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let mut i = s
        .iter()
        .take_while(|&&c| crate::commands::kit::number::is_c_space(c))
        .count();
    let mut neg = false;
    if let Some(&c) = s.get(i) {
        if c == b'+' || c == b'-' {
            neg = c == b'-';
            i += 1;
        }
    }
    let digits = &s[i..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// How an ID argument may be written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum IdForm {
    /// `-` and `+` allowed (range ends).
    Loose,
    /// Plain `ms[-seq]` only.
    Strict,
}

/// Redis' `streamGenericParseIDOrReply` without the `ms-*` form: `missing_seq` fills an
/// absent sequence part.
pub fn parse_id(b: &[u8], form: IdForm, missing_seq: u64) -> Result<StreamId, ReplyError> {
    match parse_id_seq(b, form, missing_seq, false)? {
        (id, true) => Ok(id),
        _ => Err(invalid_id()),
    }
}

/// The ID argument of XADD: strict, and `ms-*` allowed. Returns the ID and whether its
/// sequence was given (false for `ms-*`, whose sequence is chosen on insertion).
pub fn parse_xadd_id(b: &[u8]) -> Result<(StreamId, bool), ReplyError> {
    parse_id_seq(b, IdForm::Strict, 0, true)
}

fn parse_id_seq(
    b: &[u8],
    form: IdForm,
    missing_seq: u64,
    star_seq: bool,
) -> Result<(StreamId, bool), ReplyError> {
    if b.len() > ID_ARG_MAX_BYTES {
        return Err(invalid_id());
    }
    // Redis reads the argument as a C string: it ends at the first NUL byte.
    let b = b.split(|&c| c == 0).next().unwrap_or(b);
    if b.len() == 1 && form == IdForm::Loose {
        match b[0] {
            b'-' => return Ok((StreamId::MIN, true)),
            b'+' => return Ok((StreamId::MAX, true)),
            _ => {}
        }
    }
    let Some(dash) = b.iter().position(|&c| c == b'-') else {
        let ms = string2ull(b).ok_or_else(invalid_id)?;
        return Ok((
            StreamId {
                ms,
                seq: missing_seq,
            },
            true,
        ));
    };
    let ms = string2ull(&b[..dash]).ok_or_else(invalid_id)?;
    let rest = &b[dash + 1..];
    if star_seq && rest == b"*" {
        return Ok((StreamId { ms, seq: 0 }, false));
    }
    let seq = string2ull(rest).ok_or_else(invalid_id)?;
    Ok((StreamId { ms, seq }, true))
}

/// One end of an XRANGE/XPENDING/XAUTOCLAIM interval: `(id` is exclusive (strict ID after the
/// parenthesis), anything else a loose ID. Returns the ID and whether it was exclusive.
pub fn parse_interval(b: &[u8], missing_seq: u64) -> Result<(StreamId, bool), ReplyError> {
    if b.len() > 1 && b[0] == b'(' {
        return Ok((parse_id(&b[1..], IdForm::Strict, missing_seq)?, true));
    }
    Ok((parse_id(b, IdForm::Loose, missing_seq)?, false))
}

/// The start of an interval: exclusive starts move one ID up.
pub fn interval_start(b: &[u8]) -> Result<StreamId, ReplyError> {
    match parse_interval(b, 0)? {
        (id, false) => Ok(id),
        (id, true) => id
            .next()
            .ok_or_else(|| ReplyError::other("ERR invalid start ID for the interval")),
    }
}

/// The end of an interval: a missing sequence is the largest; exclusive ends move one ID down.
pub fn interval_end(b: &[u8]) -> Result<StreamId, ReplyError> {
    match parse_interval(b, u64::MAX)? {
        (id, false) => Ok(id),
        (id, true) => id
            .prev()
            .ok_or_else(|| ReplyError::other("ERR invalid end ID for the interval")),
    }
}

/// "ms-seq" in a stack buffer (at most 20 + 1 + 20 bytes).
pub struct IdText {
    buf: [u8; 41],
    len: usize,
}

impl IdText {
    pub fn new(id: StreamId) -> IdText {
        let mut t = IdText {
            buf: [0; 41],
            len: 0,
        };
        t.push_u64(id.ms);
        t.buf[t.len] = b'-';
        t.len += 1;
        t.push_u64(id.seq);
        t
    }
    fn push_u64(&mut self, v: u64) {
        let mut d = [0u8; 20];
        let digits = decimal(v, &mut d);
        self.buf[self.len..self.len + digits.len()].copy_from_slice(digits);
        self.len += digits.len();
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// `v` in decimal, written into `buf`.
pub fn decimal(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[at..]
}

/// An ID as a bulk string reply.
pub fn write_id(out: &mut Out<'_>, id: StreamId) {
    out.bulk(IdText::new(id).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    #[test]
    fn ids_parse_as_redis_reads_them() {
        let p = |s: &str| parse_id(s.as_bytes(), IdForm::Loose, 0).ok();
        assert_eq!(p("5"), Some(id(5, 0)));
        assert_eq!(p("5-3"), Some(id(5, 3)));
        assert_eq!(p("+5"), Some(id(5, 0)));
        assert_eq!(p(" 5"), Some(id(5, 0)));
        assert_eq!(p("00005-3"), Some(id(5, 3)));
        assert_eq!(p("1-+5"), Some(id(1, 5)));
        assert_eq!(p("-"), Some(StreamId::MIN));
        assert_eq!(p("+"), Some(StreamId::MAX));
        assert_eq!(
            p("18446744073709551615-18446744073709551615"),
            Some(StreamId::MAX)
        );
        for bad in [
            "-5",
            "5-",
            "1--5",
            "18446744073709551616",
            "5-*",
            "*",
            "",
            "a",
            "(5",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
        assert!(parse_id(b"-", IdForm::Strict, 0).is_err());
        assert!(parse_id(&[b'1'; 128], IdForm::Loose, 0).is_err());
    }

    #[test]
    fn xadd_ids_allow_a_star_sequence() {
        assert_eq!(parse_xadd_id(b"5-*").ok(), Some((id(5, 0), false)));
        assert_eq!(parse_xadd_id(b"5-1").ok(), Some((id(5, 1), true)));
        assert_eq!(parse_xadd_id(b"5").ok(), Some((id(5, 0), true)));
        assert!(parse_xadd_id(b"*-1").is_err());
    }

    #[test]
    fn intervals_move_exclusive_ends() {
        assert_eq!(interval_start(b"(5-1").ok(), Some(id(5, 2)));
        assert_eq!(interval_end(b"(5-0").ok(), Some(id(4, u64::MAX)));
        assert_eq!(interval_end(b"5").ok(), Some(id(5, u64::MAX)));
        assert!(interval_start(b"(18446744073709551615-18446744073709551615").is_err());
        assert!(interval_end(b"(0-0").is_err());
        assert!(interval_start(b"(-").is_err());
        assert_eq!(interval_start(b"-").ok(), Some(StreamId::MIN));
    }

    #[test]
    fn id_text_is_ms_dash_seq() {
        assert_eq!(IdText::new(id(0, 0)).as_bytes(), b"0-0");
        assert_eq!(
            IdText::new(StreamId::MAX).as_bytes(),
            b"18446744073709551615-18446744073709551615"
        );
    }
}
