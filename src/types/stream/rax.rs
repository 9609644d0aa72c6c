//! The node count of the radix tree Redis keeps a stream's nodes in (XINFO STREAM's
//! `radix-tree-nodes`). slotd keeps its nodes in a sorted array, so the count is derived: the
//! nodes of a fully compressed radix tree over the 16-byte big-endian master IDs (a node where
//! keys branch, the chain leading to it when it is not the root, and one leaf per key). Checked
//! against redis-server 7.0 over random append, XDEL and trim histories, where Redis' tree
//! always was in that compressed form.

/// Key length: a stream ID as 16 big-endian bytes.
const KEY_BYTES: usize = 16;

/// Nodes of the tree holding `keys` (sorted, distinct); an empty tree is its root alone.
pub fn node_count(keys: &[[u8; KEY_BYTES]]) -> usize {
    if keys.is_empty() {
        return 1;
    }
    below(keys, 0)
}

/// Nodes at and under the position `depth` bytes into `keys` (which share that prefix).
fn below(keys: &[[u8; KEY_BYTES]], depth: usize) -> usize {
    let (first, last) = (&keys[0], &keys[keys.len() - 1]);
    if keys.len() == 1 {
        // A chain to the leaf, or the leaf itself.
        return if depth == KEY_BYTES { 1 } else { 2 };
    }
    let split = (depth..KEY_BYTES)
        .find(|&i| first[i] != last[i])
        .unwrap_or(KEY_BYTES - 1);
    let mut n = if split > depth { 2 } else { 1 };
    let mut start = 0;
    while start < keys.len() {
        let b = keys[start][split];
        let len = keys[start..].iter().take_while(|k| k[split] == b).count();
        n += below(&keys[start..start + len], split + 1);
        start += len;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ms: u64, seq: u64) -> [u8; 16] {
        crate::types::stream::StreamId::new(ms, seq).to_be_bytes()
    }

    #[test]
    fn counts_match_redis_examples() {
        // Guards the counts redis-server 7.0 reports for small trees.
        assert_eq!(node_count(&[]), 1);
        assert_eq!(node_count(&[key(1, 0)]), 2);
        // Differ in the last byte only: chain, branch, two leaves.
        assert_eq!(node_count(&[key(1, 0), key(1, 1)]), 4);
        // Differ in the first byte: root branches, two chains, two leaves.
        assert_eq!(node_count(&[key(0, 0), key(1 << 56, 0)]), 5);
        assert_eq!(node_count(&[key(1, 0), key(1, 1), key(1, 2)]), 5);
    }
}
