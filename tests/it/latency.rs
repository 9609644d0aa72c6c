//! Issue 17: latency (filled in by its part).
