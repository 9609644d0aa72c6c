//! nodes.conf: Redis 7 format, written atomically and read back at start.
