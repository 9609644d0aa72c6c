//! Issue 17: sentinel (filled in by its part).
