//! SLOWLOG GET/LEN/RESET/HELP: the commands slower than `slowlog-log-slower-than`, node-wide.

use super::spec::CommandSpec;

/// Filled in by its part (issue 17).
pub static COMMANDS: &[CommandSpec] = &[];
