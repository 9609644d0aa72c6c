//! Writing `dump.rdb` without fork: SAVE, BGSAVE, save points, the save at shutdown (issue
//! 16, part B; contract in /work/notes/i16/api.md).
