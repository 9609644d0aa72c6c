//! Issue 17: monitor (filled in by its part).
