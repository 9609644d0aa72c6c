//! Boot and shutdown: config, memlock, listener, shards and bus threads, signals.

/// Runs slotd with command-line arguments (without the program name); returns the exit code.
pub fn main_with_args(_args: &[String]) -> i32 {
    0
}
