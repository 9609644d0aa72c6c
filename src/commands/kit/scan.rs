//! The options and reply shape shared by the SCAN family (SCAN, SSCAN, HSCAN, ZSCAN): MATCH,
//! COUNT (capped by the caller's limit) and, for SCAN, TYPE; the `[cursor, [items]]` reply.

use super::ArgCursor;
use crate::resp::{Out, ReplyError};

/// MATCH/COUNT/TYPE as read from the arguments after the cursor.
pub(crate) struct ScanArgs<'a> {
    pub count: usize,
    /// None for no pattern and for `*`, which matches everything.
    pub pattern: Option<&'a [u8]>,
    pub type_name: Option<&'a [u8]>,
}

impl<'a> ScanArgs<'a> {
    /// Reads option pairs to the end: COUNT n (an integer, at least 1, capped at `count_max`),
    /// MATCH pattern, and TYPE name when `with_type`. Every option needs its value; anything
    /// else is a syntax error.
    pub(crate) fn parse(
        mut cur: ArgCursor<'a>,
        count_max: usize,
        with_type: bool,
    ) -> Result<Self, ReplyError> {
        let mut o = ScanArgs {
            count: 10,
            pattern: None,
            type_name: None,
        };
        while !cur.is_done() {
            let (opt, value) = (cur.next()?, cur.next()?);
            if opt.eq_ignore_ascii_case(b"count") {
                let n = super::number::i64_arg(value)?;
                if n < 1 {
                    return Err(ReplyError::Syntax);
                }
                o.count = (n as u64).min(count_max as u64) as usize;
            } else if opt.eq_ignore_ascii_case(b"match") {
                o.pattern = (value != b"*").then_some(value);
            } else if with_type && opt.eq_ignore_ascii_case(b"type") {
                o.type_name = Some(value);
            } else {
                return Err(ReplyError::Syntax);
            }
        }
        Ok(o)
    }

    /// True when `item` passes the MATCH filter.
    pub(crate) fn keeps(&self, item: &[u8]) -> bool {
        self.pattern
            .is_none_or(|p| crate::glob::matches(p, item, false))
    }
}

/// The empty SCAN reply (cursor 0, no elements).
pub(crate) fn empty_scan(out: &mut Out<'_>) {
    out.array(2);
    out.bulk(b"0");
    out.array(0);
}

/// Writes a cursor as SCAN replies carry it (a bulk string of its decimal form).
pub(crate) fn write_cursor(out: &mut Out<'_>, cursor: u64) {
    out.bulk(cursor.to_string().as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::OwnedArgs;

    fn parse(v: &[&str], with_type: bool) -> Result<(usize, Option<Vec<u8>>, bool), String> {
        let slices: Vec<&[u8]> = v.iter().map(|s| s.as_bytes()).collect();
        let a = OwnedArgs::from_slices(&slices);
        ScanArgs::parse(ArgCursor::new(a.args(), 0), 100, with_type)
            .map(|o| {
                (
                    o.count,
                    o.pattern.map(<[u8]>::to_vec),
                    o.type_name.is_some(),
                )
            })
            .map_err(|e| e.text())
    }

    #[test]
    fn options_and_their_errors() {
        // Guards COUNT's checks and cap, MATCH's "*" shortcut, TYPE only where allowed.
        assert_eq!(parse(&[], false), Ok((10, None, false)));
        assert_eq!(
            parse(&["match", "a*", "COUNT", "1000"], false),
            Ok((100, Some(b"a*".to_vec()), false))
        );
        assert_eq!(parse(&["MATCH", "*"], false), Ok((10, None, false)));
        assert_eq!(parse(&["type", "set"], true), Ok((10, None, true)));
        let syntax = Err("ERR syntax error".to_string());
        assert_eq!(parse(&["type", "set"], false), syntax);
        assert_eq!(parse(&["count", "0"], false), syntax);
        assert_eq!(parse(&["count"], false), syntax);
        assert_eq!(
            parse(&["count", "x"], false),
            Err("ERR value is not an integer or out of range".into())
        );
    }

    #[test]
    fn cursors_print_in_decimal() {
        // The whole u64 range, beyond i64 included.
        for c in [0u64, 7, 1234567890, u64::MAX] {
            let mut buf = Vec::new();
            write_cursor(&mut Out::new(&mut buf, crate::resp::Proto::Resp2), c);
            let text = c.to_string();
            assert_eq!(buf, format!("${}\r\n{text}\r\n", text.len()).into_bytes());
        }
    }
}
