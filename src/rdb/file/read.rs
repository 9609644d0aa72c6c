//! Reading an RDB file's items back (part A of issue 16 fills this in; see
//! /work/notes/i16/api.md for the contract).
