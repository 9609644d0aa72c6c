//! Redis data files in `dir`: which one start-up reads, by Redis 7.0's rule, and the upgrade
//! of a Redis 6.2 AOF into the manifest layout. Files only: loading them is the `rdb_load`
//! and `aof_load` drivers'.
//!
//! The rule (docs/aof.md, "Redis data files"), checked against redis-server 7.0.15:
//! - the RDB file (`dbfilename`): loaded when `appendonly no`; with `appendonly yes` the AOF
//!   is the data set and the RDB file is ignored (named in a warning);
//! - the Redis 6.2 AOF (`dir`/`appendfilename`): with `appendonly yes` and no manifest, it is
//!   moved into `appenddirname` as the base of a new manifest (Redis' `aofUpgradePrepare`:
//!   manifest first, then the rename, so a crash between the two is finished at the next
//!   start) and then loaded like any AOF; otherwise it is ignored.

use super::manifest::{manifest_name, write_atomically, FileKind, Manifest};
use std::path::{Path, PathBuf};

/// What start-up must do about Redis data files.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// Nothing to read besides slotd's own AOF (if any).
    Nothing,
    /// `appendonly no` and an RDB file: load it.
    Rdb(PathBuf),
    /// `appendonly yes` and a Redis 6.2 AOF to upgrade into the AOF directory.
    Legacy(PathBuf),
}

/// Applies the rule to `dir` (`aof_dir`: `dir`/`appenddirname`).
pub fn check(
    dir: &Path,
    dbfilename: &str,
    appendfilename: &str,
    appendonly: bool,
    aof_dir: &Path,
) -> Result<Found, String> {
    let rdb = dir.join(dbfilename);
    let have_rdb = present(&rdb)?;
    if !appendonly {
        return Ok(if have_rdb {
            Found::Rdb(rdb)
        } else {
            Found::Nothing
        });
    }
    if have_rdb {
        crate::log::warning(&format!(
            "Ignoring the RDB file {} (dbfilename): with appendonly yes the data set is the \
             AOF ({}), as in Redis 7.0",
            rdb.display(),
            aof_dir.display()
        ));
    }
    let legacy = dir.join(appendfilename);
    if present(&legacy)? && upgrade_due(aof_dir, appendfilename)? {
        return Ok(Found::Legacy(legacy));
    }
    Ok(Found::Nothing)
}

/// Redis' condition: no manifest, or one that only names the old file as its base while that
/// file is not in the AOF directory yet (a crash between the two steps of the upgrade).
fn upgrade_due(aof_dir: &Path, appendfilename: &str) -> Result<bool, String> {
    let mpath = aof_dir.join(manifest_name(appendfilename));
    let text = match std::fs::read_to_string(&mpath) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(format!("Can't read {}: {e}", mpath.display())),
    };
    let Ok(m) = Manifest::parse(&text) else {
        return Ok(false); // the manifest checks report it
    };
    let only_old_base = m.files.len() == 1
        && m.files[0].kind == FileKind::Base
        && m.files[0].name == appendfilename;
    Ok(only_old_base && !present(&aof_dir.join(appendfilename))?)
}

/// Moves the Redis 6.2 AOF `legacy` into `aof_dir` as the base (seq 1) of a new manifest,
/// as Redis 7.0 does, with its log line.
pub fn upgrade_legacy(
    legacy: &Path,
    appendfilename: &str,
    appenddirname: &str,
    aof_dir: &Path,
) -> Result<(), String> {
    std::fs::create_dir_all(aof_dir).map_err(|e| {
        format!(
            "Can't create the append-only directory {}: {e}",
            aof_dir.display()
        )
    })?;
    let manifest = format!("file {appendfilename} seq 1 type b\n");
    write_atomically(aof_dir, &manifest_name(appendfilename), manifest.as_bytes())
        .map_err(|e| format!("Can't write the AOF manifest: {e}"))?;
    let to = aof_dir.join(appendfilename);
    std::fs::rename(legacy, &to).map_err(|e| {
        format!(
            "Error trying to rename the existing AOF to {}: {e}",
            to.display()
        )
    })?;
    std::fs::File::open(aof_dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| format!("fsync of {}: {e}", aof_dir.display()))?;
    crate::log::notice(&format!(
        "Successfully migrated an old-style AOF file ({appendfilename}) into the AOF \
         directory ({appenddirname})."
    ));
    Ok(())
}

/// The path exists and is not a directory (a directory named like the file holds no data
/// Redis would load). Any error other than "not found" refuses: fail closed.
fn present(path: &Path) -> Result<bool, String> {
    match std::fs::metadata(path) {
        Ok(m) => Ok(!m.is_dir()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(format!("Can't check {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rdb_and_legacy_aof_rules() {
        // Guards the rule table of docs/aof.md "Redis data files" and the upgrade's layout.
        let dir = std::env::temp_dir().join(format!("slotd-foreign-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let aof_dir = dir.join("appendonlydir");
        let run = |on: bool| check(&dir, "dump.rdb", "appendonly.aof", on, &aof_dir).unwrap();
        assert_eq!(run(false), Found::Nothing);
        assert_eq!(run(true), Found::Nothing);
        let legacy = dir.join("appendonly.aof");
        std::fs::write(&legacy, b"*1\r\n$4\r\nPING\r\n").unwrap();
        assert_eq!(
            run(false),
            Found::Nothing,
            "Redis ignores it with appendonly no"
        );
        assert_eq!(run(true), Found::Legacy(legacy.clone()));
        std::fs::write(dir.join("dump.rdb"), b"REDIS0010").unwrap();
        assert_eq!(run(false), Found::Rdb(dir.join("dump.rdb")));
        assert_eq!(
            run(true),
            Found::Legacy(legacy.clone()),
            "the RDB is ignored"
        );
        // The upgrade: manifest first, then the file moves.
        upgrade_legacy(&legacy, "appendonly.aof", "appendonlydir", &aof_dir).unwrap();
        assert!(!legacy.exists());
        assert_eq!(
            std::fs::read(aof_dir.join("appendonly.aof")).unwrap(),
            b"*1\r\n$4\r\nPING\r\n"
        );
        assert_eq!(
            std::fs::read_to_string(aof_dir.join("appendonly.aof.manifest")).unwrap(),
            "file appendonly.aof seq 1 type b\n"
        );
        assert_eq!(run(true), Found::Nothing, "upgraded");
        // A crash between the manifest and the rename: the next start finishes it.
        std::fs::rename(aof_dir.join("appendonly.aof"), &legacy).unwrap();
        assert_eq!(run(true), Found::Legacy(legacy.clone()));
        // A manifest naming other files: the old file is ignored, as in Redis.
        std::fs::write(
            aof_dir.join("appendonly.aof.manifest"),
            "file appendonly.aof.1.base.rdb seq 1 type b\n",
        )
        .unwrap();
        assert_eq!(run(true), Found::Nothing);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
