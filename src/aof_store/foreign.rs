//! Redis data files slotd cannot load yet: an RDB file (`dir`/`dbfilename`) and a Redis 6.2
//! AOF (`dir`/`appendfilename`). Redis 7.0 would load them; starting empty beside them would
//! hide their keys, so start-up is refused instead, naming the file. Nothing here writes,
//! moves or deletes a file.
//!
//! The rule (docs/aof.md, "Redis data files"), checked against redis-server 7.0.15:
//! - the RDB file: Redis loads it when `appendonly no`; with `appendonly yes` Redis ignores it
//!   (and, with no AOF yet, starts empty). slotd refuses unless `appendonly yes` and its own
//!   manifest exists, in which case the AOF is the data set in both servers and the RDB file
//!   is only named in a warning;
//! - the Redis 6.2 AOF: Redis 7.0 loads (upgrades) it when `appendonly yes` and no manifest
//!   exists, and ignores it otherwise. slotd refuses in exactly that case.

use std::path::Path;

/// Refuses start-up when `dir` holds Redis data slotd would otherwise ignore. `manifest`: the
/// path of slotd's AOF manifest (its presence decides, as in Redis).
pub fn check(
    dir: &Path,
    dbfilename: &str,
    appendfilename: &str,
    appendonly: bool,
    manifest: &Path,
) -> Result<(), String> {
    let have_manifest = present(manifest)?;
    let rdb = dir.join(dbfilename);
    if present(&rdb)? {
        if !appendonly || !have_manifest {
            let why = if appendonly {
                "with appendonly yes and no AOF yet, Redis 7.0 would start empty beside it"
            } else {
                "Redis would load it with appendonly no"
            };
            return Err(format!(
                "Found the RDB file {} (dbfilename), which slotd cannot load yet ({why}): \
                 refusing to start without its data. To start without it, move it out of {}; \
                 to keep its data, serve it with redis-server until slotd can load RDB files. \
                 slotd never changes or deletes this file.",
                rdb.display(),
                dir.display()
            ));
        }
        crate::log::warning(&format!(
            "Ignoring the RDB file {} (dbfilename): with appendonly yes the data set is the \
             AOF ({}), as in Redis 7.0",
            rdb.display(),
            manifest.display()
        ));
    }
    let legacy = dir.join(appendfilename);
    if appendonly && !have_manifest && present(&legacy)? {
        return Err(format!(
            "Found the append only file {} (appendfilename) of Redis 6.2 or older and no AOF \
             manifest {}: slotd cannot load that file yet and refuses to start without its \
             data. To start without it, move it out of {}; to keep its data, serve it with \
             redis-server until slotd can load it. slotd never changes or deletes this file.",
            legacy.display(),
            manifest.display(),
            dir.display()
        ));
    }
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
        // Guards the rule table of docs/aof.md "Redis data files" without starting a server.
        let dir = std::env::temp_dir().join(format!("slotd-foreign-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("appendonlydir")).unwrap();
        let m = dir.join("appendonlydir").join("appendonly.aof.manifest");
        let run = |on: bool| check(&dir, "dump.rdb", "appendonly.aof", on, &m);
        assert!(run(false).is_ok() && run(true).is_ok(), "neither file");
        std::fs::write(dir.join("appendonly.aof"), b"*1\r\n$4\r\nPING\r\n").unwrap();
        assert!(run(false).is_ok(), "Redis ignores it with appendonly no");
        assert!(run(true).unwrap_err().contains("of Redis 6.2 or older"));
        std::fs::write(&m, b"file a seq 1 type b\n").unwrap();
        assert!(run(true).is_ok(), "a manifest: Redis ignores the old file");
        std::fs::write(dir.join("dump.rdb"), b"REDIS0010").unwrap();
        assert!(run(false).unwrap_err().contains("would load it"));
        assert!(run(true).is_ok(), "the AOF is the data set");
        std::fs::remove_file(&m).unwrap();
        assert!(run(true).unwrap_err().contains("start empty beside it"));
        assert_eq!(
            std::fs::read(dir.join("dump.rdb")).unwrap(),
            b"REDIS0010",
            "unchanged"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
