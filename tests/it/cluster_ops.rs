//! Issue 17: cluster ops (filled in by its part).
