//! The command kit: what every command family uses to read its arguments and reach its data,
//! so a handler is a short ladder of argument reads followed by the work.
//!
//! - `cursor`: one argument cursor over `Args`, every failure Redis' exact error as data;
//! - `number`: Redis' number readers and writers (`strtod`, `long double`, `%.17g`);
//! - `access`: the db-and-output accessor on `Exec` (the keyspace of a key and the reply at
//!   once) and the shard's random numbers;
//! - `rng` (a leaf, `crate::rng`): the one random generator each shard owns (`Shard.rng`);
//! - `random`: random-count arguments (SRANDMEMBER, HRANDFIELD, ZRANDMEMBER) and their bound;
//! - `numkeys`: key-count-led forms (LMPOP/ZMPOP and their blocking forms, SINTERCARD);
//! - `scan`: the SCAN family's options (MATCH, COUNT, TYPE) and reply shape;
//! - `slot`: hash-slot arguments (`ArgCursor::next_slot`).
//!
//! Nothing here knows a command family; families never redeclare these helpers.

pub(crate) mod access;
pub(crate) mod cursor;
pub mod number;
pub(crate) mod numkeys;
pub(crate) mod random;
pub(crate) mod scan;
mod slot;

pub use crate::rng::Rng;
pub(crate) use cursor::ArgCursor;
