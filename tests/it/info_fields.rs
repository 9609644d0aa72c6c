//! Issue 17: info fields (filled in by its part).
