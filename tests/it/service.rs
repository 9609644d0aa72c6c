//! Issue 17: service (filled in by its part).
