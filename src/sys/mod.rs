//! Checked wrappers for every libc call slotd makes: the rest of the crate calls these and
//! holds no `unsafe` of its own for libc. Each wrapper states its contract, carries the
//! `// SAFETY:` reasoning for its call, reads errno once and returns `io::Result` (or a plain
//! value where the call cannot fail). One file per area:
//!
//! - `fd`: descriptors and sockets (close, dup, send, write, poll, flock, shutdown, eventfd).
//! - `signals`: signal sets, thread masks, dispositions, waits and thread-directed signals.
//! - `time`: the local wall-clock time for log lines.
//! - `process`: limits, daemonizing, uname, CPU usage, sysconf, random bytes.
//! - `memory`: anonymous mappings, read-only file mappings.
//! - `alloc`: the global allocator, its used-memory counters and its statistics.
//! - `notify`: service supervision (systemd's NOTIFY_SOCKET datagrams, upstart's SIGSTOP).
//!
//! A leaf: imports nothing from the crate. Only libc constants (signal numbers, errno values,
//! flags) are used outside this module; the test at the bottom fails when a libc function is
//! called anywhere else in `src/`.

pub mod alloc;
mod fd;
mod memory;
pub mod notify;
mod process;
mod signals;
mod time;

pub use fd::{close, dup, eventfd, poll_one, send, shutdown, try_lock_exclusive, write};
pub use memory::{AnonMapping, FileMapping};
pub use process::{daemonize, getrandom, getrlimit, getrusage, setrlimit, sysconf, uname};
pub use signals::{
    ignore_signal, install_wakeup_handler, signal_thread, thread_id, thread_mask, MaskHow, SigSet,
};
pub use time::local_time_now;

use std::io;

/// The result of a call that reports failure as -1 and sets errno: the value, or errno.
fn cvt(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// As `cvt`, for the calls returning a byte count (`ssize_t`).
fn cvt_size(rc: libc::ssize_t) -> io::Result<usize> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc as usize)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every `libc::name(` call in `path` (comments skipped), as "file:line: text".
    fn libc_calls(path: &Path, found: &mut Vec<String>) {
        let text = std::fs::read_to_string(path).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let mut rest = code;
            while let Some(at) = rest.find("libc::") {
                let after = &rest[at + "libc::".len()..];
                let name_end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                let is_fn_name = after[..name_end]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
                let next = after[name_end..].trim_start();
                if is_fn_name && (next.starts_with('(') || next.starts_with("::<")) {
                    found.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
                }
                rest = &after[name_end..];
            }
            if code.contains("use libc::") || code.contains("libc::{") {
                found.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
            }
        }
    }

    fn walk(dir: &Path, skip: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path == skip {
                continue;
            }
            if path.is_dir() {
                walk(&path, skip, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                libc_calls(&path, found);
            }
        }
    }

    #[test]
    fn libc_is_called_only_inside_sys() {
        // Guards the module's purpose: a libc call elsewhere in src/ brings back unchecked
        // `unsafe`; add a wrapper here instead. Constants (libc::EINTR, libc::SIGTERM) are fine.
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = Vec::new();
        walk(&src, &src.join("sys"), &mut found);
        assert!(
            found.is_empty(),
            "libc called outside src/sys (wrap it in src/sys):\n{}",
            found.join("\n")
        );
        // The scan itself sees a call (so an empty result above means something).
        let mut own = Vec::new();
        libc_calls(&src.join("sys").join("fd.rs"), &mut own);
        assert!(!own.is_empty());
    }
}
