//! Batch prefetch (Valkey 8's idea for pipelines): when one read holds several complete
//! commands, a look-ahead pass finds the keys of its GET and SET commands, hints the home
//! bucket of each key this shard owns and then the block each bucket points to, so the cache
//! misses of the whole batch overlap before the commands run one by one as usual. Hints
//! only: nothing here changes a result. Measured in docs/memory-layout.md.

use crate::keyspace::db::Db;
use crate::resp::{Args, ParseOutcome, Parser};

/// Commands looked at per read (redis-benchmark's -P 16 batches fit).
const BATCH_MAX: usize = 16;

/// Hints the buckets, then the blocks, of the GET/SET keys in the complete commands at the
/// start of `src` (which begins at a frame start); nothing when it holds a single command.
#[inline]
pub fn batch(ahead: &mut Parser, db: &Db, src: &[u8], max_bulk: u64) {
    let mut found = [(0usize, 0u64); BATCH_MAX];
    let mut n = 0;
    let cmds = each_key(ahead, src, max_bulk, |key| {
        if let Some(th) = db.prefetch_bucket(key) {
            found[n] = th;
            n += 1;
        }
    });
    if cmds < 2 {
        return;
    }
    for &(t, h) in &found[..n] {
        db.prefetch_block(t, h);
    }
}

/// Parses up to BATCH_MAX complete commands of `src` with `ahead` and gives `key` the key of
/// each GET and SET; returns the commands parsed, or 1 when the first one is all of `src`
/// (the unpipelined case stops there, before any key is hashed).
fn each_key(ahead: &mut Parser, src: &[u8], max_bulk: u64, mut key: impl FnMut(&[u8])) -> usize {
    ahead.reset();
    let (mut off, mut cmds) = (0, 0);
    while cmds < BATCH_MAX {
        let ParseOutcome::Command { consumed } = ahead.parse_as(&src[off..], max_bulk, false)
        else {
            break;
        };
        if cmds == 0 && consumed == src.len() {
            return 1;
        }
        let args = Args::new(&src[off..], ahead.ranges());
        if args.len() >= 2 {
            let name = args.get(0);
            if name.eq_ignore_ascii_case(b"get") || name.eq_ignore_ascii_case(b"set") {
                key(args.get(1));
            }
        }
        off += consumed;
        cmds += 1;
    }
    cmds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(src: &[u8]) -> (usize, Vec<Vec<u8>>) {
        let mut ahead = Parser::new();
        let mut out = Vec::new();
        let n = each_key(&mut ahead, src, 512 << 20, |k| out.push(k.to_vec()));
        (n, out)
    }

    #[test]
    fn look_ahead_finds_get_and_set_keys_of_complete_commands() {
        // Guards the look-ahead: GET/SET keys of complete commands only, other commands
        // counted but skipped, the incomplete tail left alone, and a lone command not hashed.
        let src = b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n*1\r\n$4\r\nPING\r\n\
                    *3\r\n$3\r\nset\r\n$2\r\nbb\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$2\r\ncc";
        assert_eq!(keys(src), (3, vec![b"a".to_vec(), b"bb".to_vec()]));
        assert_eq!(keys(b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n"), (1, vec![]));
        assert_eq!(
            keys(b"GET a\r\nGET b\r\n"),
            (2, vec![b"a".to_vec(), b"b".to_vec()])
        );
        let many = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n".repeat(40);
        assert_eq!(keys(&many).0, BATCH_MAX);
    }

    #[test]
    fn batch_leaves_the_keyspace_as_it_was() {
        // Guards that the hints read only: the keys and values are unchanged afterwards.
        let mut db = Db::new(0, 1);
        db.set_str(b"a", b"1", 0, 1);
        db.set_str(b"bb", b"2", 0, 1);
        let src = b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$2\r\nbb\r\n\
                    *2\r\n$3\r\nGET\r\n$4\r\nnone\r\n";
        batch(&mut Parser::new(), &db, src, 512 << 20);
        assert_eq!(db.len(), 2);
        assert!(db.contains(b"a", 1) && db.contains(b"bb", 1) && !db.contains(b"none", 1));
    }
}
