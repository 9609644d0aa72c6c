//! One cursor over a command's arguments. Handlers read their arguments in order through it;
//! every failure is Redis' exact reply error as data (`ERR syntax error` for a missing or
//! unexpected argument, `ERR value is not an integer or out of range`, `ERR value is not a
//! valid float`, ...). Option names match case-insensitively, as Redis' `strcasecmp` does.

use super::number::{f64_arg, i64_arg, parse_i64};
use crate::resp::{Args, ReplyError};

/// A read position in `Args`. Copying it is free; it never allocates.
#[derive(Clone, Copy)]
pub(crate) struct ArgCursor<'a> {
    args: Args<'a>,
    pos: usize,
}

impl<'a> ArgCursor<'a> {
    /// A cursor at argument `pos` (1 is the first argument after the command name).
    pub(crate) fn new(args: Args<'a>, pos: usize) -> Self {
        ArgCursor { args, pos }
    }

    /// Index of the next argument.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Arguments left to read.
    pub(crate) fn remaining(&self) -> usize {
        self.args.len().saturating_sub(self.pos)
    }

    pub(crate) fn is_done(&self) -> bool {
        self.remaining() == 0
    }

    /// The next argument without consuming it.
    pub(crate) fn peek(&self) -> Option<&'a [u8]> {
        (self.pos < self.args.len()).then(|| self.args.get(self.pos))
    }

    /// The next argument; a syntax error when there is none.
    #[allow(clippy::should_implement_trait)] // fallible with a reply error, not an iterator
    pub(crate) fn next(&mut self) -> Result<&'a [u8], ReplyError> {
        let a = self.peek().ok_or(ReplyError::Syntax)?;
        self.pos += 1;
        Ok(a)
    }

    /// The next argument as a 64-bit integer (Redis' `string2ll`).
    pub(crate) fn next_i64(&mut self) -> Result<i64, ReplyError> {
        i64_arg(self.next()?)
    }

    /// The next argument as an integer in `min..=max`; `err` otherwise, a non-integer included
    /// (Redis' `getRangeLongFromObjectOrReply` with its own message).
    pub(crate) fn next_i64_in(
        &mut self,
        min: i64,
        max: i64,
        err: ReplyError,
    ) -> Result<i64, ReplyError> {
        match parse_i64(self.next()?) {
            Some(v) if (min..=max).contains(&v) => Ok(v),
            _ => Err(err),
        }
    }

    /// The next argument as Redis reads a C int (`getIntFromObjectOrReply`): not an integer is
    /// `ReplyError::NotInteger`, an integer beyond the int range is `ReplyError::NotCInt`.
    pub(crate) fn next_c_int(&mut self) -> Result<i32, ReplyError> {
        let v = parse_i64(self.next()?).ok_or(ReplyError::NotInteger)?;
        i32::try_from(v).map_err(|_| ReplyError::NotCInt)
    }

    /// The next argument as a non-negative integer (Redis' `getPositiveLongFromObjectOrReply`:
    /// "ERR value is out of range, must be positive" for a negative value or a non-integer).
    pub(crate) fn next_u64(&mut self) -> Result<u64, ReplyError> {
        Ok(self.next_i64_in(0, i64::MAX, ReplyError::NotPositive)? as u64)
    }

    /// The next argument as a double (Redis' `getDoubleFromObject`: the whole argument, no NaN,
    /// no overflow).
    pub(crate) fn next_f64(&mut self) -> Result<f64, ReplyError> {
        f64_arg(self.next()?)
    }

    /// Consumes the next argument when it is `name` (any case); false otherwise.
    pub(crate) fn flag(&mut self, name: &str) -> bool {
        let hit = self
            .peek()
            .is_some_and(|a| a.eq_ignore_ascii_case(name.as_bytes()));
        self.pos += hit as usize;
        hit
    }

    /// When the next argument is `name` (any case), consumes it and returns the value after
    /// it (a syntax error when that is missing); `None` when the next argument is not `name`.
    pub(crate) fn opt_value(&mut self, name: &str) -> Result<Option<&'a [u8]>, ReplyError> {
        if !self.flag(name) {
            return Ok(None);
        }
        self.next().map(Some)
    }

    /// The arguments not read yet (and consumes them).
    pub(crate) fn rest(&mut self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let (args, from) = (self.args, self.pos);
        self.pos = self.args.len();
        (from..args.len()).map(move |i| args.get(i))
    }

    /// Succeeds when every argument was read; a syntax error otherwise.
    pub(crate) fn finish(&self) -> Result<(), ReplyError> {
        if self.is_done() {
            Ok(())
        } else {
            Err(ReplyError::Syntax)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::OwnedArgs;

    fn owned(v: &[&str]) -> OwnedArgs {
        let slices: Vec<&[u8]> = v.iter().map(|s| s.as_bytes()).collect();
        OwnedArgs::from_slices(&slices)
    }

    fn text(e: ReplyError) -> String {
        e.text()
    }

    #[test]
    fn reads_in_order_and_finishes() {
        // Guards the basic walk: positions, peeking, and finish() on a fully read command.
        let a = owned(&["SET", "k", "v"]);
        let mut c = ArgCursor::new(a.args(), 1);
        assert_eq!((c.pos(), c.remaining()), (1, 2));
        assert_eq!(c.peek(), Some(&b"k"[..]));
        assert_eq!(c.next(), Ok(&b"k"[..]));
        assert_eq!(c.next(), Ok(&b"v"[..]));
        assert!(c.is_done());
        assert_eq!(c.finish(), Ok(()));
        assert_eq!(c.next().map_err(text), Err("ERR syntax error".into()));
    }

    #[test]
    fn finish_refuses_leftovers() {
        // An unread argument is Redis' syntax error.
        let a = owned(&["GET", "k", "extra"]);
        let mut c = ArgCursor::new(a.args(), 1);
        c.next().unwrap();
        assert_eq!(c.finish().map_err(text), Err("ERR syntax error".into()));
    }

    #[test]
    fn integers_and_their_errors() {
        // string2ll rules and the exact texts for bad, out-of-range and negative values; the
        // ranged reads answer their own text for a non-integer too, as Redis does.
        let a = owned(&[
            "X",
            "12",
            "-3",
            "1.5",
            "007",
            "9223372036854775808",
            "-1",
            "abc",
            "5",
            "x",
            "5",
        ]);
        let mut c = ArgCursor::new(a.args(), 1);
        assert_eq!(c.next_i64(), Ok(12));
        assert_eq!(c.next_i64(), Ok(-3));
        let not_int = Err("ERR value is not an integer or out of range".to_string());
        assert_eq!(c.next_i64().map_err(text), not_int);
        assert_eq!(c.next_i64().map_err(text), not_int);
        assert_eq!(c.next_i64().map_err(text), not_int);
        let not_positive = Err("ERR value is out of range, must be positive".to_string());
        assert_eq!(c.next_u64().map_err(text), not_positive);
        assert_eq!(c.next_u64().map_err(text), not_positive);
        let count = Err("ERR count should be greater than 0".to_string());
        assert_eq!(
            c.next_i64_in(1, 4, ReplyError::CountNotPositive)
                .map_err(text),
            count
        );
        assert_eq!(
            c.next_i64_in(1, 4, ReplyError::CountNotPositive)
                .map_err(text),
            count
        );
        assert_eq!(c.next_u64(), Ok(5));
        assert_eq!(c.next_i64().map_err(text), Err("ERR syntax error".into()));
    }

    #[test]
    fn floats_and_their_errors() {
        // getDoubleFromObject: whole argument, inf allowed, NaN/space/overflow refused.
        let a = owned(&["X", "1.5", "-inf", "0x10", "nan", " 1", "1e400", "1x"]);
        let mut c = ArgCursor::new(a.args(), 1);
        assert_eq!(c.next_f64(), Ok(1.5));
        assert_eq!(c.next_f64(), Ok(f64::NEG_INFINITY));
        assert_eq!(c.next_f64(), Ok(16.0));
        for _ in 0..4 {
            assert_eq!(
                c.next_f64().map_err(text),
                Err("ERR value is not a valid float".into())
            );
        }
    }

    #[test]
    fn flags_and_option_values() {
        // Case-insensitive tokens consume only on a match; a token without its value is a
        // syntax error.
        let a = owned(&["SET", "nx", "Ex", "10", "GET", "px"]);
        let mut c = ArgCursor::new(a.args(), 1);
        assert!(!c.flag("XX"));
        assert!(c.flag("NX"));
        assert_eq!(c.opt_value("PX"), Ok(None));
        assert_eq!(c.opt_value("EX"), Ok(Some(&b"10"[..])));
        assert!(c.flag("get"));
        assert_eq!(
            c.opt_value("PX").map_err(text),
            Err("ERR syntax error".into())
        );
    }

    #[test]
    fn rest_consumes_everything() {
        // rest() hands over the unread arguments and leaves the cursor finished.
        let a = owned(&["SADD", "k", "a", "b"]);
        let mut c = ArgCursor::new(a.args(), 2);
        let v: Vec<&[u8]> = c.rest().collect();
        assert_eq!(v, vec![&b"a"[..], &b"b"[..]]);
        assert_eq!(c.finish(), Ok(()));
    }
}
