//! MONITOR, RESET and LOLWUT: the connection-level commands of operators' tools.

use super::spec::CommandSpec;

/// Filled in by its part (issue 17).
pub static COMMANDS: &[CommandSpec] = &[];
