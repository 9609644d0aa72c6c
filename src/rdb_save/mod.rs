//! Writing `dump.rdb` without fork: SAVE (every shard parked, written in the foreground),
//! BGSAVE (a snapshot taken at one instant across shards, serialized by each shard a few
//! tables per loop turn while it keeps serving, and written by one thread), the save points
//! checked by shard 0's cron, and the save at SIGTERM/SIGINT. Issue 16, part B; what the file
//! holds and what it costs is in docs/persistence.md.
//!
//! The command tier reaches this driver through the hooks `install` puts in
//! `commands::persistence` at boot.

pub mod background;
pub mod file;
pub mod foreground;

pub use foreground::save_parked;

use crate::global::Global;
use crate::rdb::dump::DumpOpts;
use crate::rdb::file::write::{put_functions, put_header, Aux};
use std::path::PathBuf;

/// Installs the hooks the command tier calls (once, at boot).
pub fn install() {
    crate::commands::persistence::install_saver(crate::commands::persistence::Saver {
        save_parked: |me, peers, path, now_ms| save_parked(me, peers, path, now_ms).map(drop),
        bgsave: background::start,
        save_flushed: foreground::save_flushed,
    });
}

/// The settings a file is written with, read once per save.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `dir`/`dbfilename`.
    pub path: PathBuf,
    pub opts: DumpOpts,
    pub checksum: bool,
    /// `rdb-key-save-delay` (microseconds): the writer thread sleeps this long per chunk.
    pub delay_us: u64,
}

pub fn settings(global: &Global) -> Settings {
    global.cfg(|c| {
        let d = DumpOpts::default();
        Settings {
            path: c.dir.join(c.stored("dbfilename", "dump.rdb")),
            opts: DumpOpts {
                compress: c.stored_bool("rdbcompression", true),
                list_fill: c
                    .stored("list-max-listpack-size", "-2")
                    .parse()
                    .unwrap_or(d.list_fill),
            },
            checksum: c.stored_bool("rdbchecksum", true),
            delay_us: c
                .stored("rdb-key-save-delay", "0")
                .parse::<i64>()
                .map_or(0, |v| v.max(0) as u64),
        }
    })
}

/// The file's first bytes: magic, aux fields and the function libraries as they are now.
pub fn head(global: &Global, now_ms: u64) -> Vec<u8> {
    let mut out = Vec::new();
    put_header(
        &mut out,
        &Aux {
            redis_ver: crate::constants::REDIS_VERSION.to_string(),
            ctime_s: now_ms / 1000,
            used_mem_bytes: crate::sys::alloc::used_bytes(),
            repl: None,
            aof_base: false,
        },
    );
    put_functions(&mut out, &global.scripts.libraries());
    out
}
