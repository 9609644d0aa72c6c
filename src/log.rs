//! Redis-style log lines (`pid:M 25 Nov 2026 12:00:00.123 * text`) to standard output or to
//! `logfile`, filtered by `loglevel`. Also the sink for the `log` crate (glommio logs there).

use std::io::Write;
use std::sync::Mutex;

/// `loglevel`: the lowest severity written (config parses it and sets it here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
    /// Not accepted by Redis 7.0's `loglevel` (it arrived in 7.2); kept for internal use.
    Nothing,
}

struct Sink {
    level: LogLevel,
    file: Option<std::fs::File>,
}

static SINK: Mutex<Sink> = Mutex::new(Sink {
    level: LogLevel::Notice,
    file: None,
});

fn rank(l: LogLevel) -> u8 {
    match l {
        LogLevel::Debug => 0,
        LogLevel::Verbose => 1,
        LogLevel::Notice => 2,
        LogLevel::Warning => 3,
        LogLevel::Nothing => 4,
    }
}

/// Sets the level and destination (empty path: standard output). Returns an error text when
/// the log file cannot be opened.
pub fn init(level: LogLevel, path: &str) -> Result<(), String> {
    let file = if path.is_empty() {
        None
    } else {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("Can't open the log file: {e}"))?;
        Some(f)
    };
    let mut s = SINK.lock().unwrap_or_else(|e| e.into_inner());
    s.level = level;
    s.file = file;
    let _ = log::set_logger(&LOG_BRIDGE);
    log::set_max_level(log::LevelFilter::Warn);
    Ok(())
}

pub fn set_level(level: LogLevel) {
    SINK.lock().unwrap_or_else(|e| e.into_inner()).level = level;
}

fn timestamp() -> String {
    let t = crate::sys::local_time_now();
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        t.mday,
        MONTHS[t.month0.clamp(0, 11) as usize],
        t.year,
        t.hour,
        t.min,
        t.sec,
        t.micros / 1000
    )
}

/// The role letter of every line: 'M' for a master, 'S' for a replica (as Redis prints).
static ROLE_REPLICA: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Called when the node becomes a replica or a master.
pub fn set_replica_role(replica: bool) {
    ROLE_REPLICA.store(replica, std::sync::atomic::Ordering::Relaxed);
}

pub fn write(level: LogLevel, msg: &str) {
    let mut s = SINK.lock().unwrap_or_else(|e| e.into_inner());
    if rank(level) < rank(s.level) || s.level == LogLevel::Nothing {
        return;
    }
    let mark = match level {
        LogLevel::Debug => '.',
        LogLevel::Verbose => '-',
        LogLevel::Notice => '*',
        _ => '#',
    };
    let role = if ROLE_REPLICA.load(std::sync::atomic::Ordering::Relaxed) {
        'S'
    } else {
        'M'
    };
    let line = format!(
        "{}:{role} {} {} {}\n",
        std::process::id(),
        timestamp(),
        mark,
        msg
    );
    match s.file.as_mut() {
        Some(f) => {
            let _ = f.write_all(line.as_bytes());
        }
        None => {
            let _ = std::io::stdout().write_all(line.as_bytes());
        }
    }
}

pub fn debug(msg: &str) {
    write(LogLevel::Debug, msg)
}
pub fn verbose(msg: &str) {
    write(LogLevel::Verbose, msg)
}
pub fn notice(msg: &str) {
    write(LogLevel::Notice, msg)
}
pub fn warning(msg: &str) {
    write(LogLevel::Warning, msg)
}

struct Bridge;
static LOG_BRIDGE: Bridge = Bridge;

impl log::Log for Bridge {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::Level::Warn
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            write(LogLevel::Warning, &format!("{}: {}", r.target(), r.args()));
        }
    }
    fn flush(&self) {}
}
