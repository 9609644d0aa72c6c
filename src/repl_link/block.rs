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
}

impl Block {
    pub fn new(shards: usize, db: u32) -> Block {
        Block {
            data: Vec::new(),
            db,
            touched: vec![false; shards],
        }
    }

    /// Adds one record; Err (the link breaks) when the block grew past its bound.
    pub fn push(&mut self, args: Args<'_>, raw: &[u8]) -> Result<(), String> {
        if self.data.len() + raw.len() > REPL_BLOCK_BYTES_MAX {
            return Err(format!(
                "a MULTI/EXEC block in the stream is larger than {REPL_BLOCK_BYTES_MAX} bytes"
            ));
        }
        self.data.extend_from_slice(raw);
        let n = self.touched.len();
        let name = args.get(0);
        if crate::dispatch::apply_block::everywhere(args) {
            self.touched.iter_mut().for_each(|t| *t = true);
        } else if name.eq_ignore_ascii_case(b"FUNCTION") {
            // Function libraries are node-wide: shard 0 applies their changes.
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
