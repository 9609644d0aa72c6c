//! A MULTI ... EXEC block of the master's stream (a script's writes, an EXEC), collected by
//! the link until its EXEC so that it reaches the shards whole, in one batch, and is applied
//! as one unit (`dispatch::apply_block`): a reader on this replica never sees half of it.
//! Which shards it touches decides where it goes: one shard applies it alone, several are
//! parked by the first of them. A block past `REPL_BLOCK_BYTES_MAX` breaks the link, as a
//! protocol error does (fail closed: nothing of it was applied or acknowledged).
//!
//! Pure bookkeeping: no socket, no mesh.

use crate::constants::REPL_BLOCK_BYTES_MAX;
use crate::dispatch::replay::{self, Record};
use crate::resp::Args;

/// The record opens a block (`MULTI` alone).
pub fn is_multi(args: Args<'_>) -> bool {
    args.len() == 1 && args.get(0).eq_ignore_ascii_case(b"MULTI")
}

/// The record closes a block (`EXEC` alone).
pub fn is_exec(args: Args<'_>) -> bool {
    args.len() == 1 && args.get(0).eq_ignore_ascii_case(b"EXEC")
}

/// A block being collected.
pub struct Block {
    /// Its records as the master sent them, MULTI first.
    pub data: Vec<u8>,
    /// The master's database when it began (its SELECTs inside are part of `data`).
    pub db: u32,
    /// Indexed by shard id: the block has a record for that shard.
    touched: Vec<bool>,
    /// Its bound (`REPL_BLOCK_BYTES_MAX`; smaller in tests).
    max_bytes: usize,
}

impl Block {
    pub fn new(shards: usize, db: u32) -> Block {
        Self::bounded(shards, db, REPL_BLOCK_BYTES_MAX)
    }

    fn bounded(shards: usize, db: u32, max_bytes: usize) -> Block {
        Block {
            data: Vec::new(),
            db,
            touched: vec![false; shards],
            max_bytes,
        }
    }

    /// Adds one record; Err (the link breaks) when the block grew past its bound.
    pub fn push(&mut self, args: Args<'_>, raw: &[u8]) -> Result<(), String> {
        if self.data.len() + raw.len() > self.max_bytes {
            return Err(format!(
                "a MULTI/EXEC block in the stream is larger than {} bytes",
                self.max_bytes
            ));
        }
        self.data.extend_from_slice(raw);
        let n = self.touched.len();
        let name = args.get(0);
        if crate::dispatch::apply_block::everywhere(args) {
            self.touched.iter_mut().for_each(|t| *t = true);
        } else if name.eq_ignore_ascii_case(b"FUNCTION")
            || crate::dispatch::apply::publish_kind(args).is_some()
        {
            // Function libraries are node-wide: shard 0 applies their changes; any shard can
            // deliver a message, shard 0 does.
            self.touched[0] = true;
        } else if let Ok(Record::Keyed(spec)) = replay::classify(args) {
            for id in replay::record_shards(spec, args, n).unwrap_or_default() {
                self.touched[id] = true;
            }
        }
        Ok(())
    }

    /// The shards it touches, ascending.
    pub fn shards(&self) -> Vec<usize> {
        (0..self.touched.len())
            .filter(|&i| self.touched[i])
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::OwnedArgs;

    /// Pushes one record (its RESP form as the raw bytes).
    fn push(b: &mut Block, argv: &[&str]) -> Result<(), String> {
        let parts: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
        let owned = OwnedArgs::from_slices(&parts);
        let mut raw = Vec::new();
        crate::aof_store::journal::encode(&mut raw, &parts);
        b.push(owned.args(), &raw)
    }

    /// A key that shard `id` of `n` owns.
    fn key_on(id: usize, n: usize) -> String {
        (0..)
            .map(|i| format!("k{i}"))
            .find(|k| {
                let slot = crate::cluster::hash_slot::key_hash_slot(k.as_bytes());
                crate::topology::shard_of(slot, n) == id
            })
            .expect("a key")
    }

    #[test]
    fn a_block_knows_the_shards_it_touches() {
        // Guards where a block goes: the owners of its keys, every shard for a flush, shard 0
        // for a function change; SELECT and PING touch none.
        let mut b = Block::new(3, 0);
        push(&mut b, &["MULTI"]).unwrap();
        push(&mut b, &["SELECT", "2"]).unwrap();
        push(&mut b, &["INCR", &key_on(2, 3)]).unwrap();
        push(&mut b, &["PING"]).unwrap();
        assert_eq!(b.shards(), vec![2]);
        push(&mut b, &["MSET", &key_on(0, 3), "1", &key_on(2, 3), "2"]).unwrap();
        assert_eq!(b.shards(), vec![0, 2]);
        push(&mut b, &["FLUSHDB"]).unwrap();
        assert_eq!(b.shards(), vec![0, 1, 2]);
        let mut f = Block::new(3, 0);
        push(&mut f, &["FUNCTION", "DELETE", "lib"]).unwrap();
        assert_eq!(f.shards(), vec![0]);
        let mut p = Block::new(3, 0);
        push(&mut p, &["publish", "ch", "msg"]).unwrap();
        assert_eq!(p.shards(), vec![0]);
    }

    #[test]
    fn a_block_past_its_bound_is_refused() {
        // Guards the fail-closed bound: the record that would pass it is an error (the link
        // breaks) and is not kept.
        let mut b = Block::bounded(2, 0, 64);
        push(&mut b, &["MULTI"]).unwrap();
        push(&mut b, &["SET", "a", "b"]).unwrap();
        let kept = b.data.len();
        let e = push(&mut b, &["SET", "key", &"x".repeat(64)]).unwrap_err();
        assert_eq!(
            e,
            "a MULTI/EXEC block in the stream is larger than 64 bytes"
        );
        assert_eq!(b.data.len(), kept);
        assert!(is_multi(OwnedArgs::from_slices(&[b"multi"]).args()));
        assert!(!is_exec(OwnedArgs::from_slices(&[b"EXEC", b"x"]).args()));
    }
}
