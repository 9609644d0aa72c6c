//! Issue 17: tracking (filled in by its part).
