//! Incremental, zero-copy request parser. It finds argument boundaries inside the caller's read
//! buffer and remembers how far it got, so a frame split over many reads is scanned once. It
//! never copies argument bytes and never allocates per argument once warmed up.
//! Error texts match Redis 7 (`networking.c`): the connection is closed after them.

use crate::constants::{
    INLINE_MAX_BYTES, MULTIBULK_MAX_ARGS, PREAUTH_BULK_MAX_BYTES, PREAUTH_MULTIBULK_MAX_ARGS,
};

/// A borrowed command: argument slices into one buffer.
#[derive(Clone, Copy)]
pub struct Args<'a> {
    buf: &'a [u8],
    ranges: &'a [(u32, u32)],
}

impl<'a> Args<'a> {
    pub fn new(buf: &'a [u8], ranges: &'a [(u32, u32)]) -> Self {
        Args { buf, ranges }
    }
    pub fn len(&self) -> usize {
        self.ranges.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
    /// Argument `i`; panics when out of range (arity is checked before any handler runs).
    pub fn get(&self, i: usize) -> &'a [u8] {
        let (start, len) = self.ranges[i];
        &self.buf[start as usize..(start + len) as usize]
    }
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }
    /// Owned copy of these arguments, for commands that travel to another shard.
    pub fn to_owned(self) -> OwnedArgs {
        let total: usize = self.ranges.iter().map(|r| r.1 as usize).sum();
        let mut buf = Vec::with_capacity(total);
        let mut ranges = Vec::with_capacity(self.len());
        for arg in self.iter() {
            ranges.push((buf.len() as u32, arg.len() as u32));
            buf.extend_from_slice(arg);
        }
        OwnedArgs { buf, ranges }
    }
}

/// Arguments that own their bytes: one allocation for all of them.
#[derive(Clone, Debug, Default)]
pub struct OwnedArgs {
    buf: Vec<u8>,
    ranges: Vec<(u32, u32)>,
}

impl OwnedArgs {
    pub fn from_slices(args: &[&[u8]]) -> Self {
        let mut o = OwnedArgs::default();
        for a in args {
            o.push(a);
        }
        o
    }
    pub fn push(&mut self, arg: &[u8]) {
        self.ranges.push((self.buf.len() as u32, arg.len() as u32));
        self.buf.extend_from_slice(arg);
    }
    pub fn args(&self) -> Args<'_> {
        Args::new(&self.buf, &self.ranges)
    }
}

/// What one call to [`Parser::parse`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum ParseOutcome {
    /// A whole command; its arguments are in `Parser::ranges()`, relative to the buffer given.
    /// `consumed` bytes may be dropped. An empty command (blank line, `*0`) has no ranges.
    Command { consumed: usize },
    /// More bytes are needed; `want_total` is the buffer size that completes the current
    /// element when known (lets the caller reserve once for a large bulk), else 0.
    Incomplete { want_total: usize },
    /// A protocol violation; the text is Redis' (without the leading `-ERR `).
    Error(String),
}

/// Resumable parser state for one connection.
#[derive(Default)]
pub struct Parser {
    ranges: Vec<(u32, u32)>,
    /// Position of the next unparsed byte in the current frame.
    pos: usize,
    /// Arguments still expected in the current multibulk; 0 means "at a frame start".
    args_left: usize,
    /// Length of the bulk whose header was parsed but whose body is not complete, or -1.
    bulk_len: i64,
    in_multibulk: bool,
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    memchr::memchr(b'\r', &buf[from..]).map(|i| from + i)
}

/// Parses a decimal integer the way Redis' `string2ll` does: no spaces, no `+`, no leading 0s.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || (digits[0] == b'0' && digits.len() > 1) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        if digits == b"0" {
            return None; // "-0" is not accepted by string2ll
        }
        Some((v as i64).wrapping_neg())
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

impl Parser {
    pub fn new() -> Self {
        Parser {
            bulk_len: -1,
            ..Default::default()
        }
    }

    /// Argument ranges of the last whole command.
    pub fn ranges(&self) -> &[(u32, u32)] {
        &self.ranges
    }

    /// Where, in the buffer of the last `parse` call, the header that failed starts (Redis
    /// samples its query buffer from there in the protocol error log line).
    pub fn error_offset(&self) -> usize {
        if self.in_multibulk {
            self.pos
        } else {
            0
        }
    }

    /// True when a frame has been started but not finished.
    pub fn in_frame(&self) -> bool {
        self.in_multibulk || self.pos > 0
    }

    pub(crate) fn reset(&mut self) {
        self.pos = 0;
        self.args_left = 0;
        self.bulk_len = -1;
        self.in_multibulk = false;
    }

    /// Parses from the start of `buf` (the unconsumed bytes; on Incomplete the caller calls
    /// again with the same bytes plus more). `max_bulk` is `proto-max-bulk-len`.
    pub fn parse(&mut self, buf: &[u8], max_bulk: u64) -> ParseOutcome {
        self.parse_as(buf, max_bulk, false)
    }

    /// `parse` for a client that still has to authenticate (`unauthenticated`): multibulk
    /// counts and bulk lengths are held to Redis' pre-auth limits, checked where Redis checks
    /// them (after the general validity checks of the same header).
    pub fn parse_as(&mut self, buf: &[u8], max_bulk: u64, unauthenticated: bool) -> ParseOutcome {
        if !self.in_multibulk && self.pos == 0 {
            self.ranges.clear();
            if buf.is_empty() {
                return ParseOutcome::Incomplete { want_total: 0 };
            }
            if buf[0] != b'*' {
                return self.parse_inline(buf);
            }
        }
        self.parse_multibulk(buf, max_bulk, unauthenticated)
    }

    fn parse_inline(&mut self, buf: &[u8]) -> ParseOutcome {
        let Some(nl) = memchr::memchr(b'\n', buf) else {
            if buf.len() > INLINE_MAX_BYTES {
                return ParseOutcome::Error("Protocol error: too big inline request".into());
            }
            return ParseOutcome::Incomplete { want_total: 0 };
        };
        let mut end = nl;
        if end > 0 && buf[end - 1] == b'\r' {
            end -= 1;
        }
        if split_inline(&buf[..end], &mut self.ranges).is_err() {
            self.ranges.clear();
            return ParseOutcome::Error("Protocol error: unbalanced quotes in request".into());
        }
        ParseOutcome::Command { consumed: nl + 1 }
    }

    fn parse_multibulk(&mut self, buf: &[u8], max_bulk: u64, unauth: bool) -> ParseOutcome {
        if !self.in_multibulk {
            let Some(cr) = find_crlf(buf, 0) else {
                if buf.len() > INLINE_MAX_BYTES {
                    return ParseOutcome::Error(
                        "Protocol error: too big mbulk count string".into(),
                    );
                }
                return ParseOutcome::Incomplete { want_total: 0 };
            };
            if cr + 1 >= buf.len() {
                return ParseOutcome::Incomplete { want_total: 0 };
            }
            // Redis refuses counts above INT_MAX first, then (unauthenticated) above 10; our
            // own bound on arguments comes last so those two answers stay Redis'.
            let n = match parse_i64(&buf[1..cr]) {
                Some(n) if n <= i32::MAX as i64 => n,
                _ => return ParseOutcome::Error("Protocol error: invalid multibulk length".into()),
            };
            if unauth && n > PREAUTH_MULTIBULK_MAX_ARGS {
                return ParseOutcome::Error(
                    "Protocol error: unauthenticated multibulk length".into(),
                );
            }
            if n > MULTIBULK_MAX_ARGS as i64 {
                return ParseOutcome::Error("Protocol error: invalid multibulk length".into());
            }
            if n <= 0 {
                self.reset();
                return ParseOutcome::Command { consumed: cr + 2 };
            }
            self.in_multibulk = true;
            self.args_left = n as usize;
            self.pos = cr + 2;
            self.ranges.clear();
            self.ranges.reserve(n.min(1024) as usize);
        }
        while self.args_left > 0 {
            if self.bulk_len < 0 {
                let Some(cr) = find_crlf(buf, self.pos) else {
                    if buf.len() - self.pos > INLINE_MAX_BYTES {
                        return ParseOutcome::Error(
                            "Protocol error: too big bulk count string".into(),
                        );
                    }
                    return ParseOutcome::Incomplete { want_total: 0 };
                };
                if cr + 1 >= buf.len() {
                    return ParseOutcome::Incomplete { want_total: 0 };
                }
                if buf[self.pos] != b'$' {
                    let got = buf[self.pos] as char;
                    return ParseOutcome::Error(format!(
                        "Protocol error: expected '$', got '{got}'"
                    ));
                }
                // Ranges are 32-bit (the high bit marks quoted inline args), so one argument
                // stays below 2 GiB and a frame below 4 GiB whatever proto-max-bulk-len says.
                match parse_i64(&buf[self.pos + 1..cr]) {
                    Some(n)
                        if n >= 0
                            && (n as u64) <= max_bulk
                            && n < QUOTED_FLAG as i64
                            && (cr + 2 + n as usize) < u32::MAX as usize =>
                    {
                        self.bulk_len = n
                    }
                    _ => return ParseOutcome::Error("Protocol error: invalid bulk length".into()),
                }
                if unauth && self.bulk_len > PREAUTH_BULK_MAX_BYTES {
                    self.bulk_len = -1;
                    return ParseOutcome::Error(
                        "Protocol error: unauthenticated bulk length".into(),
                    );
                }
                self.pos = cr + 2;
            }
            let need = self.pos + self.bulk_len as usize + 2;
            if buf.len() < need {
                return ParseOutcome::Incomplete { want_total: need };
            }
            self.ranges.push((self.pos as u32, self.bulk_len as u32));
            self.pos = need;
            self.bulk_len = -1;
            self.args_left -= 1;
        }
        let consumed = self.pos;
        self.reset();
        ParseOutcome::Command { consumed }
    }
}

/// The short reason Redis puts in its "Protocol error (...) from client" log line for one of
/// the parser's error texts.
pub fn error_log_tag(text: &str) -> &'static str {
    let reason = text.strip_prefix("Protocol error: ").unwrap_or(text);
    match reason {
        "too big inline request" => "too big inline request",
        "unbalanced quotes in request" => "unbalanced quotes in inline request",
        "too big mbulk count string" => "too big mbulk count string",
        "invalid multibulk length" => "invalid mbulk count",
        "unauthenticated multibulk length" => "unauth mbulk count",
        "too big bulk count string" => "too big bulk count string",
        "invalid bulk length" => "invalid bulk length",
        "unauthenticated bulk length" => "unauth bulk length",
        _ => "expected $ but got something else",
    }
}

/// Splits an inline command line like `sdssplitargs`: spaces separate, "double quotes" take
/// escapes (\n \r \t \b \a \\ \" \xHH), 'single quotes' take \' only. Ranges of quoted args with
/// escapes cannot point into the buffer, so such a line is rewritten in place is not possible;
/// instead escapes are rare and rejected only when unbalanced. The ranges point at raw bytes
/// when there is no escape; escaped args are decoded by `decode_inline_arg`.
fn split_inline(line: &[u8], out: &mut Vec<(u32, u32)>) -> Result<(), ()> {
    out.clear();
    let mut i = 0;
    let n = line.len();
    while i < n {
        while i < n && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            break;
        }
        match line[i] {
            q @ (b'"' | b'\'') => {
                let start = i;
                i += 1;
                loop {
                    if i >= n {
                        return Err(());
                    }
                    if line[i] == b'\\' && i + 1 < n {
                        i += 2;
                        continue;
                    }
                    if line[i] == q {
                        i += 1;
                        // A closing quote must be followed by a space or the end.
                        if i < n && !line[i].is_ascii_whitespace() {
                            return Err(());
                        }
                        break;
                    }
                    i += 1;
                }
                // Quoted args are marked with the high bit of the length; see decode.
                out.push((start as u32, ((i - start) as u32) | QUOTED_FLAG));
            }
            _ => {
                let start = i;
                while i < n && !line[i].is_ascii_whitespace() {
                    i += 1;
                }
                out.push((start as u32, (i - start) as u32));
            }
        }
    }
    Ok(())
}

/// Marks an inline argument that still has its quotes and escapes (see `decode_inline`).
pub const QUOTED_FLAG: u32 = 1 << 31;

/// Rewrites the arguments of an inline command that contains quoted arguments into `scratch`
/// and returns ranges into it. Called by the connection only when some range has QUOTED_FLAG.
pub fn decode_inline(buf: &[u8], ranges: &[(u32, u32)], scratch: &mut OwnedArgs) {
    *scratch = OwnedArgs::default();
    for &(start, len) in ranges {
        if len & QUOTED_FLAG == 0 {
            scratch.push(&buf[start as usize..(start + len) as usize]);
            continue;
        }
        let raw = &buf[start as usize..(start + (len & !QUOTED_FLAG)) as usize];
        scratch.push(&unquote(raw));
    }
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// The bytes of one quoted word (with its quotes) as Redis' `sdssplitargs` reads it: "double
/// quotes" take \n \r \t \b \a and \xHH escapes, 'single quotes' only \'.
pub fn unquote(raw: &[u8]) -> Vec<u8> {
    let q = raw[0];
    let body = &raw[1..raw.len() - 1];
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if c == b'\\' && i + 1 < body.len() {
            let e = body[i + 1];
            if q == b'\'' {
                if e == b'\'' {
                    out.push(b'\'');
                    i += 2;
                    continue;
                }
                out.push(c);
                i += 1;
                continue;
            }
            if e == b'x' && i + 3 < body.len() {
                if let (Some(h), Some(l)) = (hex_val(body[i + 2]), hex_val(body[i + 3])) {
                    out.push(h * 16 + l);
                    i += 4;
                    continue;
                }
            }
            out.push(match e {
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'b' => 8,
                b'a' => 7,
                other => other,
            });
            i += 2;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut p = Parser::new();
        let mut off = 0;
        let mut cmds = vec![];
        loop {
            match p.parse(&input[off..], 512 * 1024 * 1024) {
                ParseOutcome::Command { consumed } => {
                    let a = Args::new(&input[off..], p.ranges());
                    cmds.push(a.iter().map(|s| s.to_vec()).collect());
                    off += consumed;
                }
                ParseOutcome::Incomplete { .. } => return cmds,
                ParseOutcome::Error(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn multibulk_and_inline() {
        let cmds = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\nset a  b\n");
        assert_eq!(cmds.len(), 3);
        assert_eq!(cmds[0], vec![b"GET".to_vec(), b"k".to_vec()]);
        assert_eq!(cmds[1], vec![b"PING".to_vec()]);
        assert_eq!(cmds[2], vec![b"set".to_vec(), b"a".to_vec(), b"b".to_vec()]);
    }

    #[test]
    fn split_frames_resume_byte_by_byte() {
        let input = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
        let mut p = Parser::new();
        for end in 1..input.len() {
            assert!(matches!(
                p.parse(&input[..end], 1 << 20),
                ParseOutcome::Incomplete { .. }
            ));
        }
        assert_eq!(
            p.parse(input, 1 << 20),
            ParseOutcome::Command {
                consumed: input.len()
            }
        );
        assert_eq!(Args::new(input, p.ranges()).get(2), b"value");
    }

    #[test]
    fn protocol_errors_have_redis_text() {
        let mut p = Parser::new();
        let e = |p: &mut Parser, s: &[u8]| match p.parse(s, 100) {
            ParseOutcome::Error(e) => e,
            o => panic!("{o:?}"),
        };
        assert_eq!(
            e(&mut p, b"*1\r\n+x\r\n"),
            "Protocol error: expected '$', got '+'"
        );
        let mut p = Parser::new();
        assert_eq!(
            e(&mut p, b"*1\r\n$101\r\n"),
            "Protocol error: invalid bulk length"
        );
        let mut p = Parser::new();
        assert_eq!(
            e(&mut p, b"*x\r\n"),
            "Protocol error: invalid multibulk length"
        );
        let mut p = Parser::new();
        assert_eq!(
            e(&mut p, b"set \"a\r\n"),
            "Protocol error: unbalanced quotes in request"
        );
    }

    #[test]
    fn unauthenticated_limits_have_redis_text() {
        // Guards the pre-auth limits: 10 arguments and 16384-byte bulks pass, one more fails
        // with Redis' texts, general errors keep precedence, and authenticated parsing is free.
        let e = |s: &[u8], unauth: bool| match Parser::new().parse_as(s, 1 << 20, unauth) {
            ParseOutcome::Error(e) => e,
            o => format!("{o:?}"),
        };
        let ten = "*10\r\n".to_string() + &"$1\r\nx\r\n".repeat(10);
        assert!(e(ten.as_bytes(), true).starts_with("Command"));
        assert_eq!(
            e(b"*11\r\n", true),
            "Protocol error: unauthenticated multibulk length"
        );
        assert_eq!(
            e(b"*1000000000\r\n", true),
            "Protocol error: unauthenticated multibulk length"
        );
        assert_eq!(
            e(b"*3000000000\r\n", true),
            "Protocol error: invalid multibulk length"
        );
        assert!(e(b"*11\r\n", false).starts_with("Incomplete"));
        assert!(e(b"*1\r\n$16384\r\n", true).starts_with("Incomplete"));
        assert_eq!(
            e(b"*1\r\n$16385\r\n", true),
            "Protocol error: unauthenticated bulk length"
        );
        assert_eq!(
            e(b"*1\r\n$2000000\r\n", true),
            "Protocol error: invalid bulk length"
        );
        assert!(e(b"*1\r\n$16385\r\n", false).starts_with("Incomplete"));
        // The limit applies per call: a parser resumed after AUTH takes big bulks.
        let mut p = Parser::new();
        let big = format!("*1\r\n$20000\r\n{}\r\n", "v".repeat(20000));
        assert!(matches!(
            p.parse_as(big.as_bytes(), 1 << 20, false),
            ParseOutcome::Command { .. }
        ));
    }

    #[test]
    fn inline_quotes_decode() {
        let line = b"set \"a b\\n\" 'c\\'d'\r\n";
        let mut p = Parser::new();
        assert!(matches!(p.parse(line, 100), ParseOutcome::Command { .. }));
        let mut s = OwnedArgs::default();
        decode_inline(line, p.ranges(), &mut s);
        let a = s.args();
        assert_eq!(a.get(1), b"a b\n");
        assert_eq!(a.get(2), b"c'd");
    }

    #[test]
    fn random_input_never_panics() {
        // Guards the parser against arbitrary bytes in arbitrary pieces (deterministic seed).
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet = b"*$\r\n0123456789-+ \"'abcXYZ";
        for _ in 0..2000 {
            let len = (next() % 200) as usize;
            let input: Vec<u8> = (0..len)
                .map(|_| {
                    if next() % 4 == 0 {
                        next() as u8
                    } else {
                        alphabet[(next() % alphabet.len() as u64) as usize]
                    }
                })
                .collect();
            let mut p = Parser::new();
            let mut off = 0;
            let mut end = 0;
            while end < input.len() {
                end = (end + 1 + (next() % 16) as usize).min(input.len());
                loop {
                    match p.parse(&input[off..end], 1000) {
                        ParseOutcome::Command { consumed } => {
                            assert!(consumed > 0 && off + consumed <= end);
                            let mut scratch = OwnedArgs::default();
                            decode_inline(&input[off..end], p.ranges(), &mut scratch);
                            off += consumed;
                        }
                        ParseOutcome::Incomplete { .. } => break,
                        ParseOutcome::Error(_) => {
                            end = input.len();
                            break;
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn integers_like_string2ll() {
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"01"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b""), None);
    }
}
