//! Issue 16 (see /work/notes/i16/api.md for the owner of this file).
