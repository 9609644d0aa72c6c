//! Issue 17: notifications (filled in by its part).
