//! MONITOR's shard side: which of this shard's clients are monitors, and the lines this
//! shard's clients produced this turn, in Redis 7.0's format
//! (`+<unix s>.<us> [<db> <addr>] "arg" ...`). The event loop hands the lines to every core
//! with monitors once per turn (`Global::monitors_per_shard` says which), so commands of one
//! connection reach every monitor in the order they ran. With no monitor anywhere, the
//! dispatcher's only cost is one relaxed load (`active`).

use crate::global::Global;
use crate::resp::Args;
use crate::shard::Shard;
use std::io::Write;
use std::sync::atomic::Ordering;

/// This shard's monitors and its pending lines.
#[derive(Default)]
pub struct ShardMonitors {
    /// Client indexes of this shard's monitors, in the order they started.
    pub clients: Vec<usize>,
    /// Lines fed this turn (each a complete `+...\r\n` frame), sent at the end of the turn.
    pub pending: Vec<u8>,
}

/// True while any core has a monitor (one relaxed load: the hot path's whole cost).
#[inline]
pub fn active(global: &Global) -> bool {
    global.monitors.load(Ordering::Relaxed) != 0
}

/// Makes client `idx` of this shard a monitor.
pub fn start(sh: &mut Shard, idx: usize) {
    sh.clients.get_mut(idx).monitor = true;
    sh.monitor.clients.push(idx);
    sh.global.monitors_per_shard[sh.id].fetch_add(1, Ordering::Relaxed);
    sh.global.monitors.fetch_add(1, Ordering::Relaxed);
}

/// Client `idx` stops being a monitor (RESET, or its connection closed).
pub fn stop(sh: &mut Shard, idx: usize) {
    match sh.clients.get(idx) {
        Some(c) if c.monitor => {}
        _ => return,
    }
    sh.clients.get_mut(idx).monitor = false;
    sh.monitor.clients.retain(|&c| c != idx);
    sh.global.monitors_per_shard[sh.id].fetch_sub(1, Ordering::Relaxed);
    sh.global.monitors.fetch_sub(1, Ordering::Relaxed);
}

/// Where a line says a command came from: the client's address, or `lua` for a script's
/// `redis.call`.
pub enum Origin<'a> {
    Client(&'a str),
    Lua,
}

/// Appends one monitor line for `args` run in database `db`. `redact` lists the argument
/// positions shown as `(redacted)` (passwords), as Redis 7.0 hides them.
pub fn feed(sh: &mut Shard, db: u32, origin: Origin<'_>, args: Args<'_>, redact: &[usize]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let out = &mut sh.monitor.pending;
    let _ = write!(out, "+{}.{:06} [{db} ", now.as_secs(), now.subsec_micros());
    match origin {
        Origin::Client(addr) => out.extend_from_slice(addr.as_bytes()),
        Origin::Lua => out.extend_from_slice(b"lua"),
    }
    out.push(b']');
    for (i, a) in args.iter().enumerate() {
        out.push(b' ');
        if redact.contains(&i) {
            out.extend_from_slice(b"\"(redacted)\"");
        } else {
            quote_into(out, a);
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// Redis' `sdscatrepr`: a double-quoted string with `\\`, `\"`, `\n`, `\r`, `\t`, `\a`, `\b`
/// escaped and other non-printable bytes as `\xHH`.
pub fn quote_into(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        match b {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(b),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push(b'"');
}

/// The argument positions Redis 7.0 shows as `(redacted)`: AUTH's arguments, HELLO's AUTH
/// username and password, MIGRATE's AUTH password and AUTH2 username and password.
pub fn redacted_positions(name: &str, args: Args<'_>, out: &mut Vec<usize>) {
    match name {
        "auth" => out.extend(1..args.len()),
        "hello" => {
            let mut i = 2;
            while i < args.len() {
                let a = args.get(i);
                if a.eq_ignore_ascii_case(b"auth") && i + 2 < args.len() {
                    out.extend([i + 1, i + 2]);
                    i += 3;
                } else if a.eq_ignore_ascii_case(b"setname") {
                    i += 2;
                } else {
                    i += 1;
                }
            }
        }
        "migrate" => {
            for i in 6..args.len() {
                let a = args.get(i);
                if a.eq_ignore_ascii_case(b"keys") {
                    break;
                }
                if a.eq_ignore_ascii_case(b"auth") && i + 1 < args.len() {
                    out.push(i + 1);
                } else if a.eq_ignore_ascii_case(b"auth2") && i + 2 < args.len() {
                    out.extend([i + 1, i + 2]);
                }
            }
        }
        _ => {}
    }
    // CONFIG SET of a secret (Redis 7.0's SENSITIVE_CONFIG settings): the value.
    if args.len() > 3
        && args.get(0).eq_ignore_ascii_case(b"config")
        && args.get(1).eq_ignore_ascii_case(b"set")
    {
        for i in (2..args.len() - 1).step_by(2) {
            let name = args.get(i);
            if SENSITIVE_CONFIGS
                .iter()
                .any(|s| name.eq_ignore_ascii_case(s.as_bytes()))
            {
                out.push(i + 1);
            }
        }
    }
}

/// The settings whose CONFIG SET values Redis 7.0 hides in MONITOR and SLOWLOG.
const SENSITIVE_CONFIGS: &[&str] = &["masterauth", "masteruser", "requirepass"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::OwnedArgs;

    #[test]
    fn quoting_as_sdscatrepr() {
        // Printable bytes as they are; quotes, backslashes and control bytes escaped.
        let mut out = Vec::new();
        quote_into(&mut out, b"a\x01\"\\b\t\n\r\x07\x08\xff z");
        assert_eq!(out, b"\"a\\x01\\\"\\\\b\\t\\n\\r\\a\\b\\xff z\"");
    }

    #[test]
    fn redaction_positions() {
        // AUTH hides everything; HELLO and MIGRATE hide only the credentials.
        let mut v = Vec::new();
        let a = OwnedArgs::from_slices(&[b"auth", b"u", b"p"]);
        redacted_positions("auth", a.args(), &mut v);
        assert_eq!(v, [1, 2]);
        v.clear();
        let a = OwnedArgs::from_slices(&[b"hello", b"3", b"setname", b"auth", b"auth", b"u", b"p"]);
        redacted_positions("hello", a.args(), &mut v);
        assert_eq!(v, [5, 6]);
        v.clear();
        let m: [&[u8]; 11] = [
            b"migrate", b"h", b"1", b"", b"0", b"10", b"AUTH2", b"u", b"p", b"KEYS", b"auth",
        ];
        let a = OwnedArgs::from_slices(&m);
        redacted_positions("migrate", a.args(), &mut v);
        assert_eq!(v, [7, 8]);
    }
}
