//! Loading RDB data into the shards: `dump.rdb` at start, RDB bases of AOFs (slotd's and
//! Redis'), DEBUG RELOAD, and a replica's full-sync payload (issue 16, part C; contract in
//! /work/notes/i16/api.md).
