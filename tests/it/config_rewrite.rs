//! Issue 17: config rewrite (filled in by its part).
