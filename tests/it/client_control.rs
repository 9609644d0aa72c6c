//! Issue 17: client control (filled in by its part).
