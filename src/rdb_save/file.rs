//! One RDB file being written: a temp file in the target's directory that receives the bytes
//! (keeping the CRC-64 of all of them), then the footer, fsync, rename over the target and an
//! fsync of the directory, so the target is always either the old file or the whole new one.
//! A file dropped before `finish` is removed.

use crate::rdb::crc64::crc64;
use crate::rdb::file::write::put_footer;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Bytes buffered before a write(2).
const WRITE_BUF_BYTES: usize = 1 << 20;

pub struct RdbFile {
    out: Option<BufWriter<File>>,
    temp: PathBuf,
    target: PathBuf,
    crc: u64,
    checksum: bool,
    pub written_bytes: u64,
}

impl RdbFile {
    /// Creates `temp_name` beside `target` (Redis names it `temp-<pid>.rdb`).
    pub fn create(target: &Path, temp_name: &str, checksum: bool) -> Result<RdbFile, String> {
        let dir = parent_of(target);
        let temp = dir.join(temp_name);
        let f = File::create(&temp).map_err(|e| {
            format!(
                "Failed opening the temp RDB file {temp_name} (in server root dir {}) for \
                 saving: {e}",
                dir.display()
            )
        })?;
        Ok(RdbFile {
            out: Some(BufWriter::with_capacity(WRITE_BUF_BYTES, f)),
            temp,
            target: target.to_path_buf(),
            crc: 0,
            checksum,
            written_bytes: 0,
        })
    }

    pub fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        if self.checksum {
            self.crc = crc64(self.crc, bytes);
        }
        self.written_bytes += bytes.len() as u64;
        let out = self.out.as_mut().ok_or("the RDB file is closed")?;
        out.write_all(bytes)
            .map_err(|e| format!("Write error saving DB on disk: {e}"))
    }

    /// Footer, flush, fsync, rename over the target, fsync of the directory.
    pub fn finish(mut self) -> Result<u64, String> {
        let mut tail = Vec::with_capacity(9);
        put_footer(&mut tail, self.crc, self.checksum);
        self.write(&tail)?;
        let out = self.out.take().ok_or("the RDB file is closed")?;
        let f = out
            .into_inner()
            .map_err(|e| format!("Write error saving DB on disk: {}", e.error()))?;
        f.sync_all()
            .map_err(|e| format!("Write error saving DB on disk: {e}"))?;
        drop(f);
        let dir = parent_of(&self.target);
        if let Err(e) = std::fs::rename(&self.temp, &self.target) {
            let _ = std::fs::remove_file(&self.temp);
            return Err(format!(
                "Error moving temp DB file {} on the final destination {} (in server root dir \
                 {}): {}",
                file_name(&self.temp),
                file_name(&self.target),
                dir.display(),
                plain_io_error(&e)
            ));
        }
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| format!("Failed to fsync directory {}: {e}", dir.display()))?;
        Ok(self.written_bytes)
    }
}

impl Drop for RdbFile {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

fn parent_of(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The error text C's strerror gives ("Is a directory"), without Rust's "(os error N)".
fn plain_io_error(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finished_file_replaces_target_and_dropped_one_leaves_nothing() {
        // Guards atomicity: the target changes only at finish; an abandoned temp is removed.
        let dir = std::env::temp_dir().join(format!("slotd-rdbfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("dump.rdb");
        std::fs::write(&target, b"old").unwrap();
        let mut f = RdbFile::create(&target, "temp-1.rdb", true).unwrap();
        f.write(b"REDIS0010").unwrap();
        drop(f);
        assert!(!dir.join("temp-1.rdb").exists());
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        let mut f = RdbFile::create(&target, "temp-1.rdb", true).unwrap();
        f.write(b"REDIS0010").unwrap();
        f.finish().unwrap();
        let got = std::fs::read(&target).unwrap();
        assert_eq!(&got[..10], b"REDIS0010\xff");
        let crc = crc64(0, &got[..10]);
        assert_eq!(got[10..], crc.to_le_bytes());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
