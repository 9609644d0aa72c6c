//! Issue 17: slowlog (filled in by its part).
