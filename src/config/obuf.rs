//! Client output buffer limits (`client-output-buffer-limit`): the directive's syntax exactly
//! as Redis 7.0 reads it, the three client classes, the limits every shard reads once per turn,
//! and the hard/soft check itself. A config value type, so the config parser, the shards and
//! the replica senders share it without importing each other (`net::obuf` re-exports it and
//! publishes new limits).
//!
//! What "pending output" means in slotd: for a client of a shard, every reply byte not yet
//! accepted by the kernel (the output buffer, the unsent rest of the send in flight, and the
//! ready reply chunks queued behind a reply another shard still computes). For a replica, the
//! bytes its sender thread has not written to the socket yet (see `replication::Feed`).

use std::sync::atomic::{AtomicU64, Ordering};

/// The classes Redis 7.0 distinguishes for output limits (a master link counts as normal).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Normal = 0,
    Replica = 1,
    Pubsub = 2,
}

/// One class's limits; 0 disables a limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClassLimit {
    pub hard_bytes: u64,
    pub soft_bytes: u64,
    pub soft_seconds: u64,
}

/// Limits of the three classes, indexed by `Class`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits(pub [ClassLimit; 3]);

/// Redis 7.0's defaults, as CONFIG GET shows them.
#[cfg(test)]
pub const DEFAULT_TEXT: &str =
    "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60";

pub const ERR_NARGS: &str = "Wrong number of arguments in buffer limit configuration.";
pub const ERR_CLASS: &str = "Invalid client class specified in buffer limit configuration.";
pub const ERR_VALUE: &str =
    "Error in hard, soft or soft_seconds setting in buffer limit configuration.";

impl Limits {
    pub fn get(&self, class: Class) -> ClassLimit {
        self.0[class as usize]
    }

    /// Reads the stored form (`normal h s t slave h s t pubsub h s t`); anything unreadable
    /// falls back to the defaults (the stored form is only ever written by `apply`).
    pub fn from_text(text: &str) -> Limits {
        let words: Vec<String> = text.split(' ').map(str::to_string).collect();
        let mut limits = Limits::default_limits();
        if limits.apply(&words).is_err() {
            return Limits::default_limits();
        }
        limits
    }

    pub fn default_limits() -> Limits {
        let mut limits = Limits::default();
        limits.0[Class::Replica as usize] = ClassLimit {
            hard_bytes: 256 << 20,
            soft_bytes: 64 << 20,
            soft_seconds: 60,
        };
        limits.0[Class::Pubsub as usize] = ClassLimit {
            hard_bytes: 32 << 20,
            soft_bytes: 8 << 20,
            soft_seconds: 60,
        };
        limits
    }

    /// `CLASS HARD SOFT SECONDS [...]` merged into these limits, all or nothing, with Redis'
    /// error texts. No values at all is accepted and changes nothing, as in Redis.
    pub fn apply(&mut self, values: &[String]) -> Result<(), &'static str> {
        if !values.len().is_multiple_of(4) {
            return Err(ERR_NARGS);
        }
        let mut next = *self;
        for chunk in values.chunks(4) {
            let class = class_by_name(&chunk[0]).ok_or(ERR_CLASS)?;
            let hard = mem_value(&chunk[1]);
            let soft = mem_value(&chunk[2]);
            let seconds = c_int_value(&chunk[3]).filter(|&s| s >= 0);
            let (Some(hard_bytes), Some(soft_bytes), Some(seconds)) = (hard, soft, seconds) else {
                return Err(ERR_VALUE);
            };
            next.0[class as usize] = ClassLimit {
                hard_bytes,
                soft_bytes,
                soft_seconds: seconds as u64,
            };
        }
        *self = next;
        Ok(())
    }

    /// The form CONFIG GET shows (the replica class is named `slave`, as in Redis 7.0).
    pub fn to_text(self) -> String {
        let names = ["normal", "slave", "pubsub"];
        let parts: Vec<String> = names
            .iter()
            .zip(self.0.iter())
            .map(|(n, l)| format!("{n} {} {} {}", l.hard_bytes, l.soft_bytes, l.soft_seconds))
            .collect();
        parts.join(" ")
    }

    /// Smallest non-zero limit of the classes a shard's clients can have (a replica's own
    /// connection included): below it no check is needed at all (`u64::MAX` when every such
    /// limit is 0).
    pub fn check_floor_bytes(&self) -> u64 {
        [Class::Normal, Class::Replica, Class::Pubsub]
            .iter()
            .flat_map(|&c| [self.get(c).hard_bytes, self.get(c).soft_bytes])
            .filter(|&b| b > 0)
            .min()
            .unwrap_or(u64::MAX)
    }
}

/// `normal`, `slave`/`replica`, `pubsub` in any case; `master` is refused, as in Redis.
fn class_by_name(name: &str) -> Option<Class> {
    match name.to_ascii_lowercase().as_str() {
        "normal" => Some(Class::Normal),
        "slave" | "replica" => Some(Class::Replica),
        "pubsub" => Some(Class::Pubsub),
        _ => None,
    }
}

/// Redis 7.0's `memtoull`: leading digits (possibly none, read as 0; saturating like
/// strtoull), then an optional unit (b, k, kb, m, mb, g, gb in any case). The product wraps
/// around as it does in Redis 7.0.
fn mem_value(s: &str) -> Option<u64> {
    if s.starts_with('-') {
        return None;
    }
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let scale = super::mem_unit_scale(unit)?;
    // Redis copies the digits into a 128-byte buffer first.
    if digits.len() >= 128 {
        return None;
    }
    let n = digits.bytes().fold(0u64, |acc, d| {
        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    Some(n.wrapping_mul(scale))
}

/// C's `strtoll(s, &end, 10)` with `*end == '\0'` required, stored into an `int` as Redis does
/// (so large values wrap). An empty string reads as 0.
fn c_int_value(s: &str) -> Option<i32> {
    let t = s.trim_start_matches(|c: char| c.is_ascii() && is_c_space(c as u8));
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() {
        // No conversion: strtoll leaves the end at the start of the string.
        return s.is_empty().then_some(0);
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits.bytes().fold(0i128, |acc, d| {
        (acc * 10 + i128::from(d - b'0')).min(i128::from(i64::MAX) + 1)
    });
    let v = if negative { -magnitude } else { magnitude };
    let v = v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
    Some(v as i32)
}

fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// The limits in force, readable by every thread without a lock (each value is read once
/// per shard turn; CONFIG SET and boot store them).
#[derive(Debug, Default)]
pub struct Shared {
    values: [AtomicU64; 9],
}

impl Shared {
    pub fn new(limits: Limits) -> Shared {
        let s = Shared::default();
        s.store(limits);
        s
    }

    pub fn store(&self, limits: Limits) {
        for (i, l) in limits.0.iter().enumerate() {
            self.values[i * 3].store(l.hard_bytes, Ordering::Relaxed);
            self.values[i * 3 + 1].store(l.soft_bytes, Ordering::Relaxed);
            self.values[i * 3 + 2].store(l.soft_seconds, Ordering::Relaxed);
        }
    }

    pub fn load(&self) -> Limits {
        let mut limits = Limits::default();
        for (i, l) in limits.0.iter_mut().enumerate() {
            l.hard_bytes = self.values[i * 3].load(Ordering::Relaxed);
            l.soft_bytes = self.values[i * 3 + 1].load(Ordering::Relaxed);
            l.soft_seconds = self.values[i * 3 + 2].load(Ordering::Relaxed);
        }
        limits
    }
}

/// The limits a configuration sets (the directive is kept in the stored map).
pub fn configured(cfg: &super::Config) -> Limits {
    cfg.unimplemented
        .get("client-output-buffer-limit")
        .map_or_else(Limits::default_limits, |t| Limits::from_text(t))
}

/// Redis' check: over the hard limit, or over the soft limit continuously for more than its
/// seconds. `soft_since_ms` (0 = under the soft limit) carries the start of the current
/// stretch over the soft limit between checks. Returns true when the client must be closed.
pub fn over_limit(
    limit: ClassLimit,
    pending_bytes: u64,
    soft_since_ms: &mut u64,
    now_ms: u64,
) -> bool {
    let hard = limit.hard_bytes > 0 && pending_bytes >= limit.hard_bytes;
    let over_soft = limit.soft_bytes > 0 && pending_bytes >= limit.soft_bytes;
    let mut soft = false;
    if over_soft {
        if *soft_since_ms == 0 {
            *soft_since_ms = now_ms.max(1);
        } else {
            // Whole unix seconds, as Redis compares them (`elapsed <= seconds` is still fine).
            let elapsed_s = (now_ms / 1000).saturating_sub(*soft_since_ms / 1000);
            soft = elapsed_s > limit.soft_seconds;
        }
    } else {
        *soft_since_ms = 0;
    }
    hard || soft
}

/// The log line Redis writes when it drops a client for its output buffer; `who` is the
/// client's CLIENT LIST line.
pub fn log_closing(who: &str) {
    crate::log::warning(&format!(
        "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
        who.trim_end()
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(limits: &mut Limits, line: &str) -> Result<(), &'static str> {
        let values: Vec<String> = if line.is_empty() {
            Vec::new()
        } else {
            line.split(' ').map(str::to_string).collect()
        };
        limits.apply(&values)
    }

    #[test]
    fn default_text_round_trips() {
        // The stored default reads back as Redis' default limits and prints identically.
        let l = Limits::from_text(DEFAULT_TEXT);
        assert_eq!(l, Limits::default_limits());
        assert_eq!(l.to_text(), DEFAULT_TEXT);
        assert_eq!(l.check_floor_bytes(), 8 << 20);
    }

    #[test]
    fn syntax_as_redis_7_0() {
        // Each case was run against redis-server 7.0.15 (CONFIG SET then CONFIG GET).
        let mut l = Limits::default_limits();
        assert_eq!(set(&mut l, ""), Ok(()));
        assert_eq!(set(&mut l, "normal 1 2"), Err(ERR_NARGS));
        assert_eq!(set(&mut l, "foo 1 2 3"), Err(ERR_CLASS));
        assert_eq!(set(&mut l, "master 1 2 3"), Err(ERR_CLASS));
        assert_eq!(set(&mut l, "normal 1x 2 3"), Err(ERR_VALUE));
        assert_eq!(set(&mut l, "normal 1 2 -1"), Err(ERR_VALUE));
        assert_eq!(set(&mut l, "normal -1 2 3"), Err(ERR_VALUE));
        assert_eq!(set(&mut l, "normal 1 2 3x"), Err(ERR_VALUE));
        assert_eq!(set(&mut l, "normal 1 2 ''"), Err(ERR_VALUE));
        assert_eq!(set(&mut l, "normal 1.5mb 1 1"), Err(ERR_VALUE));
        assert_eq!(set(&mut l, "normal 1 2 0x10"), Err(ERR_VALUE));
        assert_eq!(set(&mut l, "normal 1 2 4294967295"), Err(ERR_VALUE));
        assert_eq!(set(&mut l, "normal 1 2 2147483648"), Err(ERR_VALUE));
        assert_eq!(
            set(&mut l, "normal 1 1 99999999999999999999"),
            Err(ERR_VALUE)
        );
        assert_eq!(set(&mut l, "normal 1 2 3 foo 1 2 3"), Err(ERR_CLASS));
        assert_eq!(
            l,
            Limits::default_limits(),
            "a refused line changes nothing"
        );
        set(&mut l, "replica 1mb 2kb 3").unwrap();
        set(&mut l, "NORMAL 1k 2K 3").unwrap();
        assert_eq!(
            l.to_text(),
            "normal 1000 2000 3 slave 1048576 2048 3 pubsub 33554432 8388608 60"
        );
        set(&mut l, "normal 1 2 +5 pubsub 99999999999999999999 1 1").unwrap();
        assert_eq!(
            l.to_text(),
            "normal 1 2 5 slave 1048576 2048 3 pubsub 18446744073709551615 1 1"
        );
        set(&mut l, "normal 010 2 99999999999").unwrap();
        assert_eq!(l.get(Class::Normal).hard_bytes, 10);
        assert_eq!(l.get(Class::Normal).soft_seconds, 1215752191);
        set(&mut l, "normal mb kb -0").unwrap();
        assert_eq!(l.get(Class::Normal), ClassLimit::default());
        set(&mut l, "normal 99999999999999999999mb 1 ").unwrap();
        assert_eq!(l.get(Class::Normal).hard_bytes, 18446744073708503040);
        assert_eq!(l.get(Class::Normal).soft_seconds, 0);
        set(&mut l, "slave 1 2 3 slave 4 5 6").unwrap();
        assert_eq!(l.get(Class::Replica).soft_seconds, 6);
    }

    #[test]
    fn hard_and_soft_checks() {
        // Hard: at once at the limit; soft: only after staying over it longer than the
        // seconds, and the clock restarts when the output drops below it.
        let lim = ClassLimit {
            hard_bytes: 100,
            soft_bytes: 50,
            soft_seconds: 2,
        };
        let mut since = 0;
        assert!(!over_limit(lim, 99, &mut since, 1_500));
        assert_eq!(since, 1_500);
        assert!(over_limit(lim, 100, &mut since, 1_500));
        assert!(!over_limit(lim, 60, &mut since, 3_999));
        assert!(over_limit(lim, 60, &mut since, 4_000));
        assert!(!over_limit(lim, 10, &mut since, 4_001));
        assert_eq!(since, 0);
        // 0 seconds: closed from the next whole second on, as in Redis.
        let zero = ClassLimit {
            soft_seconds: 0,
            ..lim
        };
        assert!(!over_limit(zero, 60, &mut since, 5_100));
        assert!(!over_limit(zero, 60, &mut since, 5_999));
        assert!(over_limit(zero, 60, &mut since, 6_000));
        assert!(!over_limit(ClassLimit::default(), u64::MAX, &mut since, 9));
    }

    #[test]
    fn shared_store_and_load() {
        // What CONFIG SET stores is what the shards load.
        let mut l = Limits::default_limits();
        set(&mut l, "normal 1 2 3").unwrap();
        let s = Shared::new(l);
        assert_eq!(s.load(), l);
    }
}
