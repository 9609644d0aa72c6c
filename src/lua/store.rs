//! The node-wide script cache and function libraries: a script loaded on any connection, and a
//! library loaded by FUNCTION LOAD, is visible from every core. Each shard's VM compiles what
//! it runs from here and notices changes through the epoch and version counters.

use super::ScriptFlags;
use hashbrown::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// A script's name: the SHA1 of its body, 40 lowercase hex characters.
pub type Sha = [u8; 40];

/// The SHA1 of `body` as EVALSHA names it.
pub fn sha_of(body: &[u8]) -> Sha {
    let hex = sha1_smol::Sha1::from(body).digest().to_string();
    let mut sha = [0u8; 40];
    sha.copy_from_slice(hex.as_bytes());
    sha
}

/// Lowercases a user-given SHA (EVALSHA and SCRIPT EXISTS accept either case); None unless it
/// is exactly 40 bytes.
pub fn parse_sha(raw: &[u8]) -> Option<Sha> {
    let mut sha: Sha = raw.try_into().ok()?;
    sha.make_ascii_lowercase();
    Some(sha)
}

/// One cached EVAL script.
pub struct Script {
    pub sha: Sha,
    pub body: Box<[u8]>,
    /// Its shebang flags (the engine parses them when the script is first compiled).
    pub flags: ScriptFlags,
}

/// One function of a library.
#[derive(Clone, Debug)]
pub struct FunctionMeta {
    pub name: String,
    pub description: Option<String>,
    pub flags: ScriptFlags,
}

/// One library as FUNCTION LOAD accepted it.
#[derive(Clone, Debug)]
pub struct Library {
    pub name: String,
    /// "LUA", the only engine.
    pub engine: String,
    pub code: Box<[u8]>,
    pub functions: Vec<FunctionMeta>,
}

/// Every library, by name, replaced as a whole on each change (copy on write).
pub type Libraries = HashMap<String, Library>;

#[derive(Default)]
pub struct ScriptStore {
    scripts: RwLock<HashMap<Sha, Arc<Script>>>,
    /// Bumped by SCRIPT FLUSH: a VM that saw an older epoch drops what it compiled.
    epoch: AtomicU64,
    libs: RwLock<Arc<Libraries>>,
    /// Bumped by every library change: a VM that loaded an older version reloads.
    libs_version: AtomicU64,
}

impl ScriptStore {
    /// The script named `sha`, if loaded.
    pub fn get(&self, sha: &Sha) -> Option<Arc<Script>> {
        self.scripts.read().unwrap().get(sha).cloned()
    }

    pub fn exists(&self, sha: &Sha) -> bool {
        self.scripts.read().unwrap().contains_key(sha)
    }

    /// Adds (or finds) a script; returns it.
    pub fn insert(&self, body: &[u8], flags: ScriptFlags) -> Arc<Script> {
        let sha = sha_of(body);
        let mut map = self.scripts.write().unwrap();
        map.entry(sha)
            .or_insert_with(|| {
                Arc::new(Script {
                    sha,
                    body: body.into(),
                    flags,
                })
            })
            .clone()
    }

    /// Number of cached scripts (INFO memory `number_of_cached_scripts`).
    pub fn len(&self) -> usize {
        self.scripts.read().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of cached script bodies (INFO memory `used_memory_scripts_eval` counts these).
    pub fn body_bytes(&self) -> usize {
        let map = self.scripts.read().unwrap();
        map.values().map(|s| s.body.len()).sum()
    }

    /// SCRIPT FLUSH: forgets every script; returns what was dropped (for lazy freeing).
    pub fn flush(&self) -> HashMap<Sha, Arc<Script>> {
        let old = std::mem::take(&mut *self.scripts.write().unwrap());
        self.epoch.fetch_add(1, Ordering::AcqRel);
        old
    }

    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// The libraries in force.
    pub fn libraries(&self) -> Arc<Libraries> {
        self.libs.read().unwrap().clone()
    }

    /// Replaces the libraries (FUNCTION LOAD/DELETE/FLUSH/RESTORE, after every check passed).
    pub fn set_libraries(&self, libs: Libraries) {
        let mut cur = self.libs.write().unwrap();
        *cur = Arc::new(libs);
        self.libs_version.fetch_add(1, Ordering::AcqRel);
    }

    pub fn libs_version(&self) -> u64 {
        self.libs_version.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha_matches_redis_for_a_known_script() {
        // SCRIPT LOAD "return 1" in redis-server 7.0.
        assert_eq!(
            &sha_of(b"return 1"),
            b"e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
        );
        assert_eq!(
            parse_sha(b"E0E1F9FABFC9D4800C877A703B823AC0578FF8DB"),
            Some(sha_of(b"return 1"))
        );
        assert_eq!(parse_sha(b"e0e1"), None);
    }

    #[test]
    fn insert_is_idempotent_and_flush_bumps_the_epoch() {
        let s = ScriptStore::default();
        let a = s.insert(b"return 1", ScriptFlags::default());
        let b = s.insert(b"return 1", ScriptFlags::default());
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(s.len(), 1);
        let e = s.epoch();
        assert_eq!(s.flush().len(), 1);
        assert!(s.is_empty());
        assert!(s.epoch() > e);
    }
}
