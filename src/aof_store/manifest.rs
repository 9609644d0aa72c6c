//! The AOF manifest: which base and incr files make up each shard's log. Redis 7's manifest
//! syntax with two more keys: `shard` (whose file) and `shards` (how many shards wrote the
//! manifest, on every line, so a manifest missing a shard's lines is detected). Parsing and formatting are pure; `save` replaces the file
//! atomically (temp file, fsync, rename, fsync of the directory).

use std::io::Write;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Base,
    Incr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEntry {
    pub name: String,
    pub seq: u64,
    pub kind: FileKind,
    pub shard: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub files: Vec<FileEntry>,
    /// The number of shards that wrote it (every line's `shards`); None in a manifest written
    /// before slotd recorded it.
    pub shards: Option<usize>,
    /// Written by redis-server (no line has a `shard` key): one log, read as shard 0's, and
    /// rewritten in slotd's layout once loaded.
    pub redis_layout: bool,
}

/// `appendonly.aof.s3.7.base.aof`
pub fn file_name(prefix: &str, shard: usize, seq: u64, kind: FileKind) -> String {
    let k = match kind {
        FileKind::Base => "base",
        FileKind::Incr => "incr",
    };
    format!("{prefix}.s{shard}.{seq}.{k}.aof")
}

/// `appendonly.aof.s3.7.base.rdb`: a base in RDB format (`aof-use-rdb-preamble yes`).
pub fn rdb_base_name(prefix: &str, shard: usize, seq: u64) -> String {
    format!("{prefix}.s{shard}.{seq}.base.rdb")
}

pub fn manifest_name(prefix: &str) -> String {
    format!("{prefix}.manifest")
}

impl Manifest {
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let f: Vec<&str> = line.split_whitespace().collect();
            let bad = || {
                format!(
                    "Invalid AOF manifest file format at line {}: '{line}'",
                    i + 1
                )
            };
            if !f.len().is_multiple_of(2) {
                return Err(bad());
            }
            let (mut name, mut seq, mut kind, mut shard) = (None, None, None, Some(0usize));
            let mut count: Option<Option<usize>> = None;
            let (mut history, mut sharded) = (false, false);
            for kv in f.chunks(2) {
                match kv[0] {
                    "file" => name = Some(kv[1].to_string()),
                    "seq" => seq = kv[1].parse().ok(),
                    "type" => {
                        history = kv[1] == "h";
                        kind = match kv[1] {
                            "b" => Some(FileKind::Base),
                            "i" => Some(FileKind::Incr),
                            _ => None,
                        }
                    }
                    "shard" => {
                        sharded = true;
                        shard = kv[1].parse().ok()
                    }
                    "shards" => count = Some(kv[1].parse().ok().filter(|&n| n > 0)),
                    _ => {} // unknown keys are ignored, as Redis does
                }
            }
            if history {
                // A file a Redis rewrite left for deletion: no data of the log (Redis deletes
                // it at start; slotd's relayout does).
                continue;
            }
            // Every line states the same shard count, or none does.
            let count = match count {
                None => None,
                Some(None) => return Err(bad()),
                Some(Some(n)) => Some(n),
            };
            if m.files.is_empty() {
                m.shards = count;
            } else if m.shards != count {
                return Err(format!(
                    "{} (its lines disagree on the number of shards)",
                    bad()
                ));
            }
            if m.files.is_empty() {
                m.redis_layout = !sharded;
            } else if m.redis_layout == sharded {
                return Err(format!("{} (only some lines name a shard)", bad()));
            }
            match (name, seq, kind, shard) {
                (Some(name), Some(seq), Some(kind), Some(shard))
                    if !name.contains('/') && !name.is_empty() =>
                {
                    m.files.push(FileEntry {
                        name,
                        seq,
                        kind,
                        shard,
                    })
                }
                _ => return Err(bad()),
            }
        }
        Ok(m)
    }

    pub fn format(&self) -> String {
        let mut s = String::new();
        for f in &self.files {
            let t = match f.kind {
                FileKind::Base => "b",
                FileKind::Incr => "i",
            };
            s.push_str(&format!(
                "file {} seq {} type {t} shard {}",
                f.name, f.seq, f.shard
            ));
            if let Some(n) = self.shards {
                s.push_str(&format!(" shards {n}"));
            }
            s.push('\n');
        }
        s
    }

    /// Shards named in the manifest, sorted.
    pub fn shards(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.files.iter().map(|f| f.shard).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The files of one shard in replay order: its base, then its incr files by seq.
    pub fn files_of(&self, shard: usize) -> Vec<&FileEntry> {
        let mut v: Vec<&FileEntry> = self.files.iter().filter(|f| f.shard == shard).collect();
        v.sort_by_key(|f| (f.kind == FileKind::Incr, f.seq));
        v
    }

    /// Replaces every entry of `shard` with `entries`.
    pub fn replace_shard(&mut self, shard: usize, entries: Vec<FileEntry>) {
        self.files.retain(|f| f.shard != shard);
        self.files.extend(entries);
        self.files
            .sort_by_key(|f| (f.shard, f.kind == FileKind::Incr, f.seq));
    }
}

/// Writes `data` to `dir/name` atomically: temp file, fsync, rename, fsync the directory.
pub fn write_atomically(dir: &Path, name: &str, data: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!("temp-{name}.{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(name))?;
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_order() {
        // Guards the manifest syntax and replay order (base first, then incr by seq).
        let mut m = Manifest::default();
        m.replace_shard(
            1,
            vec![
                FileEntry {
                    name: file_name("a", 1, 3, FileKind::Incr),
                    seq: 3,
                    kind: FileKind::Incr,
                    shard: 1,
                },
                FileEntry {
                    name: file_name("a", 1, 3, FileKind::Base),
                    seq: 3,
                    kind: FileKind::Base,
                    shard: 1,
                },
            ],
        );
        let text = m.format();
        assert_eq!(text, "file a.s1.3.base.aof seq 3 type b shard 1\nfile a.s1.3.incr.aof seq 3 type i shard 1\n");
        let back = Manifest::parse(&text).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.files_of(1)[0].kind, FileKind::Base);
        assert!(Manifest::parse("file x seq 1 type q\n").is_err());
        // The shard count: written on every line, and the lines must agree.
        m.shards = Some(2);
        let text = m.format();
        assert!(
            text.lines().all(|l| l.ends_with(" shard 1 shards 2")),
            "{text}"
        );
        assert_eq!(Manifest::parse(&text).unwrap(), m);
        let mixed = "file a seq 1 type b shards 2\nfile b seq 1 type i shard 1\n";
        assert!(Manifest::parse(mixed).unwrap_err().contains("disagree"));
        assert!(Manifest::parse("file a seq 1 type b shards 0\n").is_err());
        assert!(Manifest::parse("file a seq 1 type b shards x\n").is_err());
        assert!(Manifest::parse("file ../x seq 1 type b\n").is_err());
        // Redis 7's own manifest: no shard keys, history lines skipped.
        let redis = "file appendonly.aof.2.base.rdb seq 2 type b\n\
                     file appendonly.aof.1.incr.aof seq 1 type h\n\
                     file appendonly.aof.2.incr.aof seq 2 type i\n";
        let r = Manifest::parse(redis).unwrap();
        assert!(r.redis_layout && !back.redis_layout);
        assert_eq!(r.files.len(), 2);
        assert_eq!(r.files_of(0)[0].name, "appendonly.aof.2.base.rdb");
        let mixed = "file a seq 1 type b shard 0\nfile b seq 1 type i\n";
        assert!(Manifest::parse(mixed).unwrap_err().contains("only some"));
    }
}
