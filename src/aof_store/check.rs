//! Start-up checks of the AOF manifest against the directory, before anything is loaded,
//! written or deleted. Every problem refuses start-up with a line naming the file and the
//! problem: a node must never start with part of its data silently missing (and then rewrite
//! or truncate the files that held it).

use super::manifest::{FileKind, Manifest};
use std::collections::BTreeSet;
use std::path::Path;

/// Redis' banner before a manifest error.
const FATAL: &str = "*** FATAL AOF MANIFEST FILE ERROR ***";

/// (shard, seq, kind) of a data file name of this prefix (`<prefix>.s<shard>.<seq>.<kind>.aof`,
/// or `<prefix>.s<shard>.<seq>.base.rdb` for a base in RDB format).
pub fn parse_file_name(prefix: &str, name: &str) -> Option<(usize, u64, FileKind)> {
    let rest = name.strip_prefix(prefix)?.strip_prefix(".s")?;
    let rest = match rest.strip_suffix(".aof") {
        Some(r) => r,
        None => rest.strip_suffix(".rdb").filter(|r| r.ends_with(".base"))?,
    };
    let mut parts = rest.split('.');
    let shard = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    let kind = match parts.next()? {
        "base" => FileKind::Base,
        "incr" => FileKind::Incr,
        _ => return None,
    };
    parts.next().is_none().then_some((shard, seq, kind))
}

/// Data files of this prefix in `dir`, sorted by name.
pub fn data_files(dir: &Path, prefix: &str) -> Result<Vec<(String, usize)>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        format!(
            "Can't list the append-only directory {}: {e}",
            dir.display()
        )
    })?;
    let mut out: Vec<(String, usize)> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| parse_file_name(prefix, &n).map(|(shard, _, _)| (n, shard)))
        .collect();
    out.sort();
    Ok(out)
}

/// The prefix of the staging manifest a relayout writes first.
pub fn relayout_prefix(prefix: &str) -> String {
    format!("{prefix}.relayout")
}

/// The staging manifest's file name.
pub fn relayout_name(prefix: &str) -> String {
    super::manifest::manifest_name(&relayout_prefix(prefix))
}

/// A relayout (restart with another `server-threads`) was interrupted: if the real manifest
/// already is the staging one, the old layout's files (every data file it does not list) are
/// deleted, as the relayout would have; otherwise the new files it was writing (listed in the
/// staging manifest, not in the real one) are. Then the staging manifest goes. Either way the
/// real manifest names a whole set again, checked as usual.
pub fn finish_relayout(dir: &Path, prefix: &str, mpath: &Path) -> Result<(), String> {
    let staging = dir.join(relayout_name(prefix));
    let text = match std::fs::read_to_string(&staging) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("Can't read {}: {e}", staging.display())),
    };
    let planned = Manifest::parse(&text).map_err(|e| format!("{e} ({})", staging.display()))?;
    let real = match std::fs::read_to_string(mpath) {
        Ok(t) => Manifest::parse(&t).map_err(|e| format!("{e} ({})", mpath.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Manifest::default(),
        Err(e) => {
            return Err(format!(
                "Can't read the AOF manifest {}: {e}",
                mpath.display()
            ))
        }
    };
    let committed = !planned.files.is_empty() && sorted(&real) == sorted(&planned);
    let doomed: Vec<String> = if committed {
        let listed: BTreeSet<&str> = planned.files.iter().map(|f| f.name.as_str()).collect();
        data_files(dir, prefix)?
            .into_iter()
            .map(|(n, _)| n)
            .filter(|n| !listed.contains(n.as_str()))
            .collect()
    } else {
        let listed: BTreeSet<&str> = real.files.iter().map(|f| f.name.as_str()).collect();
        // With the base a shard was building under its temporary name.
        planned
            .files
            .iter()
            .filter(|f| !listed.contains(f.name.as_str()))
            .flat_map(|f| {
                let temp = (f.kind == FileKind::Base)
                    .then(|| super::segment::temp_base_name(f.shard, f.seq));
                std::iter::once(f.name.clone()).chain(temp)
            })
            .collect()
    };
    crate::log::warning(&format!(
        "An interrupted AOF relayout was found ({}): {}; removing {} file(s)",
        staging.display(),
        if committed {
            "it was committed, the old layout's files go"
        } else {
            "it was not committed, the new files go"
        },
        doomed.len()
    ));
    for name in &doomed {
        match std::fs::remove_file(dir.join(name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("removing {name}: {e}")),
        }
    }
    std::fs::remove_file(&staging).map_err(|e| format!("removing {}: {e}", staging.display()))
}

fn sorted(m: &Manifest) -> Vec<(usize, String)> {
    let mut v: Vec<(usize, String)> = m.files.iter().map(|f| (f.shard, f.name.clone())).collect();
    v.sort();
    v
}

/// Deletes the temporary manifests a crash left (`manifest::write_atomically` writes
/// `temp-<name>.<pid>` and renames it): called once the checks passed, nothing else is there
/// that could still be renamed into place.
pub fn remove_temp_manifests(dir: &Path, prefix: &str) {
    let names = [
        format!("temp-{}.", super::manifest::manifest_name(prefix)),
        format!("temp-{}.", relayout_name(prefix)),
    ];
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for name in entries.filter_map(|e| e.ok()?.file_name().into_string().ok()) {
        let pid = names.iter().find_map(|n| name.strip_prefix(n.as_str()));
        if pid.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
            let _ = std::fs::remove_file(dir.join(&name));
        }
    }
}

/// No manifest: a fresh start is fine only if no data file of this prefix is there either.
pub fn without_manifest(dir: &Path, prefix: &str, mpath: &Path) -> Result<(), String> {
    let files = data_files(dir, prefix)?;
    let Some((first, _)) = files.first() else {
        return Ok(());
    };
    Err(format!(
        "{FATAL} The AOF manifest file {} doesn't exist, but {} holds {} AOF file(s) ({first}, \
         ...): refusing to start with an empty data set. Restore the manifest, or move the \
         files away to start empty.",
        mpath.display(),
        dir.display(),
        files.len()
    ))
}

/// The manifest names a complete set: entries, one base at most per shard, no duplicate,
/// shards 0..n without a gap (with `shards n` recorded: exactly those n, each with a base and
/// an incr), every file present, and no data file of a shard it omits.
pub fn manifest_against_dir(
    dir: &Path,
    prefix: &str,
    mpath: &Path,
    m: &Manifest,
) -> Result<(), String> {
    let shown = mpath.display();
    if m.files.is_empty() {
        return Err(format!("{FATAL} Found an empty AOF manifest ({shown})"));
    }
    let mut names = BTreeSet::new();
    for f in &m.files {
        if !names.insert(f.name.as_str()) {
            return Err(format!(
                "{FATAL} Found duplicate AOF file {} in the manifest {shown}",
                f.name
            ));
        }
    }
    let shards = m.shards();
    for s in &shards {
        let bases = m
            .files_of(*s)
            .iter()
            .filter(|f| f.kind == FileKind::Base)
            .count();
        if bases > 1 {
            return Err(format!(
                "{FATAL} Found duplicate base file information for shard {s} in the manifest \
                 {shown}"
            ));
        }
    }
    if let Some(gap) = (0..shards.len()).find(|i| !shards.contains(i)) {
        return Err(format!(
            "{FATAL} The AOF manifest {shown} lists no file of shard {gap} (it lists shards \
             {shards:?}): refusing to start without that shard's keys"
        ));
    }
    for f in &m.files {
        if let Err(e) = std::fs::metadata(dir.join(&f.name)) {
            return Err(format!(
                "Unable to obtain the AOF file {} length. stat: {} (listed in {shown})",
                dir.join(&f.name).display(),
                os_reason(&e)
            ));
        }
    }
    for (name, shard) in data_files(dir, prefix)? {
        if !shards.contains(&shard) {
            return Err(format!(
                "{FATAL} {} holds {name} of shard {shard}, which the AOF manifest {shown} does \
                 not list: refusing to start without that shard's keys",
                dir.display()
            ));
        }
    }
    if let Some(n) = m.shards {
        // A manifest that says how many shards wrote it: exactly those, each with its base
        // and its incr file.
        if let Some(&extra) = shards.iter().find(|&&s| s >= n) {
            return Err(format!(
                "{FATAL} The AOF manifest {shown} lists shard {extra}, but says it was written \
                 by {n} shard(s)"
            ));
        }
        for s in 0..n {
            let files = m.files_of(s);
            let has = |k: FileKind| files.iter().any(|f| f.kind == k);
            let missing = if files.is_empty() {
                "no file"
            } else if !has(FileKind::Base) {
                "no base file"
            } else if !has(FileKind::Incr) {
                "no incr file"
            } else {
                continue;
            };
            return Err(format!(
                "{FATAL} The AOF manifest {shown} lists {missing} of shard {s}, but says it \
                 was written by {n} shard(s): refusing to start without that shard's keys"
            ));
        }
    }
    Ok(())
}

/// The OS reason alone, as strerror prints it ("No such file or directory").
fn os_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_file_names() {
        // Guards which names count as data files of a prefix.
        let p = "appendonly.aof";
        let f = parse_file_name;
        assert_eq!(
            f(p, "appendonly.aof.s1.3.incr.aof"),
            Some((1, 3, FileKind::Incr))
        );
        assert_eq!(
            f(p, "appendonly.aof.s0.12.base.aof"),
            Some((0, 12, FileKind::Base))
        );
        assert_eq!(
            f(p, "appendonly.aof.s2.4.base.rdb"),
            Some((2, 4, FileKind::Base))
        );
        assert_eq!(f(p, "appendonly.aof.s2.4.incr.rdb"), None);
        assert_eq!(f(p, "appendonly.aof.manifest"), None);
        assert_eq!(f(p, "temp-appendonly.aof.s0.1.base.aof"), None);
        assert_eq!(f(p, "appendonly.aof.s0.1.rdb.aof"), None);
        assert_eq!(f(p, "appendonly.aof.s0.1.base.aof.x.aof"), None);
        assert_eq!(f("other.aof", "appendonly.aof.s0.1.base.aof"), None);
    }
}
