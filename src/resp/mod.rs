//! RESP, the Redis wire protocol: an incremental parser for requests and a writer for replies
//! in RESP2 and RESP3. Pure code: no sockets, no keyspace. Reply error texts live in `error`.

pub mod error;
pub mod keyidx;
pub mod parse;
pub mod write;

pub use error::ReplyError;
pub use keyidx::KeyIdx;
pub use parse::{Args, OwnedArgs, ParseOutcome, Parser};
pub use write::{Out, Proto};
