//! The socket side of a shard: the io_uring event loop, connections and their reply order, the
//! provided-buffer ring, and socket set-up. This is the seam behind which the hot path lives.

pub mod bufring;
pub mod conn;
pub mod obuf;
pub mod prefetch;
pub mod protected;
pub mod reactor;
pub mod socket;
