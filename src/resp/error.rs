//! Every reply error slotd sends, as data. The exact Redis 7 texts live here and nowhere else.

use super::write::push_int;

/// Two errors are equal when they send the same text: a named variant equals the `Other` that
/// spells its text out.
#[derive(Clone, Debug)]
pub enum ReplyError {
    WrongType,
    Syntax,
    NotInteger,
    NotFloat,
    Overflow,
    OutOfRange,
    NoSuchKey,
    /// `wrong number of arguments for '<cmd>' command` (name as the user typed it, lowercase).
    Arity(String),
    /// `unknown command '<name>', with args beginning with: '<a>' '<b>' `
    UnknownCommand {
        name: String,
        args: Vec<String>,
    },
    /// `unknown subcommand '<sub>'. Try <CMD> HELP.`
    UnknownSubcommand {
        cmd: String,
        sub: String,
    },
    InvalidExpire(String),
    ExpireNotPositive(String),
    Moved {
        slot: u16,
        addr: String,
    },
    Ask {
        slot: u16,
        addr: String,
    },
    CrossSlot,
    TryAgain,
    ClusterDownUnbound,
    ClusterDownState,
    ClusterDisabled,
    ReadOnly,
    NoAuth,
    /// DEBUG refused by `enable-debug-command`.
    DebugNotAllowed,
    WrongPass,
    DbIndexOutOfRange,
    StringTooLong,
    /// A blocking timeout below zero.
    TimeoutNegative,
    /// A blocking timeout that is not a number.
    TimeoutNotFloat,
    /// A count or size past what Redis (or slotd) accepts, no bounds given.
    ValueOutOfRange,
    /// `getPositiveLongFromObjectOrReply` refusing a negative value.
    NotPositive,
    /// A random-member count of i64::MIN, whose absolute value does not fit.
    /// An integer argument Redis reads as a C int (SELECT, COPY ... DB) beyond its range.
    NotCInt,
    CountNotAbsolute,
    NumkeysNotPositive,
    CountNotPositive,
    LimitNegative,
    InvalidCursor,
    /// An INCRBYFLOAT/HINCRBYFLOAT result that is not finite.
    IncrNanOrInfinity,
    InvalidSlot,
    TargetNotMaster,
    /// A free-form error; the text includes its code, e.g. `ERR value is ...`.
    Other(String),
    /// A free-form error as bytes, code included: a script's error text, which Redis passes on
    /// byte for byte (it need not be UTF-8).
    Raw(Vec<u8>),
    /// `unknown subcommand or wrong number of arguments for '<sub>'. Try <CMD> HELP.` (`sub`
    /// as the user typed it, sanitized).
    SubcommandOrArity {
        cmd: &'static str,
        sub: String,
    },
    /// `ERR Unknown node <id>` (the id as typed, sanitized).
    UnknownNode(String),
    /// MIGRATE's socket failure `IOERR error or timeout <writing|reading> to target instance`.
    MigrateIo(&'static str),
    /// `CONFIG SET failed (possibly related to argument '<arg>') - <why>` (`arg` as typed).
    ConfigSetFailed {
        arg: String,
        why: String,
    },
}

impl PartialEq for ReplyError {
    fn eq(&self, other: &Self) -> bool {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        self.write_text(&mut a);
        other.write_text(&mut b);
        a == b
    }
}

impl Eq for ReplyError {}

impl ReplyError {
    pub fn other(s: impl Into<String>) -> Self {
        ReplyError::Other(s.into())
    }

    /// Writes the error text without the leading `-` and trailing CRLF.
    pub fn write_text(&self, buf: &mut Vec<u8>) {
        use ReplyError::*;
        let s: &str = match self {
            WrongType => "WRONGTYPE Operation against a key holding the wrong kind of value",
            Syntax => "ERR syntax error",
            NotInteger => "ERR value is not an integer or out of range",
            NotFloat => "ERR value is not a valid float",
            Overflow => "ERR increment or decrement would overflow",
            OutOfRange => "ERR index out of range",
            NoSuchKey => "ERR no such key",
            CrossSlot => "CROSSSLOT Keys in request don't hash to the same slot",
            TryAgain => "TRYAGAIN Multiple keys request during rehashing of slot",
            ClusterDownUnbound => "CLUSTERDOWN Hash slot not served",
            ClusterDownState => "CLUSTERDOWN The cluster is down",
            ClusterDisabled => "ERR This instance has cluster support disabled",
            ReadOnly => "READONLY You can't write against a read only replica.",
            NoAuth => "NOAUTH Authentication required.",
            DebugNotAllowed => {
                "ERR DEBUG command not allowed. If the enable-debug-command option is set to \
                 \"local\", you can run it from a local connection, otherwise you need to set \
                 this option in the configuration file, and then restart the server."
            }
            WrongPass => "WRONGPASS invalid username-password pair or user is disabled.",
            DbIndexOutOfRange => "ERR DB index is out of range",
            StringTooLong => "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
            TimeoutNegative => "ERR timeout is negative",
            TimeoutNotFloat => "ERR timeout is not a float or out of range",
            ValueOutOfRange => "ERR value is out of range",
            NotPositive => "ERR value is out of range, must be positive",
            CountNotAbsolute => {
                "ERR value is out of range, value must between -9223372036854775807 and \
                 9223372036854775807"
            }
            NotCInt => "ERR value is out of range, value must between -2147483648 and 2147483647",
            NumkeysNotPositive => "ERR numkeys should be greater than 0",
            CountNotPositive => "ERR count should be greater than 0",
            LimitNegative => "ERR LIMIT can't be negative",
            InvalidCursor => "ERR invalid cursor",
            IncrNanOrInfinity => "ERR increment would produce NaN or Infinity",
            InvalidSlot => "ERR Invalid or out of range slot",
            TargetNotMaster => "ERR Target node is not a master",
            Arity(cmd) => {
                buf.extend_from_slice(b"ERR wrong number of arguments for '");
                buf.extend_from_slice(cmd.as_bytes());
                buf.extend_from_slice(b"' command");
                return;
            }
            UnknownCommand { name, args } => {
                buf.extend_from_slice(b"ERR unknown command '");
                buf.extend_from_slice(name.as_bytes());
                buf.extend_from_slice(b"', with args beginning with: ");
                for a in args {
                    buf.push(b'\'');
                    buf.extend_from_slice(a.as_bytes());
                    buf.extend_from_slice(b"' ");
                }
                return;
            }
            UnknownSubcommand { cmd, sub } => {
                let t = format!("ERR unknown subcommand '{sub}'. Try {cmd} HELP.");
                buf.extend_from_slice(t.as_bytes());
                return;
            }
            InvalidExpire(cmd) => {
                let t = format!("ERR invalid expire time in '{cmd}' command");
                buf.extend_from_slice(t.as_bytes());
                return;
            }
            ExpireNotPositive(_) => "ERR invalid expire time",
            SubcommandOrArity { cmd, sub } => {
                let t = format!(
                    "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {cmd} \
                     HELP."
                );
                buf.extend_from_slice(t.as_bytes());
                return;
            }
            UnknownNode(id) => {
                buf.extend_from_slice(b"ERR Unknown node ");
                buf.extend_from_slice(id.as_bytes());
                return;
            }
            ConfigSetFailed { arg, why } => {
                let t =
                    format!("ERR CONFIG SET failed (possibly related to argument '{arg}') - {why}");
                buf.extend_from_slice(t.as_bytes());
                return;
            }
            MigrateIo(what) => {
                buf.extend_from_slice(b"IOERR error or timeout ");
                buf.extend_from_slice(what.as_bytes());
                buf.extend_from_slice(b" to target instance");
                return;
            }
            Moved { slot, addr } | Ask { slot, addr } => {
                buf.extend_from_slice(if matches!(self, Moved { .. }) {
                    b"MOVED "
                } else {
                    b"ASK "
                });
                push_int(buf, *slot as i64);
                buf.push(b' ');
                buf.extend_from_slice(addr.as_bytes());
                return;
            }
            Other(s) => s,
            Raw(b) => {
                buf.extend_from_slice(b);
                return;
            }
        };
        buf.extend_from_slice(s.as_bytes());
    }

    pub fn text(&self) -> String {
        let mut b = Vec::new();
        self.write_text(&mut b);
        String::from_utf8_lossy(&b).into_owned()
    }
}

/// Redis sanitizes user bytes shown inside errors: control chars and newlines become spaces,
/// and arguments are cut at 128 bytes.
pub fn sanitize_for_error(arg: &[u8]) -> String {
    let cut = &arg[..arg.len().min(128)];
    cut.iter()
        .map(|&c| if c < 32 || c == 127 { ' ' } else { c as char })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_command_text() {
        let e = ReplyError::UnknownCommand {
            name: "foo".into(),
            args: vec!["a".into()],
        };
        assert_eq!(
            e.text(),
            "ERR unknown command 'foo', with args beginning with: 'a' "
        );
        let m = ReplyError::Moved {
            slot: 3999,
            addr: "127.0.0.1:7002".into(),
        };
        assert_eq!(m.text(), "MOVED 3999 127.0.0.1:7002");
    }

    #[test]
    fn shared_texts_are_redis_texts() {
        // Each variant that replaced an inline text must keep Redis' exact words.
        use ReplyError::*;
        let cases = [
            (TimeoutNegative, "ERR timeout is negative"),
            (
                TimeoutNotFloat,
                "ERR timeout is not a float or out of range",
            ),
            (ValueOutOfRange, "ERR value is out of range"),
            (NotPositive, "ERR value is out of range, must be positive"),
            (
                NotCInt,
                "ERR value is out of range, value must between -2147483648 and 2147483647",
            ),
            (
                CountNotAbsolute,
                "ERR value is out of range, value must between -9223372036854775807 and \
                 9223372036854775807",
            ),
            (NumkeysNotPositive, "ERR numkeys should be greater than 0"),
            (CountNotPositive, "ERR count should be greater than 0"),
            (LimitNegative, "ERR LIMIT can't be negative"),
            (InvalidCursor, "ERR invalid cursor"),
            (
                IncrNanOrInfinity,
                "ERR increment would produce NaN or Infinity",
            ),
            (InvalidSlot, "ERR Invalid or out of range slot"),
            (TargetNotMaster, "ERR Target node is not a master"),
            (
                SubcommandOrArity {
                    cmd: "DEBUG",
                    sub: "x".into(),
                },
                "ERR unknown subcommand or wrong number of arguments for 'x'. Try DEBUG HELP.",
            ),
            (UnknownNode("ab".into()), "ERR Unknown node ab"),
            (
                ConfigSetFailed {
                    arg: "Port".into(),
                    why: "argument couldn't be parsed into an integer".into(),
                },
                "ERR CONFIG SET failed (possibly related to argument 'Port') - argument couldn't \
                 be parsed into an integer",
            ),
            (
                MigrateIo("reading"),
                "IOERR error or timeout reading to target instance",
            ),
        ];
        for (e, t) in cases {
            assert_eq!(e.text(), t);
            assert_eq!(e, ReplyError::other(t));
        }
    }
}
