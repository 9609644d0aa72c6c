//! The command kit: what every command family uses to read its arguments and reach its data,
//! so a handler is a short ladder of argument reads followed by the work.
//!
//! - `cursor`: one argument cursor over `Args`, every failure Redis' exact error as data;
//! - `number`: Redis' number readers and writers (`strtod`, `long double`, `%.17g`);
//! - `access`: the db-and-output accessor on `Exec` (the keyspace of a key and the reply at
//!   once) and the shard's random numbers;
//! - `random`: the random-member commands' count argument (the generator itself is the
//!   shard's, `shard::rng`, re-exported here as `Rng`);
//! - `numkeys`: key-count-led forms (LMPOP/ZMPOP and their blocking forms, SINTERCARD);
//! - `scan`: the SCAN family's options (MATCH, COUNT, TYPE) and reply shape.
//!
//! Nothing here knows a command family; families never redeclare these helpers.

pub(crate) mod access;
pub(crate) mod cursor;
pub mod number;
pub(crate) mod numkeys;
pub(crate) mod random;
pub(crate) mod scan;

pub use crate::shard::rng::Rng;
pub(crate) use cursor::ArgCursor;
