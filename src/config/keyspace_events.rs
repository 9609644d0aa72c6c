//! `notify-keyspace-events`: the class letters as bits, parsed and shown exactly as Redis 7.0
//! does (CONFIG GET answers Redis' canonical string). Pure; the shard side that raises the
//! events is `shard::notify`.

/// `K`: events on `__keyspace@<db>__:<key>` (the event name is the message).
pub const KEYSPACE: u32 = 1 << 0;
/// `E`: events on `__keyevent@<db>__:<event>` (the key is the message).
pub const KEYEVENT: u32 = 1 << 1;
/// `g`: generic commands (DEL, EXPIRE, RENAME, ...).
pub const GENERIC: u32 = 1 << 2;
/// `$`: string commands.
pub const STRING: u32 = 1 << 3;
/// `l`: list commands.
pub const LIST: u32 = 1 << 4;
/// `s`: set commands.
pub const SET: u32 = 1 << 5;
/// `h`: hash commands.
pub const HASH: u32 = 1 << 6;
/// `z`: sorted set commands.
pub const ZSET: u32 = 1 << 7;
/// `x`: a key expired (lazily or by the active cycle).
pub const EXPIRED: u32 = 1 << 8;
/// `e`: a key was evicted for maxmemory.
pub const EVICTED: u32 = 1 << 9;
/// `t`: stream commands.
pub const STREAM: u32 = 1 << 10;
/// `m`: a read found no key.
pub const KEY_MISS: u32 = 1 << 11;
/// `d`: module events (slotd has no modules: never raised).
pub const MODULE: u32 = 1 << 12;
/// `n`: a key was created.
pub const NEW: u32 = 1 << 13;
/// `A`: every class but `m` and `n` (Redis' NOTIFY_ALL).
pub const ALL: u32 =
    GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// Redis' reason for a letter outside the alphabet.
pub const ERR_CLASS: &str = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";

/// The bits of a class string (any order, repeats allowed, as Redis).
pub fn parse(s: &str) -> Result<u32, String> {
    let mut flags = 0;
    for c in s.chars() {
        flags |= match c {
            'A' => ALL,
            'g' => GENERIC,
            '$' => STRING,
            'l' => LIST,
            's' => SET,
            'h' => HASH,
            'z' => ZSET,
            'x' => EXPIRED,
            'e' => EVICTED,
            'K' => KEYSPACE,
            'E' => KEYEVENT,
            't' => STREAM,
            'm' => KEY_MISS,
            'd' => MODULE,
            'n' => NEW,
            _ => return Err(ERR_CLASS.into()),
        };
    }
    Ok(flags)
}

/// The string CONFIG GET shows for `flags`: `A` or the type letters, then K, E, m. As in
/// Redis 7.0, `n` is shown only beside the type letters, not after `A`.
pub fn format(flags: u32) -> String {
    let mut s = String::new();
    if flags & ALL == ALL {
        s.push('A');
    } else {
        let letters = [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ];
        s.extend(
            letters
                .iter()
                .filter(|(f, _)| flags & f != 0)
                .map(|&(_, c)| c),
        );
    }
    for (f, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if flags & f != 0 {
            s.push(c);
        }
    }
    s
}

/// Why `n` is refused: slotd does not raise key creation events yet, and a subscriber
/// waiting for them would wait forever (fail closed).
pub const ERR_NEW: &str =
    "'n' (key creation events) is not supported by slotd yet; the other classes are";

/// The canonical text of a CONFIG SET / config file value.
pub fn canonical(s: &str) -> Result<String, String> {
    let flags = parse(s)?;
    if flags & NEW != 0 {
        return Err(ERR_NEW.into());
    }
    Ok(format(flags))
}

/// The bits handlers test: the classes, or 0 when neither K nor E is set (nothing would be
/// published, so every event site stays a single failed check).
pub fn effective(flags: u32) -> u32 {
    if flags & (KEYSPACE | KEYEVENT) == 0 {
        0
    } else {
        flags
    }
}

/// The effective bits of a configuration.
pub fn configured(cfg: &super::Config) -> u32 {
    effective(parse(&cfg.stored("notify-keyspace-events", "")).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_strings_match_redis() {
        // Guards CONFIG GET's text: each pair was read from redis-server 7.0.15.
        for (set, shown) in [
            ("KEA", "AKE"),
            ("Kg$lshzxetdmnE", "AKEm"),
            ("ElgK", "glKE"),
            ("Am", "Am"),
            ("gAA", "A"),
            ("gn", "gn"),
            ("Kn", "nK"),
            ("", ""),
            ("Ad", "A"),
            ("KEx", "xKE"),
            ("lshzxetd", "lshzxetd"),
        ] {
            assert_eq!(format(parse(set).unwrap()), shown, "{set}");
        }
        assert_eq!(canonical("Q").unwrap_err(), ERR_CLASS);
        assert_eq!(canonical("KEAn").unwrap_err(), ERR_NEW);
        assert_eq!(canonical("KEAm").unwrap(), "AKEm");
    }

    #[test]
    fn classes_without_a_channel_kind_raise_nothing() {
        // Guards the zero-cost check: "A" alone publishes nowhere, so the bits are 0.
        assert_eq!(effective(parse("A").unwrap()), 0);
        assert_ne!(effective(parse("Kg").unwrap()) & GENERIC, 0);
    }
}
