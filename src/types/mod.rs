//! The collection value types (hash, list, set, sorted set): data structures and their pure
//! operations, independent of commands and of the keyspace.

pub mod bits;
pub mod geohash;
pub mod hash;
pub mod hll;
pub mod list;
pub mod listpack;
pub mod set;
pub mod stream;
pub mod zset;

/// `sum` over `seen` elements extrapolated to `total` (0 when nothing was seen): MEMORY
/// USAGE's sampled sizes of big collections.
pub(crate) fn scale(sum: usize, seen: usize, total: usize) -> usize {
    if seen == 0 {
        0
    } else {
        (sum as f64 / seen as f64 * total as f64) as usize
    }
}
