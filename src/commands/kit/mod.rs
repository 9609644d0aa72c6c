//! The command kit: what every command family uses to read its arguments and reach its data,
//! so a handler is a short ladder of argument reads followed by the work.
//!
//! - `cursor`: one argument cursor over `Args`, every failure Redis' exact error as data;
//! - `number`: Redis' number readers and writers (`strtod`, `long double`, `%.17g`);
//! - `access`: the db-and-output accessor on `Exec` (the keyspace of a key and the reply at
//!   once) and the shard's random numbers;
//! - `rng`: the one random generator each shard owns (`Shard.rng`).
//!
//! Nothing here knows a command family; families never redeclare these helpers.

pub(crate) mod access;
pub(crate) mod cursor;
pub mod number;
pub mod rng;

#[allow(unused_imports)] // the families adopt it in the following commits
pub(crate) use cursor::ArgCursor;
pub use rng::Rng;
