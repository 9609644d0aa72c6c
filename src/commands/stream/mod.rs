//! Stream commands (XADD, XRANGE, XREAD, consumer groups, XINFO...): being built for issue 15.

use super::CommandSpec;

/// The stream commands that never block.
pub static COMMANDS: &[CommandSpec] = &[];
/// XREAD and XREADGROUP, which may block.
pub static BLOCKING_COMMANDS: &[CommandSpec] = &[];
